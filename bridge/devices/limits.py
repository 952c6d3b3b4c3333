"""Per-device event limits, as the Sinric SDKs keep them: flag, never drop.

The spacing is a shared fact (the bus), so a device's events count once
whichever worker receives them.
"""

from __future__ import annotations

import contextlib

from bridge.bus import Bus
from bridge.model import Unavailable


class EventLimiter:
    """Minimum spacing per (device, capability): 1 s for state, 60 s for sensor values."""

    def __init__(self, bus: Bus, state_interval: float, sensor_interval: float) -> None:
        self.bus = bus
        self.state_interval = state_interval
        self.sensor_interval = sensor_interval

    def allow(self, device_id: str, key: str, sensor: bool) -> bool:
        interval = self.sensor_interval if sensor else self.state_interval
        if interval <= 0:
            return True
        try:
            return self.bus.spaced(f"events:{device_id}", key, interval)
        except Unavailable:
            return True  # unknown while the bus is away: report (pacing is the platforms')

    def forget(self, device_id: str) -> None:
        with contextlib.suppress(Unavailable):  # away: the spacing expires on its own
            self.bus.forget(f"events:{device_id}")
