"""Write-behind: many small writes, one transaction.

The server records history entries and shadow samples on every command; a
transaction each would cost more than the command itself. So in the server
(`buffered` on), writes are queued and a background greenlet flushes them
every few tens of milliseconds, grouped by statement; elsewhere every write
goes straight through.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from itertools import groupby
from typing import Any

import gevent

from bridge.store.sql import Conflict, Database

MAX_BUFFERED = 100_000
CONFLICT_RETRIES = 5


class WriteBehind:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.buffered = False
        self._pending: list[tuple[str, tuple[Any, ...]]] = []

    def add(self, sql: str, params: tuple[Any, ...]) -> None:
        self._pending.append((sql, params))
        if not self.buffered:
            self.flush()

    def flush(self) -> int:
        """Write what is queued in one transaction; return how many statements."""
        return self.flush_with(None)

    def flush_with(self, also: Callable[[], None] | None) -> int:
        """Write what is queued and run `also` in the same transaction: one durable step.

        A proactive report and the state it reports must not be split by a
        crash, so the outbox row goes in with the shadow samples it will read.
        """
        batch, self._pending = self._pending, []
        if not batch and also is None:
            return 0
        try:
            for attempt in range(CONFLICT_RETRIES + 1):
                try:
                    self._write(batch, also)
                    break
                except Conflict:
                    # Concurrent transactions on PostgreSQL (greenlets, workers) writing the
                    # same rows in another order: one is aborted, and runs again.
                    if attempt == CONFLICT_RETRIES:
                        raise
                    gevent.sleep(random.uniform(0.001, 0.01) * (attempt + 1))
        except Exception:
            self._pending[:0] = batch[-MAX_BUFFERED:]  # kept for the next try
            raise
        return len(batch)

    def _write(self, batch: list[tuple[str, tuple[Any, ...]]], also: Callable[[], None] | None):
        with self.db.immediate():
            self.db.in_id_order("history")  # the history's live streams follow ids
            for sql, group in groupby(batch, key=lambda item: item[0]):
                self.db.executemany(sql, [params for _, params in group])
            if also is not None:
                also()
