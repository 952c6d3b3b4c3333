"""The durable outbox of proactive reports: one row per (message, adapter).

A report is written in the same step that records the change and deleted
from the queue only once its adapter has delivered it, so a crash or a
platform outage delays a report but never loses it.
"""

from __future__ import annotations

import time
from typing import Any

from bridge.reports.messages import Message, decode, encode
from bridge.store.sql import Database

COALESCED = "coalesced into a newer report"


CLAIM_LEASE = 120.0
"""Seconds a worker holds the reports it took (longer than any delivery's timeouts)."""


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self, adapters: list[str], user_id: int, device_id: str, message: Message
    ) -> dict[str, int]:
        """Queue a message for each adapter; a device's newest state absorbs its older ones.

        At most one message of a kind that says a device's latest state waits per
        (adapter, device), whatever the outage: the older ones are marked coalesced
        (visible in the outbox) and what they said folded into the new one. Returns
        how many older reports each adapter had folded in.
        """
        now = time.time()
        if not message.latest_state:
            self._insert(adapters, user_id, device_id, message, now)
            return {}
        folded = {}
        for name in adapters:
            message_for, count = self._absorb(name, user_id, device_id, message, now)
            self._insert([name], user_id, device_id, message_for, now)
            if count:
                folded[name] = count
        return folded

    def _absorb(
        self, adapter: str, user_id: int, device_id: str, message: Message, now: float
    ) -> tuple[Message, int]:
        """Fold the waiting reports of one device to one person's platform into `message`
        (a household's members each have their own: never folded into another's)."""
        rows = self.db.execute(
            "select id, change from outbox where adapter = ? and device_id = ?"
            " and user_id = ? and delivered_at is null and failed_at is null",
            (adapter, device_id, user_id),
        ).fetchall()
        absorbed = []
        for row_id, text in rows:
            older = decode(text)
            merged = message.absorb(older) if older is not None else None
            if merged is not None:
                message = merged
                absorbed.append(row_id)
        for row_id in absorbed:
            self.db.execute(
                "update outbox set delivered_at = ?, last_error = ? where id = ?",
                (now, COALESCED, row_id),
            )
        return message, len(absorbed)

    def _insert(
        self, adapters: list[str], user_id: int, device_id: str, message: Message, now: float
    ) -> None:
        text = encode(message)
        self.db["outbox"].insert_all(
            {
                "adapter": name,
                "user_id": user_id,
                "device_id": device_id,
                "change": text,
                "created_at": now,
                "attempts": 0,
                "next_attempt_at": now,
                "journey": message.journey,
            }
            for name in adapters
        )

    def due(
        self,
        limit: int = 100,
        now: float | None = None,
        worker: str = "",
        lease: float = CLAIM_LEASE,
    ) -> list[dict[str, Any]]:
        """Claim the reports due now for `worker`: no other worker sees them for `lease` s.

        The claim moves the next attempt's time past the lease in the statement
        that picks the rows (skipping rows another claimer has locked, on
        PostgreSQL), so two workers never take one report.
        Delivery, retry and dead letter each end the claim; a worker that dies
        mid-delivery leaves its claims to `release` (or to the lease's end).
        """
        now = now if now is not None else time.time()
        with self.db.immediate():
            rows = self.db.rows(
                "update outbox set next_attempt_at = ?, claimed_by = ? where id in"
                " (select id from outbox where delivered_at is null and failed_at is null"
                f" and next_attempt_at <= ? order by id limit ?{self.db.skip_locked})"
                " returning *",
                [now + lease, worker, now, limit],
            )
        rows.sort(key=lambda r: r["id"])
        return [dict(r, message=decode(r["change"])) for r in rows]

    def claimers(self) -> set[str]:
        """The workers holding claims on reports not yet done."""
        rows = self.db.execute(
            "select distinct claimed_by from outbox where claimed_by is not null"
            " and delivered_at is null and failed_at is null"
        )
        return {row[0] for row in rows}

    def release(self, worker: str) -> int:
        """A dead worker's claims: due again now. Returns how many."""
        cursor = self.db.execute(
            "update outbox set claimed_by = null, next_attempt_at = ? where claimed_by = ?"
            " and delivered_at is null and failed_at is null",
            (time.time(), worker),
        )
        return cursor.rowcount

    def delivered(self, row_id: int) -> None:
        self.db["outbox"].update(row_id, {"delivered_at": time.time(), "claimed_by": None})

    def retry(self, row_id: int, attempts: int, delay: float, error: str) -> None:
        self.db["outbox"].update(
            row_id,
            {
                "attempts": attempts,
                "next_attempt_at": time.time() + delay,
                "last_error": error[:500],
                "claimed_by": None,
            },
        )

    def hurry(self, adapter: str) -> int:
        """A platform answering again: its reports waiting out a failure's backoff are due
        now (not those only ever throttled: their wait is the platform's pace). How many."""
        now = time.time()
        cursor = self.db.execute(
            "update outbox set next_attempt_at = ? where adapter = ? and attempts > 0"
            " and claimed_by is null and delivered_at is null and failed_at is null"
            " and next_attempt_at > ?",
            (now, adapter, now),
        )
        return cursor.rowcount

    def give_up(self, row_id: int, attempts: int, error: str) -> None:
        self.db["outbox"].update(
            row_id,
            {
                "attempts": attempts,
                "failed_at": time.time(),
                "last_error": error[:500],
                "claimed_by": None,
            },
        )

    def drop_user(self, adapter: str, user_id: int, reason: str) -> None:
        """Dead-letter every pending report of one user for one adapter."""
        self.db.execute(
            "update outbox set failed_at = ?, last_error = ? where adapter = ? and user_id = ?"
            " and delivered_at is null and failed_at is null",
            [time.time(), reason, adapter, user_id],
        )

    def waiting(self) -> set[tuple[str, int, str]]:
        """(adapter, person, device) of every report still to be delivered."""
        rows = self.db.execute(
            "select distinct adapter, user_id, device_id from outbox"
            " where delivered_at is null and failed_at is null"
        ).fetchall()
        return {(a, u, d) for a, u, d in rows}

    def pending(self) -> int:
        return self.db["outbox"].count_where("delivered_at is null and failed_at is null")

    def prune(self, older_than: float) -> None:
        self.db.execute(
            "delete from outbox where coalesce(delivered_at, failed_at) < ?", [older_than]
        )

    def of_journey(self, user_id: int, journey: str) -> list[dict[str, Any]]:
        """The reports a journey queued, oldest first: for whom, and how each ended."""
        return self.db.rows(
            "select adapter, created_at, delivered_at, failed_at, attempts, last_error"
            " from outbox where journey = ? and user_id = ? order by id",
            [journey, user_id],
        )
