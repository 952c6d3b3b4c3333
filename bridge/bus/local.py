"""The in-process bus: one worker, every shared fact in its own memory."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from typing import Any

from bridge.bus import Bus, Handler, Listener, Message, Unreachable, forgotten

log = logging.getLogger(__name__)

MAX_REMEMBERED = 200_000
"""Replay tokens kept per time-to-live, and values kept, at most (the oldest go first)."""


class LocalBus(Bus):
    def __init__(self, worker: str, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(worker)
        self.clock = clock
        self._held: set[str] = set()
        self._seen: dict[float, OrderedDict[str, float]] = defaultdict(OrderedDict)
        self._spaced: dict[str, dict[str, float]] = defaultdict(dict)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._leases: dict[str, dict[str, float]] = {}
        self._listeners: dict[str, list[Listener]] = defaultdict(list)
        self._values: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self.began = time.time()
        """When its memory began (wall clock): the process's start."""

    def hold(self, device_ids: list[str]) -> None:
        self._held.update(device_ids)

    def release(self, device_ids: list[str]) -> list[str]:
        held = [d for d in device_ids if d in self._held]
        self._held.difference_update(held)
        return held

    def holder(self, device_id: str) -> str | None:
        return self.worker if device_id in self._held else None

    def lead(self, role: str) -> bool:
        return True

    def leader(self, role: str) -> str | None:
        return self.worker

    def alive(self, worker: str) -> bool:
        return worker == self.worker

    def call(self, worker: str, message: Message, timeout: float) -> Message:
        raise Unreachable(worker)

    def serve(self, handler: Handler) -> None:
        return None

    def first_use(self, key: str, ttl: float, stamped: float | None = None) -> bool:
        if stamped is not None and forgotten(stamped, self.began, time.time(), ttl):
            return False
        now = self.clock()
        seen = self._seen[ttl]
        while seen:
            oldest, at = next(iter(seen.items()))
            if now - at <= ttl and len(seen) < MAX_REMEMBERED:
                break
            del seen[oldest]
        if key in seen:
            return False
        seen[key] = now
        return True

    def spaced(self, scope: str, key: str, interval: float) -> bool:
        now = self.clock()
        facts = self._spaced[scope]
        last = facts.get(key)
        if last is not None and now - last < interval:
            return False
        facts[key] = now
        return True

    def forget(self, scope: str) -> None:
        self._spaced.pop(scope, None)

    def take(self, key: str, rate: float, burst: int) -> float:
        now = self.clock()
        tokens, last = self._buckets.get(key, (float(burst), now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / rate

    def lease(self, scope: str, member: str, limit: int, ttl: float) -> bool:
        now = self.clock()
        places = self._leases.setdefault(scope, {})
        for held, until in list(places.items()):
            if until <= now:
                del places[held]
        if member not in places and len(places) >= limit:
            return False
        places[member] = now + ttl
        return True

    def unlease(self, scope: str, member: str) -> None:
        places = self._leases.get(scope, {})
        places.pop(member, None)
        if not places:
            self._leases.pop(scope, None)

    def put(self, key: str, value: Any, ttl: float) -> None:
        self._values.pop(key, None)
        self._values[key] = (self.clock() + ttl, value)
        while len(self._values) > MAX_REMEMBERED:
            self._values.popitem(last=False)

    def get(self, key: str) -> Any:
        found = self._values.get(key)
        if found is None:
            return None
        if found[0] <= self.clock():
            del self._values[key]
            return None
        return found[1]

    def pop(self, key: str) -> Any:
        value = self.get(key)
        self._values.pop(key, None)
        return value

    def publish(self, topic: str, message: Message) -> None:
        for listener in self._listeners.get(topic, ()):
            try:
                listener(message)
            except Exception:
                log.exception("a listener of %s failed", topic)

    def subscribe(self, topic: str, listener: Listener) -> None:
        self._listeners[topic].append(listener)
