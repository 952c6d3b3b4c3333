"""OAuth clients: one per voice platform skill that links accounts here."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from bridge.model import BridgeError
from bridge.store.secrets import hash_token, new_token
from bridge.store.sql import Database, IntegrityError


class ClientExists(BridgeError):
    """That client name is taken."""

    code = "conflict"


class NoSuchClient(BridgeError):
    """No such client."""

    code = "no_such_client"


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    secret_hash: str
    redirect_uris: tuple[str, ...]
    adapter: str = ""
    """The platform (adapter name) this client's tokens are good for."""


def _check_redirect_uri(uri: str) -> None:
    parts = urlsplit(uri)
    local = parts.hostname in {"localhost", "127.0.0.1", "::1"}
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise BridgeError(f"redirect URI {uri!r} must be https (http only for localhost)")
    if parts.fragment or not parts.netloc:
        raise BridgeError(f"redirect URI {uri!r} must be absolute and have no fragment")


class Clients:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self, name: str, redirect_uris: list[str], adapter: str | None = None
    ) -> tuple[Client, str]:
        """Register a client; return it with its secret (shown once, stored hashed).

        Its tokens work at one adapter's webhook: `adapter`, or the client's name.
        """
        if not name.strip() or len(name) > 64:
            raise BridgeError("a client name is 1-64 characters")
        if not redirect_uris:
            raise BridgeError("a client needs at least one redirect URI")
        for uri in redirect_uris:
            _check_redirect_uri(uri)
        secret = new_token()
        client = Client(
            new_token(18), name, hash_token(secret), tuple(redirect_uris), adapter or name
        )
        try:
            self.db["oauth_clients"].insert(
                {
                    "client_id": client.client_id,
                    "name": name,
                    "secret_hash": client.secret_hash,
                    "redirect_uris": json.dumps(redirect_uris),
                    "created_at": time.time(),
                    "adapter": client.adapter,
                }
            )
        except IntegrityError:
            raise ClientExists(f"client {name!r} exists") from None
        return client, secret

    def get(self, client_id: str) -> Client | None:
        row = self.db.execute(
            "select client_id, name, secret_hash, redirect_uris, coalesce(adapter, name)"
            " from oauth_clients where client_id = ?",
            (client_id,),
        ).fetchone()
        return Client(row[0], row[1], row[2], tuple(json.loads(row[3])), row[4]) if row else None

    def list(self) -> list[Client]:
        rows = self.db.execute("select client_id from oauth_clients order by name")
        return [c for (client_id,) in rows.fetchall() if (c := self.get(client_id))]

    def bind(self, name_or_id: str, adapter: str) -> Client:
        """Point a client, and every token it was given, at one adapter's webhook."""
        client = self._find(name_or_id)
        with self.db.atomic():
            self.db.execute(
                "update oauth_clients set adapter = ? where client_id = ?",
                [adapter, client.client_id],
            )
            self.db.execute(
                "update tokens set adapter = ? where client_id = ?", [adapter, client.client_id]
            )
        return self.get(client.client_id) or client

    def _find(self, name_or_id: str) -> Client:
        client = next((c for c in self.list() if name_or_id in (c.name, c.client_id)), None)
        if client is None:
            raise NoSuchClient(f"no client {name_or_id!r}")
        return client

    def delete(self, name_or_id: str) -> Client:
        """Delete a client and every token and code issued to it."""
        client = self._find(name_or_id)
        with self.db.atomic():
            for table in ("oauth_codes", "refresh_tokens", "tokens"):
                self.db.execute(f"delete from {table} where client_id = ?", [client.client_id])
            self.db.execute("delete from oauth_clients where client_id = ?", [client.client_id])
        return client
