"""Login attempts, recorded so repeated failures can be slowed down."""

from __future__ import annotations

import time

from bridge.store.sql import Database

WINDOW = 900.0  # failures older than 15 minutes are forgiven


class Logins:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, name: str, address: str, success: bool) -> int:
        """Record an attempt; return its id. An attempt in progress is recorded as a failure
        (and turned into a success by `succeeded`), so concurrent tries count each other."""
        return int(
            self.db["login_attempts"]
            .insert(
                {
                    "at": time.time(),
                    "name": name[:64],
                    "address": address[:64],
                    "success": int(success),
                }
            )
            .last_pk
        )

    def forget(self, attempt_id: int) -> None:
        """An attempt turned away before any password was checked: it leaves no row (a flood
        of them is not the database's volume, and only checked passwords grow the wait)."""
        self.db.execute("delete from login_attempts where id = ?", (attempt_id,))

    def succeeded(self, attempt_id: int) -> None:
        self.db.execute("update login_attempts set success = 1 where id = ?", (attempt_id,))

    def failures(
        self, column: str, value: str, now: float | None = None, before: int | None = None
    ) -> tuple[int, float]:
        """(failed attempts within the window, time of the last).

        For an account, failures before its last success are forgiven (the owner
        got in). For an address they are not: an attacker spraying many accounts
        must not reset the count by logging into one of their own in between.
        `before`: only attempts recorded before that one (the attempt being
        judged is recorded first, so tries at once, on any worker, count each other).
        """
        now = now if now is not None else time.time()
        earlier = " and id < ?" if before is not None else ""
        extra: tuple = (before,) if before is not None else ()
        if column == "name":
            sql = (
                "select count(*), max(at) from login_attempts where name = ? and at > ?"
                f" and success = 0{earlier} and at > coalesce((select max(at) from"
                " login_attempts where name = ? and success = 1), 0)"
            )
            args: tuple = (value, now - WINDOW, *extra, value)
        elif column == "address":
            sql = (
                "select count(*), max(at) from login_attempts"
                f" where address = ? and at > ? and success = 0{earlier}"
            )
            args = (value, now - WINDOW, *extra)
        else:
            raise ValueError(column)
        row = self.db.execute(sql, args).fetchone()
        return int(row[0]), float(row[1] or 0.0)

    def prune(self, older_than: float) -> None:
        self.db.execute("delete from login_attempts where at < ?", [older_than])
