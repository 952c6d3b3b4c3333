"""The durable outbox of proactive reports: one row per (change, adapter).

A report is written in the same step that records the change and deleted
from the queue only once its adapter has delivered it, so a crash or a
platform outage delays a report but never loses it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlite_utils import Database


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, adapters: list[str], user_id: int, device_id: str, change: dict) -> None:
        now = time.time()
        self.db["outbox"].insert_all(
            {
                "adapter": name,
                "user_id": user_id,
                "device_id": device_id,
                "change": json.dumps(change),
                "created_at": now,
                "attempts": 0,
                "next_attempt_at": now,
            }
            for name in adapters
        )

    def due(self, limit: int = 100, now: float | None = None) -> list[dict[str, Any]]:
        rows = self.db["outbox"].rows_where(
            "delivered_at is null and failed_at is null and next_attempt_at <= ?",
            [now if now is not None else time.time()],
            order_by="id",
            limit=limit,
        )
        return [dict(r, change=json.loads(r["change"])) for r in rows]

    def delivered(self, row_id: int) -> None:
        self.db["outbox"].update(row_id, {"delivered_at": time.time()})

    def retry(self, row_id: int, attempts: int, delay: float, error: str) -> None:
        self.db["outbox"].update(
            row_id,
            {
                "attempts": attempts,
                "next_attempt_at": time.time() + delay,
                "last_error": error[:500],
            },
        )

    def give_up(self, row_id: int, attempts: int, error: str) -> None:
        self.db["outbox"].update(
            row_id, {"attempts": attempts, "failed_at": time.time(), "last_error": error[:500]}
        )

    def drop_user(self, adapter: str, user_id: int, reason: str) -> None:
        """Dead-letter every pending report of one user for one adapter."""
        self.db.execute(
            "update outbox set failed_at = ?, last_error = ? where adapter = ? and user_id = ?"
            " and delivered_at is null and failed_at is null",
            [time.time(), reason, adapter, user_id],
        )

    def pending(self) -> int:
        return self.db["outbox"].count_where("delivered_at is null and failed_at is null")

    def prune(self, older_than: float) -> None:
        self.db.execute(
            "delete from outbox where coalesce(delivered_at, failed_at) < ?", [older_than]
        )
