"""Refusals of callers with no account, sampled: an attacker's volume is not the database's.

Anyone on the internet can send a Sigfox callback with a wrong secret, a
webhook with a bad token, a socket upgrade with an unknown key: a history
row each would let them fill the database at their own pace. So a refusal
that belongs to nobody's account is counted per source (the entry point and
the caller's address) and minute; the first few of each are kept in full,
and when the minute ends one row says how many more there were. Memory is
bounded too: past `MAX_SOURCES` sources in a minute, the rest share one count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

KEPT = 5
"""Refusals kept in full per source a minute."""
MAX_SOURCES = 10_000
"""Sources counted apart in one minute (then they share the count of `OTHERS`)."""
OTHERS = "others"
REFUSED = frozenset({"rejected", "error", "unauthorized"})


@dataclass
class Minute:
    start: int
    counts: dict[tuple[str, str, str], int] = field(default_factory=dict)


class RefusalSampler:
    def __init__(self, kept: int = KEPT, clock: Callable[[], float] = time.time) -> None:
        self.kept = kept
        self.clock = clock
        self._minute = Minute(self._now_minute())
        self.total = 0
        """Refusals counted since the start (kept or not): the metrics' counter."""
        self.counted_only = 0
        """Of those, how many were only counted (not kept in full)."""

    def _now_minute(self) -> int:
        return int(self.clock() // 60) * 60

    def admit(self, kind: str, origin: str, source: str) -> tuple[bool, list[Summary]]:
        """Whether to keep this refusal in full, and the summaries of a minute that ended."""
        ended = self.roll()
        self.total += 1
        counts = self._minute.counts
        key = (kind, origin, source)
        if key not in counts and len(counts) >= MAX_SOURCES:
            key = (kind, origin, OTHERS)
        counts[key] = counts.get(key, 0) + 1
        keep = counts[key] <= self.kept
        self.counted_only += not keep
        return keep, ended

    def roll(self) -> list[Summary]:
        """End the minute if it is over: what was counted past the kept ones."""
        now = self._now_minute()
        if now == self._minute.start:
            return []
        ended, self._minute = self._minute, Minute(now)
        return [
            Summary(kind, origin, source, count - self.kept, ended.start)
            for (kind, origin, source), count in ended.counts.items()
            if count > self.kept
        ]


@dataclass(frozen=True)
class Summary:
    kind: str
    origin: str
    source: str
    more: int
    minute: int

    @property
    def detail(self) -> str:
        at = time.strftime("%H:%M", time.gmtime(self.minute))
        return f"{self.more} more like it from {self.source} in the minute from {at} UTC"
