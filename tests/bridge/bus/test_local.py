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
