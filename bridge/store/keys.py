"""Integration keys: scoped credentials for services that call the REST API."""

from __future__ import annotations

import hmac
import json
import time
from dataclasses import dataclass

from bridge import catalog
from bridge.model import BridgeError, Device, ExpiredToken, InvalidToken, MissingToken
from bridge.store.devices import DEVICE_ID
from bridge.store.secrets import hash_token, new_token
from bridge.store.sql import Database

PURPOSES = ("inbound", "read")


class NoSuchKey(BridgeError):
    """No such integration key."""

    code = "no_such_key"


@dataclass(frozen=True)
class Key:
    id: str
    user_id: int
    name: str
    purpose: str
    products: tuple[str, ...]
    disabled: bool
    created_at: float
    last_used_at: float | None

    @property
    def origin(self) -> str:
        """How its commands are marked in the message history."""
        return f"api:{self.id}"

    def may_send(self) -> bool:
        return self.purpose == "inbound" and not self.disabled

    def covers(self, device: Device) -> bool:
        """A product is a device type or an explicit device id."""
        return device.type in self.products or device.id in self.products

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "purpose": self.purpose,
            "products": list(self.products),
            "disabled": self.disabled,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
        }


def _key(row: tuple) -> Key:
    return Key(
        row[0], row[1], row[2], row[3], tuple(json.loads(row[4])), bool(row[5]), row[6], row[7]
    )


SELECT = (
    "select id, user_id, name, purpose, products, disabled, created_at, last_used_at from api_keys"
)


class Keys:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self, user_id: int, purpose: str, products: list[str], name: str = ""
    ) -> tuple[Key, str]:
        if purpose not in PURPOSES:
            raise BridgeError(f"purpose is one of {', '.join(PURPOSES)}")
        if not products or any(p not in catalog.TYPES and not DEVICE_ID.match(p) for p in products):
            raise BridgeError("products are device types or 24-hex device ids")
        secret = new_token()
        key_id = "key_" + new_token(12)
        self.db["api_keys"].insert(
            {
                "id": key_id,
                "user_id": user_id,
                "name": name[:64],
                "purpose": purpose,
                "products": json.dumps(products),
                "secret_hash": hash_token(secret),
                "disabled": 0,
                "created_at": time.time(),
                "last_used_at": None,
            }
        )
        return self.get(key_id), secret

    def get(self, key_id: str) -> Key:
        row = self.db.execute(SELECT + " where id = ?", (key_id,)).fetchone()
        if row is None:
            raise NoSuchKey(f"no key {key_id}")
        return _key(row)

    def of_user(self, user_id: int) -> list[Key]:
        rows = self.db.execute(SELECT + " where user_id = ? order by created_at", (user_id,))
        return [_key(r) for r in rows.fetchall()]

    def check_secret(self, key_id: str, secret: str) -> Key | None:
        """The key if the secret is right and the key enabled (constant-time compare)."""
        row = self.db.execute("select secret_hash from api_keys where id = ?", (key_id,)).fetchone()
        ok = row is not None and hmac.compare_digest(row[0], hash_token(secret))
        key = self.get(key_id) if ok else None
        return key if key and not key.disabled else None

    def set_disabled(self, key_id: str, disabled: bool) -> Key:
        self.get(key_id)
        self.db.execute("update api_keys set disabled = ? where id = ?", [int(disabled), key_id])
        return self.get(key_id)

    def delete(self, key_id: str) -> None:
        self.get(key_id)
        with self.db.atomic():
            self.db.execute("delete from api_tokens where key_id = ?", [key_id])
            self.db.execute("delete from api_keys where id = ?", [key_id])

    def issue_token(self, key: Key, ttl: float) -> str:
        token = new_token()
        now = time.time()
        self.db["api_tokens"].insert(
            {
                "token_hash": hash_token(token),
                "key_id": key.id,
                "expires_at": now + ttl,
                "created_at": now,
            }
        )
        self.db.execute("update api_keys set last_used_at = ? where id = ?", [now, key.id])
        return token

    def resolve(self, token: str | None) -> Key:
        """The key behind a bearer token; a disabled or deleted key fails at once."""
        if not token:
            raise MissingToken()
        row = self.db.execute(
            "select api_tokens.expires_at, api_keys.id, api_keys.disabled from api_tokens"
            " join api_keys on api_keys.id = api_tokens.key_id where token_hash = ?",
            (hash_token(token[:512]),),
        ).fetchone()
        if row is None or row[2]:
            raise InvalidToken()
        if row[0] <= time.time():
            raise ExpiredToken()
        return self.get(row[1])

    def touch(self, key_id: str) -> None:
        self.db.execute("update api_keys set last_used_at = ? where id = ?", [time.time(), key_id])
