"""Remembers recent replyTokens so a replayed event is dropped."""

from __future__ import annotations

import time
from collections import OrderedDict


class ReplayGuard:
    """A bounded time-to-live set: tokens live as long as the freshness window."""

    def __init__(self, ttl: float, max_entries: int = 200_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_use(self, token: str, now: float | None = None) -> bool:
        now = now if now is not None else time.time()
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at <= self.ttl and len(self._seen) < self.max_entries:
                break
            del self._seen[oldest]
        if not token or token in self._seen:
            return False
        self._seen[token] = now
        return True
