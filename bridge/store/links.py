"""Per-user data an adapter keeps about a platform link, encrypted at rest, and who hears
a user's reports: each link row says whether it takes them (`reports`), so finding the
platforms to tell of a change is one cached query, not a question to every adapter."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bridge.store.cache import Cache
from bridge.store.secrets import Vault
from bridge.store.sql import Database

UNLINKED: dict[str, Any] = {}


class PlatformLinks:
    """One adapter's view: it reads and writes only rows of its own name."""

    def __init__(
        self, db: Database, vault: Vault, adapter: str, subscriptions: Subscriptions | None = None
    ) -> None:
        self.db = db
        self.vault = vault
        self.adapter = adapter
        self.cache: Cache[int, dict[str, Any]] = Cache()
        self.subscriptions = subscriptions
        self.takes_reports: Callable[[dict[str, Any]], bool] | None = None
        """The adapter's rule (from its link's data): set by the server that runs it.
        Without it (the CLI) a link is written undecided and the server decides at start."""

    def get(self, user_id: int) -> dict[str, Any] | None:
        """The link's data, or None when the user has not linked or has unlinked."""

        def read() -> dict[str, Any]:  # "not linked" is asked on every change: cached too
            row = self.db.execute(
                "select data from platform_links where adapter = ? and user_id = ?"
                " and revoked_at is null",
                (self.adapter, user_id),
            ).fetchone()
            return json.loads(self.vault.decrypt(row[0])) if row else UNLINKED

        hit = self.cache.fill(user_id, read)
        return None if hit is UNLINKED else hit

    def put(self, user_id: int, data: dict[str, Any], reports: bool | None = None) -> None:
        """Keep the link's data; whether it takes reports is `reports`, or the adapter's rule."""
        if reports is None and self.takes_reports is not None:
            reports = self.takes_reports(data)
        self.db["platform_links"].upsert(
            {
                "adapter": self.adapter,
                "user_id": user_id,
                "data": self.vault.encrypt(json.dumps(data)),
                "reports": None if reports is None else int(reports),
                "revoked_at": None,
                "reason": None,
                "updated_at": time.time(),
            },
            pk=("adapter", "user_id"),
        )
        self._changed(user_id)

    def decide(self) -> int:
        """Apply the adapter's rule to the links written undecided (by the CLI, or before
        links said whether they take reports); how many there were."""
        if self.takes_reports is None:
            return 0
        rows = self.db.execute(
            "select user_id, data from platform_links where adapter = ? and reports is null"
            " and revoked_at is null",
            (self.adapter,),
        ).fetchall()
        for user_id, data in rows:
            reports = self.takes_reports(json.loads(self.vault.decrypt(data)))
            self.db.execute(
                "update platform_links set reports = ? where adapter = ? and user_id = ?",
                (int(reports), self.adapter, user_id),
            )
            self._changed(user_id)
        return len(rows)

    def _changed(self, user_id: int) -> None:
        self.cache.drop(user_id)
        if self.subscriptions is not None:
            self.subscriptions.cache.drop(user_id)

    def users(self) -> list[int]:
        """The users linked now (a push platform finds whose device a message is for)."""
        rows = self.db.execute(
            "select user_id from platform_links where adapter = ? and revoked_at is null"
            " order by user_id",
            (self.adapter,),
        ).fetchall()
        return [row[0] for row in rows]

    def status(self, user_id: int) -> tuple[float | None, str | None] | None:
        """(revoked_at, reason) of the user's link, or None when they never linked."""
        return self.db.execute(
            "select revoked_at, reason from platform_links where adapter = ? and user_id = ?",
            (self.adapter, user_id),
        ).fetchone()

    def revoke(self, user_id: int, reason: str) -> None:
        """Forget the link's secrets; keep why, for the integration status."""
        self.db.execute(
            "update platform_links set data = ?, revoked_at = ?, reason = ?"
            " where adapter = ? and user_id = ?",
            [self.vault.encrypt("{}"), time.time(), reason[:200], self.adapter, user_id],
        )
        self._changed(user_id)


class Subscriptions:
    """Which platforms take a user's reports: their link rows say so (cached per user)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.cache: Cache[int, frozenset[str]] = Cache()

    def of(self, user_id: int) -> frozenset[str]:

        def read() -> frozenset[str]:
            rows = self.db.execute(
                "select adapter from platform_links where user_id = ? and reports = 1"
                " and revoked_at is null",
                (user_id,),
            ).fetchall()
            return frozenset(row[0] for row in rows)

        return self.cache.fill(user_id, read)
