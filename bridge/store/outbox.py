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

CHANGE_VERSION = 1
"""The stored change's shape; a row of another version (or none) is a dead letter."""
COALESCED = "coalesced into a newer report"


def _decode(text: str) -> dict[str, Any] | None:
    """A stored change, or None when it cannot be read (corrupt, or another version)."""
    try:
        change = json.loads(text)
    except ValueError:
        return None
    if not isinstance(change, dict) or change.pop("v", CHANGE_VERSION) != CHANGE_VERSION:
        return None
    return change


def _is_state(change: dict[str, Any]) -> bool:
    """As StateChange.is_state, on the stored form."""
    return change.get("kind") == "state" and bool(change.get("changed"))


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self, adapters: list[str], user_id: int, device_id: str, change: dict
    ) -> dict[str, int]:
        """Queue a change for each adapter; a state change absorbs that device's older ones.

        At most one state report per (adapter, device) waits, whatever the
        outage: the older ones are marked coalesced (visible in the outbox)
        and their changed property names carried into the new one. Returns how
        many older reports each adapter had folded in.
        """
        now = time.time()
        if not _is_state(change):
            self._insert(adapters, user_id, device_id, change, now)
            return {}
        folded = {}
        for name in adapters:
            change_for, count = self._absorb(name, device_id, change, now)
            self._insert([name], user_id, device_id, change_for, now)
            if count:
                folded[name] = count
        return folded

    def _absorb(self, adapter: str, device_id: str, change: dict, now: float) -> tuple[dict, int]:
        rows = self.db.conn.execute(
            "select id, change from outbox where adapter = ? and device_id = ?"
            " and delivered_at is null and failed_at is null",
            (adapter, device_id),
        ).fetchall()
        names = list(change["changed"])
        absorbed = []
        for row_id, text in rows:
            older = _decode(text)
            if older and _is_state(older):
                names = list(dict.fromkeys([*older["changed"], *names]))
                absorbed.append(row_id)
        for row_id in absorbed:
            self.db.conn.execute(
                "update outbox set delivered_at = ?, last_error = ? where id = ?",
                (now, COALESCED, row_id),
            )
        return ({**change, "changed": names} if absorbed else change), len(absorbed)

    def _insert(
        self, adapters: list[str], user_id: int, device_id: str, change: dict, now: float
    ) -> None:
        self.db["outbox"].insert_all(
            {
                "adapter": name,
                "user_id": user_id,
                "device_id": device_id,
                "change": json.dumps({**change, "v": CHANGE_VERSION}),
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
        return [dict(r, change=_decode(r["change"])) for r in rows]

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
