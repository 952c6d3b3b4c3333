"""Budgets: how much one source (a thing, an account, a caller) may ask for, per second.

A budget is a token bucket per key: a steady rate with room for a burst.
Past it a source is refused at once, before any work is done for it, so one
noisy source costs the others a dictionary lookup, not their latency. A
budget is kept in this process (what only one worker hears: a thing on the
broker session) or on the bus (what any worker may serve: an account's
directives), and each counts what it refused for the metrics.

A run of refusals is a *flood*: its first refusal and its end are news (one
history row each, one log line), the ones between are only counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bridge.model import Unavailable

if TYPE_CHECKING:
    from bridge.bus import Bus

TELL_EVERY = 60.0
"""A shared budget's floods are told (a history row) at most once a minute per source, by
whichever worker refuses first: the workers keep no common record of a flood's end."""
MAX_KEYS = 100_000
"""Buckets kept in one process; past it the oldest go (a forgotten bucket is a full one)."""


@dataclass
class Flood:
    """A source past its budget: since when, until when, how many refused."""

    key: str
    since: float
    last: float
    refused: int = 0

    @property
    def seconds(self) -> float:
        return self.last - self.since


class Budget:
    """`rate` a second per key, with a `burst`; refusals counted, floods told."""

    def __init__(
        self,
        name: str,
        rate: float,
        burst: int,
        unit: str = "requests",
        bus: Bus | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name, self.unit = name, unit
        self.rate, self.burst = rate, max(1, burst)
        self.bus = bus
        self.clock = clock
        self.refused = 0
        """Refused since the process began (the metrics' counter)."""
        self._buckets: dict[str, tuple[float, float]] = {}
        self._turns: dict[str, float] = {}
        """For `reserve`: when each key's next turn is due."""
        self._floods: dict[str, Flood] = {}

    def __str__(self) -> str:
        return f"{self.rate:g} {self.unit} a second"

    def take(self, key: str) -> float:
        """0 when `key` may go now (and it is counted), else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        if self.bus is not None:
            try:
                wait = self.bus.take(f"budget:{self.name}:{key}", self.rate, self.burst)
            except Unavailable:
                wait = 0.0  # unknown while the bus is away: serve (refusing all is worse)
        else:
            wait = self._take(key)
        if wait:
            self._refuse(key)
        return wait

    def _take(self, key: str) -> float:
        now = self.clock()
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self._buckets[key] = (tokens - 1 if not wait else tokens, now)  # newest last
        if len(self._buckets) > MAX_KEYS:
            del self._buckets[next(iter(self._buckets))]
        return wait

    def reserve(self, key: str, patience: float) -> float | None:
        """A turn for `key` in arrival order: the seconds to wait for it (0: now), or None
        (refused, and nothing reserved) when it is further off than `patience`. What
        waits instead of being refused: each waiter sleeps once, until its own turn, so a
        crowd arriving together is let in at the rate, not woken all at every token.
        Kept in this process (a worker's own pace)."""
        if self.rate <= 0:
            return 0.0
        now, step = self.clock(), 1 / self.rate
        due = max(self._turns.get(key, now), now)
        wait = max(0.0, due - (self.burst - 1) * step - now)
        if wait > patience:
            self._refuse(key)
            return None
        self._turns[key] = due + step
        if len(self._turns) > MAX_KEYS:
            del self._turns[next(iter(self._turns))]
        return wait

    def _refuse(self, key: str) -> None:
        self.refused += 1
        now = self.clock()
        flood = self._floods.get(key)
        if flood is None:
            if len(self._floods) >= MAX_KEYS:
                return  # counted; told when the table has room again
            flood = self._floods[key] = Flood(key, now, now)
        flood.last = now
        flood.refused += 1

    def told(self, key: str) -> bool:
        """After a refusal: whether it is the one to tell (write down). In this process the
        first of its flood; shared by the workers, the first of any in a minute."""
        if self.bus is None:
            flood = self._floods.get(key)
            return flood is None or flood.refused == 1
        try:
            return self.bus.spaced(f"budget:{self.name}:told", key, TELL_EVERY)
        except Unavailable:
            return False  # the bus away: counted only (the metrics still have it)

    def flood(self, key: str) -> Flood | None:
        """The flood `key` is in (its first refusal has `refused == 1`), if any."""
        return self._floods.get(key)

    def calmed(self) -> list[Flood]:
        """Floods over: no refusal for as long as the burst takes to refill. Each is
        returned once."""
        quiet = self.burst / self.rate if self.rate > 0 else 0.0
        now = self.clock()
        over = [f for f in self._floods.values() if now - f.last >= quiet]
        for flood in over:
            del self._floods[flood.key]
        return over

    def flooding(self) -> int:
        """Sources past their budget now."""
        return len(self._floods)


class Budgets:
    """Every budget of the process, by name: what the metrics export."""

    def __init__(self, bus: Bus | None = None, clock: Callable[[], float] = time.monotonic):
        self.bus = bus
        self.clock = clock
        self._named: dict[str, Budget] = {}

    def budget(
        self, name: str, rate: float, burst: int, unit: str = "requests", shared: bool = False
    ) -> Budget:
        """The budget `name` (made on first use). `shared`: counted on the bus, so every
        worker spends from one bucket; else in this process."""
        found = self._named.get(name)
        if found is None:
            bus = self.bus if shared and self.bus is not None and self.bus.shared else None
            found = self._named[name] = Budget(name, rate, burst, unit, bus, self.clock)
        return found

    def __iter__(self) -> Iterator[Budget]:
        return iter(list(self._named.values()))
