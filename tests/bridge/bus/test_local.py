"""The in-process bus: the one-worker semantics every shared fact must keep."""

import pytest

from bridge.bus import Unreachable
from bridge.bus.local import LocalBus


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_token_is_used_once_within_its_lifetime():
    clock = Clock()
    bus = LocalBus("w", clock=clock)
    assert bus.first_use("t1", ttl=10)
    clock.now = 5
    assert not bus.first_use("t1", ttl=10)
    clock.now = 20
    assert bus.first_use("t1", ttl=10)  # forgotten once it could not be fresh any more


def test_placement_is_this_worker_only():
    bus = LocalBus("w")
    bus.hold(["a", "b"])
    assert bus.holder("a") == "w"
    assert bus.release(["a", "c"]) == ["a"]
    assert bus.holder("a") is None
    with pytest.raises(Unreachable):
        bus.call("other", {}, 1.0)


def test_notices_reach_the_listeners_at_once_and_a_failing_one_costs_nothing():
    bus = LocalBus("w")
    heard = []
    bus.subscribe("t", lambda m: 1 / 0)
    bus.subscribe("t", heard.append)
    bus.publish("t", {"x": 1})
    assert heard == [{"x": 1}]


def test_values_expire_and_pop_takes_them_once():
    clock = Clock()
    bus = LocalBus("w", clock=clock)
    bus.put("k", {"a": 1}, ttl=10)
    assert bus.get("k") == {"a": 1}
    clock.now = 11
    assert bus.get("k") is None
    bus.put("k", [1], ttl=10)
    assert bus.pop("k") == [1]
    assert bus.pop("k") is None


def test_a_lease_holds_one_of_a_few_places_until_given_back_or_expired():
    clock = Clock()
    bus = LocalBus("w", clock=clock)
    assert bus.lease("streams:1", "s1", limit=2, ttl=10)
    assert bus.lease("streams:1", "s2", limit=2, ttl=10)
    assert not bus.lease("streams:1", "s3", limit=2, ttl=10)
    assert bus.lease("streams:2", "s3", limit=2, ttl=10)  # another scope: its own places
    assert bus.lease("streams:1", "s1", limit=2, ttl=10)  # renewing one held
    bus.unlease("streams:1", "s2")
    assert bus.lease("streams:1", "s3", limit=2, ttl=10)
    clock.now = 10.5  # s1 renewed at 0, s3 leased at 0: both expire
    assert bus.lease("streams:1", "s4", limit=2, ttl=10)
    assert bus.lease("streams:1", "s5", limit=2, ttl=10)
