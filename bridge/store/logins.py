"""Login attempts, recorded so repeated failures can be slowed down."""

from __future__ import annotations

import time

from sqlite_utils import Database

WINDOW = 900.0  # failures older than 15 minutes are forgiven


class Logins:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, name: str, address: str, success: bool) -> None:
        self.db["login_attempts"].insert(
            {"at": time.time(), "name": name[:64], "address": address, "success": int(success)}
        )

    def failures(self, column: str, value: str, now: float | None = None) -> tuple[int, float]:
        """(failed attempts since the last success within the window, time of the last)."""
        assert column in ("name", "address")
        now = now if now is not None else time.time()
        row = self.db.conn.execute(
            f"select count(*), max(at) from login_attempts where {column} = ? and at > ?"
            f" and success = 0 and at > coalesce((select max(at) from login_attempts"
            f" where {column} = ? and success = 1), 0)",
            (value, now - WINDOW, value),
        ).fetchone()
        return int(row[0]), float(row[1] or 0.0)

    def prune(self, older_than: float) -> None:
        self.db.execute("delete from login_attempts where at < ?", [older_than])
