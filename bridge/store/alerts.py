"""Alerts a person can act on: opened when a condition is first seen, closed when it clears."""

from __future__ import annotations

import time
from typing import Any

from bridge.store.sql import Database


class Alerts:
    def __init__(self, db: Database) -> None:
        self.db = db

    def open(self, user_id: int, key: str, kind: str, message: str, device_id: str | None) -> bool:
        """Open the alert unless it is open already; True when it is new (to be sent)."""
        found = self.db.execute(
            "select 1 from alerts where user_id = ? and key = ? and closed_at is null",
            (user_id, key),
        ).fetchone()
        if found:
            return False
        self.db["alerts"].insert(
            {
                "user_id": user_id,
                "key": key,
                "kind": kind,
                "message": message[:300],
                "device_id": device_id,
                "opened_at": time.time(),
            }
        )
        return True

    def close_others(self, user_id: int, keep: set[str]) -> None:
        """Close the user's open alerts whose condition no longer holds."""
        for (key,) in self.db.execute(
            "select key from alerts where user_id = ? and closed_at is null", (user_id,)
        ).fetchall():
            if key not in keep:
                self.db.execute(
                    "update alerts set closed_at = ? where user_id = ? and key = ?"
                    " and closed_at is null",
                    (time.time(), user_id, key),
                )

    def active(self, user_id: int) -> list[dict[str, Any]]:
        return self.db.rows(
            "select kind, message, device_id, opened_at from alerts where user_id = ?"
            " and closed_at is null order by opened_at desc",
            [user_id],
        )
