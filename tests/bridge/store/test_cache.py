"""The read-through cache keeps no value read across a drop: a read yields while the
database answers, and what it read before the change would be kept until the next one."""

from __future__ import annotations

import pytest

from bridge.store.cache import Cache


@pytest.fixture
def cache() -> Cache[str, str]:
    made: Cache[str, str] = Cache()
    made.enabled = True
    return made


def test_a_read_is_kept_and_served_until_dropped(cache):
    reads = []

    def read() -> str:
        reads.append(1)
        return f"v{len(reads)}"

    assert cache.fill("k", read) == "v1"
    assert cache.fill("k", read) == "v1"
    cache.drop("k")
    assert cache.fill("k", read) == "v2"
    assert len(reads) == 2


@pytest.mark.parametrize("change", ["drop", "forget", "clear"])
def test_a_read_a_change_overtook_is_answered_but_not_kept(cache, change):
    def stale() -> str:
        # The read waits on the database; meanwhile the change is noticed.
        getattr(cache, change)(*(() if change == "clear" else ("k",)))
        return "old"

    assert cache.fill("k", stale) == "old"
    assert cache.get("k") is None
    assert cache.fill("k", lambda: "new") == "new"
    assert cache.get("k") == "new"


def test_nothing_is_found_is_not_kept_and_a_disabled_cache_keeps_nothing(cache):
    assert cache.fill("k", lambda: None) is None
    assert cache.get("k") is None
    off: Cache[str, str] = Cache()
    assert off.fill("k", lambda: "v") == "v"
    assert off.get("k") is None
