"""The Service base: explicit state, a disconnect reason, jittered backoff, leadership."""

from __future__ import annotations

import gevent
import pytest

from bridge.bus.local import LocalBus
from bridge.runtime.service import Service, State, Supervisor


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Flaky(Service):
    """Fails while `broken`, counts its rounds."""

    name = "flaky"
    every = 2.0
    backoff_base = 1.0
    backoff_max = 8.0
    budget = 30.0

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.broken, self.rounds = False, 0

    def run_once(self) -> None:
        if self.broken:
            raise ConnectionError("the broker went away")
        self.rounds += 1


class Follower(LocalBus):
    """A bus on which another worker holds every role."""

    def lead(self, role: str) -> bool:
        return False


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_round_runs_fails_backs_off_with_jitter_and_recovers(clock):
    service = Flaky(clock=clock, jitter=lambda: 1.0)
    assert service.state is State.STOPPED and service.failing()
    service.round()
    assert (service.state, service.rounds, service.delay()) == (State.RUNNING, 1, 2.0)
    service.broken = True
    clock.now += 5
    for expected in (2.0, 2.0, 4.0, 8.0, 8.0):  # never sooner than the interval, at most 8
        service.round()
        assert service.state is State.BACKING_OFF and service.delay() == expected
    assert service.last_disconnect.reason == "ConnectionError: the broker went away"
    assert service.last_disconnect.at == 1005.0 and service.since == 1005.0
    assert not service.failing()  # within its budget
    clock.now += 31
    assert service.failing()
    service.broken = False
    service.round()
    assert (service.state, service.reconnects, service.failing()) == (State.RUNNING, 1, False)
    assert service.status() == {
        "name": "flaky",
        "state": "running",
        "since": 1036.0,
        "last_disconnect": {"reason": "ConnectionError: the broker went away", "at": 1005.0},
        "reconnects": 1,
    }


def test_the_backoff_is_jittered_between_half_and_all_of_it(clock):
    low = Flaky(clock=clock, jitter=lambda: 0.0)
    low.every = 0.1
    low.broken = True
    for _ in range(4):
        low.round()
    assert low.delay() == 4.0  # 8 s of backoff, half of it


def test_a_leader_role_waits_until_this_worker_holds_it(clock):
    service = Flaky(bus=Follower("w2"), clock=clock)
    service.leader = "alerts"
    service.round()
    assert service.state is State.WAITING and service.rounds == 0 and not service.failing()
    service.bus = LocalBus("w1")  # the holder died: this worker takes the role
    service.round()
    assert service.state is State.RUNNING and service.rounds == 1


def test_the_supervisor_starts_in_order_stops_in_reverse_and_names_the_failing():
    events = []

    class Named(Flaky):
        def start(self) -> None:
            events.append(("start", self.name))
            super().start()

        def stop(self, timeout: float = 5.0) -> None:
            events.append(("stop", self.name))
            super().stop(timeout)

    first, second = Named(), Named()
    first.name, second.name = "first", "second"
    first.every = second.every = 60.0  # their own greenlets run one round, then wait
    supervisor = Supervisor([first, second])
    assert supervisor.failing() == ["first", "second"]  # stopped: not ready
    supervisor.start()
    gevent.sleep(0.01)  # each greenlet runs its first round
    assert supervisor.failing() == [] and first.rounds == second.rounds == 1
    supervisor.stop(timeout=1.0)
    assert events == [
        ("start", "first"),
        ("start", "second"),
        ("stop", "second"),
        ("stop", "first"),
    ]
    assert [s["state"] for s in supervisor.status()] == ["stopped", "stopped"]


class Session(Service):
    """A connection: up for the length of a round, dropped by `drop`."""

    name = "session"
    every = 0.01
    backoff_base = backoff_max = 0.01

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.dropped = gevent.event.Event()
        self.let_go = self.closed = 0

    def run_once(self) -> None:
        gevent.sleep(0.02)  # connecting
        self.up()
        self.dropped.wait()
        self.dropped.clear()
        raise ConnectionError("the peer closed the socket")

    def standby(self) -> None:
        self.let_go += 1

    def on_stop(self) -> None:
        self.closed += 1


def test_a_connection_is_running_while_it_is_up_and_counts_each_return():
    session = Session()
    session.settle = 5.0
    session.start()  # returns once the first connection is up (settle)
    assert session.state is State.RUNNING and session.reconnects == 0
    session.dropped.set()
    gevent.sleep(0.005)
    assert session.state is State.BACKING_OFF
    assert session.last_disconnect.reason == "ConnectionError: the peer closed the socket"
    gevent.sleep(0.1)
    assert session.state is State.RUNNING and session.reconnects == 1
    session.stop(timeout=1.0)
    assert (session.state, session.closed) == (State.STOPPED, 1)


def test_losing_the_role_lets_go_of_what_only_the_leader_keeps(clock):
    service = Flaky(bus=LocalBus("w1"), clock=clock)
    service.leader = "stream:tuya"
    released = []
    service.standby = lambda: released.append(service.state)
    service.round()
    service.bus = Follower("w1")  # another worker took the role
    service.round()
    service.round()
    assert released == [State.RUNNING]  # once, when it was lost
    assert service.state is State.WAITING
