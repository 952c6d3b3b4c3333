"""Per-device event limits, as the Sinric SDKs keep them: flag, never drop."""

from __future__ import annotations

import time


class EventLimiter:
    """Minimum spacing per (device, capability): 1 s for state, 60 s for sensor values."""

    def __init__(self, state_interval: float, sensor_interval: float) -> None:
        self.state_interval = state_interval
        self.sensor_interval = sensor_interval
        self._last: dict[tuple[str, str], float] = {}

    def allow(self, device_id: str, key: str, sensor: bool, now: float | None = None) -> bool:
        now = now if now is not None else time.monotonic()
        interval = self.sensor_interval if sensor else self.state_interval
        last = self._last.get((device_id, key))
        if last is not None and now - last < interval:
            return False
        self._last[(device_id, key)] = now
        return True

    def forget(self, device_id: str) -> None:
        for key in [k for k in self._last if k[0] == device_id]:
            del self._last[key]
