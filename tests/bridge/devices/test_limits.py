"""The event limiter and the API buckets, over the in-process bus with a stepped clock."""

import pytest

from bridge.bus.local import LocalBus
from bridge.devices.limits import EventLimiter
from bridge.runtime.budgets import Budget


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bus(clock: Clock) -> LocalBus:
    return LocalBus("w", clock=clock)


def test_event_limiter_spaces_state_and_sensor_events_apart(bus, clock):
    limiter = EventLimiter(bus, state_interval=1, sensor_interval=60)
    assert limiter.allow("d", "power", sensor=False)
    clock.now = 0.5
    assert not limiter.allow("d", "power", sensor=False)
    clock.now = 1.0
    assert limiter.allow("d", "power", sensor=False)
    assert limiter.allow("d", "brightness", sensor=False)  # per capability
    assert limiter.allow("e", "power", sensor=False)  # per device
    clock.now = 0
    assert limiter.allow("d", "temp", sensor=True)
    clock.now = 59
    assert not limiter.allow("d", "temp", sensor=True)
    limiter.forget("d")
    assert limiter.allow("d", "temp", sensor=True)


def test_buckets_allow_a_burst_then_the_rate(bus, clock):
    buckets = Budget("api requests", rate=2.0, burst=3, bus=bus)
    assert [buckets.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("k") == pytest.approx(0.5)
    assert buckets.take("other") == 0.0  # per key
    clock.now = 0.5
    assert buckets.take("k") == 0.0
