"""Bearer access tokens, stored hashed, resolved to their user."""

from __future__ import annotations

import time

from sqlite_utils import Database

from bridge.model import ExpiredToken, InvalidToken, MissingToken
from bridge.secrets import hash_token, new_token


class Tokens:
    def __init__(self, db: Database) -> None:
        self.db = db

    def issue(self, user_id: int, client: str, ttl: float = 3600.0) -> str:
        token = new_token()
        now = time.time()
        self.db["tokens"].insert(
            {
                "token_hash": hash_token(token),
                "user_id": user_id,
                "client": client,
                "expires_at": now + ttl,
                "created_at": now,
            }
        )
        return token

    def resolve(self, token: str | None) -> int:
        """The user id a token belongs to, or the precise reason it does not."""
        if not token:
            raise MissingToken()
        if len(token) > 512:
            raise InvalidToken()
        row = next(
            self.db["tokens"].rows_where("token_hash = ?", [hash_token(token)], limit=1), None
        )
        if row is None:
            raise InvalidToken()
        if row["expires_at"] <= time.time():
            raise ExpiredToken()
        return int(row["user_id"])

    def revoke_user(self, user_id: int) -> None:
        self.db["tokens"].delete_where("user_id = ?", [user_id])
