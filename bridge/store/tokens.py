"""Bearer access tokens, stored hashed, resolved to their user."""

from __future__ import annotations

import time
from collections.abc import Callable

from bridge.model import ExpiredToken, InvalidToken, MissingToken, User
from bridge.store.cache import Cache
from bridge.store.secrets import hash_token, new_token
from bridge.store.sql import Database

BOUND_TO = "coalesce(tokens.adapter, tokens.client)"
"""The adapter a token works at (older rows: the client name it was issued to)."""
RESOLVE = (
    f"select users.id, users.name, users.app_key, tokens.expires_at, {BOUND_TO} from tokens"
    " join users on users.id = tokens.user_id where tokens.token_hash = ?"
)


class Tokens:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock  # injected by tests that need a token to age
        self.cache: Cache[str, tuple[User, float, str]] = Cache()

    def issue(
        self,
        user_id: int,
        client: str,
        ttl: float = 3600.0,
        *,
        token: str | None = None,
        client_id: str | None = None,
        scope: str | None = None,
        grant_id: str | None = None,
        adapter: str | None = None,
    ) -> str:
        """Store an access token (hashed); return it in clear, once.

        The token works at `adapter`'s webhook only (by default, the client's name).
        """
        token = token or new_token()
        now = self.clock()
        self.db["tokens"].insert(
            {
                "token_hash": hash_token(token),
                "user_id": user_id,
                "client": client,
                "expires_at": now + ttl,
                "created_at": now,
                "client_id": client_id,
                "scope": scope,
                "grant_id": grant_id,
                "adapter": adapter or client,
            }
        )
        return token

    def lookup(self, token: str, adapter: str | None = None) -> dict | None:
        """The stored row of a token (for revocation), whatever its state.

        With `adapter`, only a token issued for that adapter is found.
        """
        where, args = "token_hash = ?", [hash_token(token)]
        if adapter is not None:
            where, args = f"{where} and {BOUND_TO} = ?", [*args, adapter]
        return next(self.db["tokens"].rows_where(where, args, limit=1), None)

    def forget(self, token_hashes: list[str]) -> None:
        """Delete tokens by hash and drop them from the cache at once."""
        for digest in token_hashes:
            self.db.execute("delete from tokens where token_hash = ?", (digest,))
            self.cache.drop(digest)

    def resolve(self, token: str | None, adapter: str | None = None) -> User:
        """The user a token belongs to, or the precise reason it does not.

        With `adapter`, a token issued for another platform is refused: a
        token leaked from one platform opens no other.
        """
        if not token:
            raise MissingToken()
        if not isinstance(token, str) or len(token) > 512:
            raise InvalidToken()
        digest = hash_token(token)

        def read() -> tuple[User, float, str]:
            row = self.db.execute(RESOLVE, (digest,)).fetchone()
            if row is None:
                raise InvalidToken()
            return User(*row[:3]), row[3], row[4]

        user, expires_at, bound_to = self.cache.fill(digest, read)
        if expires_at <= self.clock():
            raise ExpiredToken()
        if adapter is not None and bound_to != adapter:
            raise InvalidToken(f"this token was issued for {bound_to!r}, not {adapter!r}")
        return user

    def prune(self, grace: float = 86400.0) -> None:
        """Forget access tokens that expired more than a day ago."""
        self.db.execute("delete from tokens where expires_at < ?", [self.clock() - grace])
