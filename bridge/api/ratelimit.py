"""Token buckets per integration key: a steady rate with room for a burst.

The bucket is a shared fact (the bus): N workers allow one burst, not N.
"""

from __future__ import annotations

from bridge.bus import Bus


class Buckets:
    def __init__(self, bus: Bus, rate: float, burst: int) -> None:
        self.bus = bus
        self.rate, self.burst = rate, burst

    def take(self, key: str) -> float:
        """0 if a request may go now, else the seconds until one may."""
        return self.bus.take(f"api:{key}", self.rate, self.burst)
