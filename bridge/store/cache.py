"""Read-through caches for the lookups every command makes, kept honest.

In the server, resolving a token and finding a device happen on every
directive; a SQLite read costs file-lock system calls each time. So the
server keeps hits in memory. Its own changes update the caches directly;
changes another process commits (the `bridge` CLI) are noticed through
`PRAGMA data_version`, polled about once a second, which empties them.
With several workers, each drop is also announced on the bus (`announce`),
and the other workers drop the same key (`forget`).

A read yields to other greenlets while it waits for the database, so a drop can
land between a read and the caching of what it read. `fill` keeps no value read
across a drop or a clear: it would be the old one, kept until the next change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")


class Cache(Generic[K, V]):
    """A bounded dict that is off until `enabled`; misses are never cached."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self.enabled = False
        self.max_entries = max_entries
        self._data: dict[K, V] = {}
        self._drops = 0  # drops and clears so far: a read that saw one in flight is not kept
        self.announce: Callable[[K], None] | None = None

    def get(self, key: K) -> V | None:
        return self._data.get(key) if self.enabled else None

    @overload
    def fill(self, key: K, read: Callable[[], V]) -> V: ...

    @overload
    def fill(self, key: K, read: Callable[[], V | None]) -> V | None: ...

    def fill(self, key: K, read: Callable[[], V | None]) -> V | None:
        """The cached value, or `read()`'s, kept unless a drop or clear came meanwhile (a
        read that can find nothing gives None, which is never kept)."""
        hit = self.get(key)
        if hit is not None:
            return hit
        drops = self._drops
        value = read()
        if value is not None and drops == self._drops:
            self.put(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        if self.enabled:
            if len(self._data) >= self.max_entries:
                self._data.clear()
            self._data[key] = value

    def drop(self, key: K) -> None:
        """The stored value changed: forget it here and in every other worker."""
        self.forget(key)
        if self.announce is not None:
            self.announce(key)

    def forget(self, key: K) -> None:
        """Another worker changed it: forget it here."""
        self._drops += 1
        self._data.pop(key, None)

    def clear(self) -> None:
        self._drops += 1
        self._data.clear()
