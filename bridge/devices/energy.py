"""A meter's energy by time interval, from its readings: what the API and platforms ask.

Each reading says the energy used between its `start` and when it was taken; an
interval of the answer gets each reading's energy in proportion to how much of
the reading's span falls in it (a reading with no start counts where it was
taken). Spans are not guessed across gaps: a meter that was silent for a day
says nothing of that day.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from bridge.store.readings import Reading

MAX_INTERVALS = 1000


@dataclass(frozen=True)
class Interval:
    start: float
    end: float
    watt_hours: float
    readings: int
    """How many readings put energy in it (0: nothing is known of it)."""


def intervals(
    readings: Iterable[Reading], since: float, until: float, resolution: float
) -> list[Interval]:
    """[since, until) cut into `resolution`-second intervals, each with its energy."""
    count = math.ceil((until - since) / resolution)
    if not 0 < count <= MAX_INTERVALS:
        raise ValueError(f"between 1 and {MAX_INTERVALS} intervals, not {count}")
    energy, seen = [0.0] * count, [0] * count
    for reading in readings:
        if reading.watt_hours is None:
            continue
        start = reading.start if reading.start is not None else reading.at
        span = reading.at - start
        first = max(0, math.floor((start - since) / resolution))
        last = min(count - 1, math.floor((reading.at - since) / resolution))
        for i in range(first, last + 1):
            lo, hi = since + i * resolution, since + (i + 1) * resolution
            if span > 0:
                share = (min(hi, reading.at) - max(lo, start)) / span
            else:
                share = 1.0 if lo <= reading.at < hi else 0.0
            if share > 0:
                energy[i] += reading.watt_hours * share
                seen[i] += 1
    return [
        Interval(since + i * resolution, since + (i + 1) * resolution, round(energy[i], 3), seen[i])
        for i in range(count)
    ]
