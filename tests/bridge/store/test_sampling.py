"""Refusals of nobody's account are sampled: an attacker's volume is not the database's."""

from __future__ import annotations

import pytest

from bridge import create_app
from bridge.store.sampling import MAX_SOURCES, OTHERS, RefusalSampler


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # the start of a minute

    def __call__(self) -> float:
        return self.now


def test_the_first_few_per_source_a_minute_are_kept_and_the_rest_counted():
    clock = Clock()
    sampler = RefusalSampler(kept=2, clock=clock)
    kept = [sampler.admit("rejection", "sigfox", "198.51.100.7")[0] for _ in range(5)]
    assert kept == [True, True, False, False, False]
    assert sampler.admit("rejection", "sigfox", "203.0.113.9")[0]  # another source: its own
    clock.now += 60
    keep, ended = sampler.admit("rejection", "sigfox", "198.51.100.7")
    assert keep  # a new minute
    [summary] = ended
    assert (summary.source, summary.more) == ("198.51.100.7", 3)
    assert summary.detail == "3 more like it from 198.51.100.7 in the minute from 08:00 UTC"
    assert (sampler.total, sampler.counted_only) == (7, 3)


def test_sources_past_the_bound_share_one_count():
    sampler = RefusalSampler(kept=0, clock=Clock())
    for i in range(MAX_SOURCES + 50):
        sampler.admit("webhook", "alexa", f"10.0.{i // 256}.{i % 256}")
    counts = sampler._minute.counts
    assert len(counts) == MAX_SOURCES + 1
    assert counts[("webhook", "alexa", OTHERS)] == 50


@pytest.fixture
def app(tmp_path):
    return create_app({"database": str(tmp_path / "s.db"), "refusals_kept": 5})


def test_a_flood_of_wrong_secrets_writes_five_rows_and_one_count(app):
    store = app.extensions["bridge"].store
    clock = Clock()
    store.messages.sampler.clock = clock
    client = app.test_client()
    url = "/device-clouds/sigfox/uplink?token=wrong"
    body = {"device": "ABC123", "time": 1, "data": "01", "seqNumber": 1}
    for _ in range(200):
        assert client.post(url, json=body).status_code == 401
    store.writer.flush()
    rows = store.messages.query(kind="rejection", limit=500)
    assert len(rows) == 5 and all("secret" in r["detail"] for r in rows)
    clock.now += 60
    store.messages.roll_refusals()  # the store's sync does it every round
    store.writer.flush()
    [summary] = [r for r in store.messages.query(limit=500) if r["outcome"] == "sampled"]
    assert summary["kind"] == "rejection"
    assert summary["detail"].startswith("195 more like it from 127.0.0.1")
    metrics = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'bridge_anonymous_refusals{kept="yes"} 5.0' in metrics
    assert 'bridge_anonymous_refusals{kept="no"} 195.0' in metrics


def test_refusals_of_an_accounts_device_are_its_history_and_never_sampled(app):
    from bridge.store.messages import rejection

    store = app.extensions["bridge"].store
    user, _ = store.users.create("alice", "password1")
    for _ in range(20):
        entry = rejection(None, user.id, "a value that does not fit")
        entry.source = "198.51.100.7"
        assert store.messages.record(entry)
    store.writer.flush()
    assert len(store.messages.query(user_id=user.id, kind="rejection", limit=50)) == 20
