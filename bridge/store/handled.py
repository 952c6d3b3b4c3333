"""Messages a push platform delivered that the bridge has handled, for a while.

A platform's queue redelivers what it did not see acknowledged, also after
the bridge restarts: what was handled is kept on disk, so a redelivery is
acknowledged and not applied twice.
"""

from __future__ import annotations

import time

from bridge.store.sql import Database


class Handled:
    def __init__(self, db: Database) -> None:
        self.db = db

    def seen(self, scope: str, key: str) -> bool:
        row = self.db.execute(
            "select 1 from handled where scope = ? and key = ? and expires_at > ?",
            (scope, key, time.time()),
        ).fetchone()
        return row is not None

    def mark(self, scope: str, key: str, ttl: float) -> None:
        self.db["handled"].upsert(
            {"scope": scope, "key": key, "expires_at": time.time() + ttl}, pk=("scope", "key")
        )

    def prune(self) -> int:
        """Forget what expired; how many."""
        return self.db.execute("delete from handled where expires_at <= ?", (time.time(),)).rowcount
