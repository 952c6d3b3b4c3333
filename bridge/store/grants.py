"""Authorization codes and refresh tokens: the lasting half of account linking.

A grant is one consent. Its code is single-use and short-lived; every token
pair issued from it shares its grant id, so revoking a refresh token, or
reusing a code, revokes the whole grant.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bridge.store.secrets import hash_token
from bridge.store.sql import Database


@dataclass(frozen=True)
class Code:
    code_hash: str
    client_id: str
    user_id: int
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float
    used_at: float | None


@dataclass(frozen=True)
class Refresh:
    refresh_hash: str
    user_id: int
    client_id: str
    scope: str
    grant_id: str
    expires_at: float


class Grants:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save_code(
        self,
        code: str,
        client_id: str,
        user_id: int,
        redirect_uri: str,
        scope: str,
        challenge: str | None,
        method: str | None,
        ttl: float,
    ) -> None:
        self.db["oauth_codes"].insert(
            {
                "code_hash": hash_token(code),
                "client_id": client_id,
                "user_id": user_id,
                "redirect_uri": redirect_uri,
                "scope": scope,
                "code_challenge": challenge,
                "code_challenge_method": method,
                "expires_at": time.time() + ttl,
                "used_at": None,
            }
        )

    def code(self, code: str) -> Code | None:
        row = self.db.execute(
            "select * from oauth_codes where code_hash = ?", (hash_token(code),)
        ).fetchone()
        return Code(*row) if row else None

    def use_code(self, code: Code) -> bool:
        """Mark a code used; False if it already was (a replay)."""
        cursor = self.db.execute(
            "update oauth_codes set used_at = ? where code_hash = ? and used_at is null",
            (time.time(), code.code_hash),
        )
        return cursor.rowcount == 1

    def save_refresh(
        self,
        refresh_token: str,
        user_id: int,
        client_id: str,
        scope: str,
        grant_id: str,
        ttl: float,
    ) -> None:
        now = time.time()
        self.db["refresh_tokens"].insert(
            {
                "refresh_hash": hash_token(refresh_token),
                "user_id": user_id,
                "client_id": client_id,
                "scope": scope,
                "grant_id": grant_id,
                "expires_at": now + ttl,
                "created_at": now,
            }
        )

    def refresh(self, refresh_token: str) -> Refresh | None:
        row = self.db.execute(
            "select refresh_hash, user_id, client_id, scope, grant_id, expires_at"
            " from refresh_tokens where refresh_hash = ?",
            (hash_token(refresh_token),),
        ).fetchone()
        return Refresh(*row) if row else None

    def drop_refresh(self, refresh: Refresh) -> None:
        self.db.execute(
            "delete from refresh_tokens where refresh_hash = ?", (refresh.refresh_hash,)
        )

    def revoke_grant(self, grant_id: str) -> list[str]:
        """Delete every token of a grant; return the access token hashes deleted."""
        hashes = [
            h
            for (h,) in self.db.execute(
                "select token_hash from tokens where grant_id = ?", (grant_id,)
            )
        ]
        with self.db.atomic():
            self.db.execute("delete from tokens where grant_id = ?", (grant_id,))
            self.db.execute("delete from refresh_tokens where grant_id = ?", (grant_id,))
        return hashes

    def of_user(self, user_id: int) -> list[str]:
        """The ids of every grant (account link) a user has given."""
        rows = self.db.execute(
            "select distinct grant_id from refresh_tokens where user_id = ? union"
            " select distinct grant_id from tokens where user_id = ? and grant_id is not null",
            (user_id, user_id),
        )
        return [grant_id for (grant_id,) in rows]

    def linked_adapters(self, user_id: int, now: float | None = None) -> set[str]:
        """The platforms a user signed in to and allowed, whose grant still lives (a live
        refresh token, or access token of a grant): linked, whether or not the platform
        has called since."""
        now = time.time() if now is None else now
        rows = self.db.execute(
            "select coalesce(c.adapter, c.name) from refresh_tokens r join oauth_clients c"
            " on c.client_id = r.client_id where r.user_id = ? and r.expires_at > ?"
            " union select adapter from tokens where user_id = ? and grant_id is not null"
            " and expires_at > ?",
            (user_id, now, user_id, now),
        )
        return {adapter for (adapter,) in rows if adapter}

    def prune(self, now: float | None = None) -> None:
        """Forget expired codes and refresh tokens."""
        now = now if now is not None else time.time()
        self.db.execute("delete from oauth_codes where expires_at < ?", [now - 86400])
        self.db.execute("delete from refresh_tokens where expires_at < ?", [now])
