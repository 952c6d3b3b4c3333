"""State accuracy: does each platform hold what each device is? Measured, shown, repaired.

Each pass compares what every platform was told and took (`store.beliefs`)
with the shadow, pair by pair (platform, person, device, property). The
share that agree is a sample; each sample counts for the time since the one
before, so the accuracy over an hour is time-weighted whatever the rate of
passes. A platform that can be read back (`Adapter.read_back`) is asked about
a sample of its devices within a rate it sets: what it holds where it
differs becomes the belief, so a report it took and then lost is drift too.

A pair that has disagreed for longer than the grace is repaired: the
device's state now is sent to that platform again (the outbox's retries and
pacing apply), at most once per grace per device, and not while a report of
that device to that platform is still waiting. Every repair is a journey
whose first hop says why ("Platform X held brightness 40, the device has 70
since 12:03; resent").
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from bridge import journeys
from bridge.model import Unavailable
from bridge.reports.messages import RetryLater, StateReport
from bridge.store import Store
from bridge.store.beliefs import Pair, Sample
from bridge.store.messages import Entry

log = logging.getLogger(__name__)
REPAIR = "stateRepair"
"""The report's event: no device sent it, the bridge resends what the device has."""
MAX_REPAIRS = 100
"""Devices repaired per platform per pass, at most (the outbox paces what it sends)."""
TARGET = 0.995
"""The bar for a platform that publishes none: the one state-accuracy target published."""


def target(adapter: Any) -> float:
    """A platform's state-accuracy target: its own (`targets["accuracy"]`), else TARGET."""
    return getattr(adapter, "targets", {}).get("accuracy", TARGET)


class Accuracy:
    def __init__(
        self,
        store: Store,
        adapters: Callable[[], Mapping[str, Any]],
        reporting: Callable[[], frozenset[str]],
        grace: float,
        every: float,
        wake: Callable[[], None] = lambda: None,
        repaired: Callable[[str], None] = lambda adapter: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.adapters, self.reporting = store, adapters, reporting
        self.grace, self.every = grace, every
        self.wake, self.repaired, self.clock = wake, repaired, clock
        self._resent: dict[tuple[str, int, str], float] = {}
        self._last: float | None = None
        self._cursor: dict[str, int] = defaultdict(int)

    def check(self) -> list[Sample]:
        """One pass: read back, sample, repair. Returns the samples taken."""
        now = self.clock()
        names = sorted(self.reporting())
        pairs = self.store.beliefs.pairs()
        if self._read_back(names, pairs, now):  # what a platform said it holds, in
            pairs = self.store.beliefs.pairs()
        pairs = [p for p in pairs if p.adapter in names]
        span = self.every if self._last is None else max(0.0, now - self._last)
        self._last = now
        by_adapter: dict[str, list[Pair]] = {name: [] for name in names}
        for pair in pairs:
            by_adapter[pair.adapter].append(pair)
        samples = [
            Sample(name, now, span, len(found), sum(p.agrees for p in found))
            for name, found in by_adapter.items()
        ]
        self.store.beliefs.sampled(samples)
        self._repair(pairs, now)
        return samples

    # -- read-back --------------------------------------------------------------------

    def _read_back(self, names: list[str], pairs: list[Pair], now: float) -> bool:
        """Ask the platforms that can be read back; whether any held something else."""
        marked = False
        for name in names:
            adapter = self.adapters()[name]
            quota = int(adapter.read_back_rate() * self.every / 60.0)
            if quota < 1:
                continue
            devices = sorted({(p.user_id, p.device_id) for p in pairs if p.adapter == name})
            if not devices:
                continue
            start = self._cursor[name] % len(devices)
            chosen = (devices[start:] + devices[:start])[:quota]
            self._cursor[name] = start + len(chosen)
            people: dict[int, list[str]] = defaultdict(list)
            for user_id, device_id in chosen:
                people[user_id].append(device_id)
            for user_id, device_ids in people.items():
                marked = self._ask(name, adapter, user_id, device_ids, now) or marked
        return marked

    def _ask(
        self, name: str, adapter: Any, user_id: int, device_ids: list[str], now: float
    ) -> bool:
        user = self.store.users.by_id(user_id)
        devices = [d for d in map(self.store.devices.get, device_ids) if d is not None]
        if user is None or not devices:
            return False
        try:
            held = adapter.read_back(user, devices)
        except (RetryLater, Unavailable) as exc:
            log.info("read-back of %s skipped this pass: %s", name, exc)
            return False
        except Exception:
            log.warning("read-back of %s failed", name, exc_info=True)
            return False
        for device_id, values in held.items():
            marked = {n: {"readBack": v} for n, v in values.items()}
            self.store.beliefs.told(name, user_id, device_id, marked, now, source="read-back")
        return bool(held)

    # -- repair -----------------------------------------------------------------------

    def _repair(self, pairs: list[Pair], now: float) -> None:
        self.store.beliefs.drifted([p for p in pairs if p.agrees and p.drift_since], None)
        fresh = [p for p in pairs if not p.agrees and p.drift_since is None]
        self.store.beliefs.drifted(fresh, now)
        since = {p.key: p.drift_since or now for p in pairs if not p.agrees}
        due: dict[tuple[str, int, str], list[Pair]] = defaultdict(list)
        for pair in [p for p in pairs if not p.agrees]:
            device = (pair.adapter, pair.user_id, pair.device_id)
            if now - since[pair.key] >= self.grace and (
                now - self._resent.get(device, 0.0) >= self.grace
            ):
                due[device].append(pair)
        if not due:
            return
        waiting = self.store.outbox.waiting()
        sent: dict[str, int] = defaultdict(int)
        for device, found in sorted(due.items()):
            if device in waiting or sent[device[0]] >= MAX_REPAIRS:
                continue
            self._resend(found, min(since[p.key] for p in found), now)
            self._resent[device] = now
            sent[device[0]] += 1
        self._resent = {k: t for k, t in self._resent.items() if now - t < self.grace}
        if sent:
            self.wake()

    def _resend(self, pairs: list[Pair], since: float, now: float) -> None:
        first = pairs[0]
        adapter, user_id, device_id = first.adapter, first.user_id, first.device_id
        journey = journeys.new()
        message = StateReport(
            user_id=user_id,
            device_id=device_id,
            at=now,
            event=REPAIR,
            cause="PERIODIC_POLL",
            properties=self.store.shadow.values(device_id),
            changed=tuple(sorted(p.name for p in pairs)),
            journey=journey,
        )
        title = getattr(self.adapters().get(adapter), "title", None) or adapter
        self.store.messages.record(
            Entry(
                "out",
                "repair",
                "resent",
                device_id,
                user_id,
                REPAIR,
                origin=adapter,
                detail=why(title, pairs, since),
                journey=journey,
                at=now,
            )
        )
        self.store.outbox.add([adapter], user_id, device_id, message)
        self.repaired(adapter)


def why(title: str, pairs: list[Pair], since: float) -> str:
    """ "Platform X held brightness 40, the device has 70 since 12:03; resent"."""
    told = ", ".join(f"{p.name} {_shown(p.held)}" for p in pairs)
    has = ", ".join(f"{p.name} {_shown(p.actual)}" for p in pairs)
    clock = time.strftime("%H:%M:%S", time.gmtime(since))
    return f"{title} held {told}, the device has {has} since {clock} UTC; resent"


def _shown(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"readBack"}:
        return f"{value['readBack']} (read back)"
    return str(value)
