"""A background loop with an explicit state, as hass-nabucasa's `iot_base` has one.

Every loop the server runs is a Service: it has a name, a state (stopped,
starting, running, backing off, waiting for leadership), the last time it lost
its footing and why, and a jittered backoff after a failure. A Service that
needs a leader role on the bus (one per deployment) waits for it and runs only
while it holds it. Subclasses override `run_once` (one round of the work); the
base loops, times, recovers and reports. Nothing here is written by hand twice.

A connection (a bus listener, a broker session, a stream) is a round that lasts
as long as the connection does: it calls `up()` once connected and raises
when the connection drops, so its state is "running" exactly while it is up.
"""

from __future__ import annotations

import enum
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent
import gevent.event

from bridge.model import Unavailable

log = logging.getLogger(__name__)


class State(enum.Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    BACKING_OFF = "backing off"
    WAITING = "waiting for leadership"


@dataclass(frozen=True)
class Disconnect:
    """Why and when a service last stopped working (a round failed)."""

    reason: str
    at: float


class Service:
    """Base of every background loop. Override `run_once`; set `every`, `leader`."""

    name: str = "service"
    every: float = 1.0
    """Seconds between two rounds."""
    leader: str | None = None
    """A bus role: only the worker holding it runs the rounds (one per deployment)."""
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    budget: float = 30.0
    """How long it may back off before readiness says it is failing."""
    expected: tuple[type[Exception], ...] = (OSError, Unavailable)
    """Failures that are a lost connection, logged in one line (others with their trace)."""
    settle: float = 0.0
    """Seconds `start` waits for the first round to succeed (services after it need it)."""

    def __init__(
        self,
        bus: Any = None,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Any] = gevent.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.bus = bus
        self.clock, self.sleep, self.jitter = clock, sleep, jitter
        self.state = State.STOPPED
        self.since = clock()
        self.last_disconnect: Disconnect | None = None
        self.failures = 0
        self.reconnects = 0
        self._greenlet: gevent.Greenlet | None = None
        self._up = gevent.event.Event()

    def run_once(self) -> None:
        """One round of the work. Raise to back off and try again."""
        raise NotImplementedError

    def wait(self, seconds: float) -> None:
        """Wait between rounds (a service that can be woken early overrides it)."""
        self.sleep(seconds)

    def standby(self) -> None:
        """Another worker leads: let go of what only the leader keeps (a session)."""

    def on_stop(self) -> None:
        """The service stops: close what the rounds opened."""

    # -- do not override below -----------------------------------------------

    def start(self) -> None:
        if self._greenlet is None:
            self._set(State.STARTING)
            self._greenlet = gevent.spawn(self._loop)
            if self.settle:
                self._up.wait(self.settle)

    def stop(self, timeout: float = 5.0) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(timeout=timeout)
            self._greenlet = None
        try:
            self.on_stop()
        except Exception:
            log.warning("%s did not stop cleanly", self.name, exc_info=True)
        self._set(State.STOPPED)

    def up(self) -> None:
        """The round's connection is up: running from now (a long round calls it)."""
        if self.state is State.BACKING_OFF:
            self.reconnects += 1
            log.info("%s is running again", self.name)
        self.failures = 0
        self._set(State.RUNNING)

    def round(self) -> None:
        """Run one round now, with the state kept: the loop's body (tests call it)."""
        if self.leader and self.bus is not None and not self.bus.lead(self.leader):
            if self.state is not State.WAITING:
                self.standby()
            self._set(State.WAITING)
            return
        try:
            self.run_once()
        except Exception as exc:
            self.failures += 1
            self.last_disconnect = Disconnect(f"{type(exc).__name__}: {exc}"[:300], self.clock())
            if self.state is not State.BACKING_OFF:
                trace = not isinstance(exc, self.expected)
                log.warning("%s failed, backing off: %s", self.name, exc, exc_info=trace)
            self._set(State.BACKING_OFF)
            return
        self.up()

    def delay(self) -> float:
        """Seconds until the next round: the interval, or a jittered backoff after failures."""
        if self.state is not State.BACKING_OFF:
            return self.every
        backoff = min(self.backoff_max, self.backoff_base * 2 ** (self.failures - 1))
        return max(self.every, backoff * (0.5 + self.jitter() / 2))

    def failing(self) -> bool:
        """Whether readiness should name it: stopped, or backing off past its budget."""
        if self.state is State.STOPPED:
            return True
        return self.state is State.BACKING_OFF and self.clock() - self.since > self.budget

    def status(self) -> dict[str, Any]:
        found = self.last_disconnect
        return {
            "name": self.name,
            "state": self.state.value,
            "since": self.since,
            "last_disconnect": {"reason": found.reason, "at": found.at} if found else None,
            "reconnects": self.reconnects,
        }

    def _loop(self) -> None:
        while True:
            self.round()
            self.wait(self.delay())

    def _set(self, state: State) -> None:
        if state is not self.state:
            self.state, self.since = state, self.clock()
        (self._up.set if state is State.RUNNING else self._up.clear)()


class Supervisor:
    """Starts services in order, stops them in reverse, and says how each is."""

    def __init__(self, services: list[Service]) -> None:
        self.services = services

    def start(self) -> None:
        for service in self.services:
            service.start()

    def stop(self, timeout: float = 10.0) -> None:
        each = timeout / max(1, len(self.services))
        for service in reversed(self.services):
            service.stop(each)

    def status(self) -> list[dict[str, Any]]:
        return [service.status() for service in self.services]

    def failing(self) -> list[str]:
        return [service.name for service in self.services if service.failing()]
