"""Per-user data an adapter keeps about a platform link, encrypted at rest."""

from __future__ import annotations

import json
import time
from typing import Any

from bridge.secrets import Vault
from bridge.store.cache import Cache
from bridge.store.sql import Database

UNLINKED: dict[str, Any] = {}


class PlatformLinks:
    """One adapter's view: it reads and writes only rows of its own name."""

    def __init__(self, db: Database, vault: Vault, adapter: str) -> None:
        self.db = db
        self.vault = vault
        self.adapter = adapter
        self.cache: Cache[int, dict[str, Any]] = Cache()

    def get(self, user_id: int) -> dict[str, Any] | None:
        """The link's data, or None when the user has not linked or has unlinked."""
        hit = self.cache.get(user_id)
        if hit is None:
            row = self.db.execute(
                "select data from platform_links where adapter = ? and user_id = ?"
                " and revoked_at is null",
                (self.adapter, user_id),
            ).fetchone()
            hit = json.loads(self.vault.decrypt(row[0])) if row else UNLINKED
            self.cache.put(user_id, hit)  # "not linked" is asked on every change: cache it too
        return None if hit is UNLINKED else hit

    def put(self, user_id: int, data: dict[str, Any]) -> None:
        self.db["platform_links"].upsert(
            {
                "adapter": self.adapter,
                "user_id": user_id,
                "data": self.vault.encrypt(json.dumps(data)),
                "revoked_at": None,
                "reason": None,
                "updated_at": time.time(),
            },
            pk=("adapter", "user_id"),
        )
        self.cache.drop(user_id)

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
        self.cache.drop(user_id)
