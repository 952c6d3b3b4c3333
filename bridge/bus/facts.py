"""Small facts an adapter keeps per user or device, shared by every worker.

A platform's pacing (one report per attribute a minute), a directive still
waiting for its device, the way a blind was moving before "pause": each is
per device, so with several workers it must live on the bus, not in one
worker's dict. Keys are scoped by the adapter's name; values are JSON.
"""

from __future__ import annotations

from typing import Any

from bridge.bus import Bus


class Facts:
    def __init__(self, bus: Bus, scope: str) -> None:
        self.bus = bus
        self.scope = scope

    def _key(self, key: str) -> str:
        return f"facts:{self.scope}:{key}"

    def get(self, key: str) -> Any:
        """The value, or None once it expired (or never was)."""
        return self.bus.get(self._key(key))

    def put(self, key: str, value: Any, ttl: float) -> None:
        """Keep `value` (JSON) for `ttl` seconds."""
        self.bus.put(self._key(key), value, ttl)

    def pop(self, key: str) -> Any:
        """Take the value away (once: another worker's pop finds nothing)."""
        return self.bus.pop(self._key(key))

    def claim(self, key: str, ttl: float) -> bool:
        """True for the first caller in `ttl` seconds, of every worker: check-and-mark in one
        step (two deliveries at once must not both pass a pacing check)."""
        return self.bus.first_use(self._key(f"claim:{key}"), ttl)

    def take(self, key: str, rate: float, burst: int) -> float:
        """A token bucket shared by every worker (a platform's quota): 0 when a call may
        go now (and it is counted), else the seconds until one may."""
        return self.bus.take(self._key(f"bucket:{key}"), rate, burst)
