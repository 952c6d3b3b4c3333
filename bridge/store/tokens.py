"""Bearer access tokens, stored hashed, resolved to their user."""

from __future__ import annotations

import time

from sqlite_utils import Database

from bridge.model import ExpiredToken, InvalidToken, MissingToken, User
from bridge.secrets import hash_token, new_token

RESOLVE = (
    "select users.id, users.name, users.app_key, tokens.expires_at from tokens"
    " join users on users.id = tokens.user_id where tokens.token_hash = ?"
)


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

    def resolve(self, token: str | None) -> User:
        """The user a token belongs to, or the precise reason it does not."""
        if not token:
            raise MissingToken()
        if len(token) > 512:
            raise InvalidToken()
        row = self.db.conn.execute(RESOLVE, (hash_token(token),)).fetchone()
        if row is None:
            raise InvalidToken()
        if row[3] <= time.time():
            raise ExpiredToken()
        return User(*row[:3])

    def revoke_user(self, user_id: int) -> None:
        self.db["tokens"].delete_where("user_id = ?", [user_id])
