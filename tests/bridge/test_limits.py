"""The replay guard and the event limiter: small state machines of their own."""

from bridge.ratelimit import EventLimiter
from bridge.transports.sinric.replay import ReplayGuard


def test_replay_guard_refuses_a_token_twice_within_its_lifetime():
    guard = ReplayGuard(ttl=10)
    assert guard.first_use("t1", now=0)
    assert not guard.first_use("t1", now=5)
    assert guard.first_use("t1", now=20)  # forgotten once it could not be fresh any more
    assert not guard.first_use("", now=20)


def test_replay_guard_is_bounded():
    guard = ReplayGuard(ttl=1000, max_entries=3)
    for i in range(10):
        guard.first_use(f"t{i}", now=i)
    assert len(guard._seen) <= 3


def test_event_limiter_spaces_state_and_sensor_events_apart():
    limiter = EventLimiter(state_interval=1, sensor_interval=60)
    assert limiter.allow("d", "power", sensor=False, now=0)
    assert not limiter.allow("d", "power", sensor=False, now=0.5)
    assert limiter.allow("d", "power", sensor=False, now=1.0)
    assert limiter.allow("d", "brightness", sensor=False, now=1.0)  # per capability
    assert limiter.allow("e", "power", sensor=False, now=1.0)  # per device
    assert limiter.allow("d", "temp", sensor=True, now=0)
    assert not limiter.allow("d", "temp", sensor=True, now=59)
    limiter.forget("d")
    assert limiter.allow("d", "temp", sensor=True, now=59)
