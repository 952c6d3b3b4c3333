"""Read-through caches for the lookups every command makes, kept honest.

In the server, resolving a token and finding a device happen on every
directive; a SQLite read costs file-lock system calls each time. So the
server keeps hits in memory. Its own changes update the caches directly;
changes another process commits (the `bridge` CLI) are noticed through
`PRAGMA data_version`, polled about once a second, which empties them.
With several workers, each drop is also announced on the bus (`announce`),
and the other workers drop the same key (`forget`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Cache(Generic[K, V]):
    """A bounded dict that is off until `enabled`; misses are never cached."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self.enabled = False
        self.max_entries = max_entries
        self._data: dict[K, V] = {}
        self.announce: Callable[[K], None] | None = None

    def get(self, key: K) -> V | None:
        return self._data.get(key) if self.enabled else None

    def put(self, key: K, value: V) -> None:
        if self.enabled:
            if len(self._data) >= self.max_entries:
                self._data.clear()
            self._data[key] = value

    def drop(self, key: K) -> None:
        """The stored value changed: forget it here and in every other worker."""
        self._data.pop(key, None)
        if self.announce is not None:
            self.announce(key)

    def forget(self, key: K) -> None:
        """Another worker changed it: forget it here."""
        self._data.pop(key, None)

    def clear(self) -> None:
        self._data.clear()
