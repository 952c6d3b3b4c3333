"""Accounts: a login, and the app key and secret its devices sign with."""

from __future__ import annotations

import functools
import re
import time

from bridge.model import BridgeError, User
from bridge.runtime.blocking import offload
from bridge.store.secrets import (
    Vault,
    check_password,
    hash_password,
    new_app_key,
    new_app_secret,
)
from bridge.store.sql import Database, IntegrityError

NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


class UserExists(BridgeError):
    """That user name is taken."""

    code = "conflict"


class NoSuchUser(BridgeError):
    """No such user."""

    code = "no_such_user"


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not a password of anyone")


def _user(row: dict) -> User:
    return User(id=row["id"], name=row["name"], app_key=row["app_key"])


class Users:
    def __init__(self, db: Database, vault: Vault) -> None:
        self.db = db
        self.vault = vault

    def create(self, name: str, password: str) -> tuple[User, str]:
        """Create an account; return it with its app secret (shown once)."""
        if not NAME.match(name):
            raise BridgeError("a user name is 1-64 letters, digits or _ . @ -")
        if len(password) < 8:
            raise BridgeError("a password has at least 8 characters")
        secret = new_app_secret()
        row = {
            "name": name,
            "password_hash": offload(hash_password, password),
            "app_key": new_app_key(),
            "app_secret": self.vault.encrypt(secret),
            "created_at": time.time(),
        }
        try:
            pk = self.db["users"].insert(row).last_pk
        except IntegrityError:
            raise UserExists(f"user {name!r} exists") from None
        return User(id=int(pk), name=name, app_key=row["app_key"]), secret

    def _row(self, where: str, arg: object) -> dict | None:
        return next(self.db["users"].rows_where(where, [arg], limit=1), None)

    def get(self, name: str) -> User:
        row = self._row("name = ?", name)
        if row is None:
            raise NoSuchUser(f"no user {name!r}")
        return _user(row)

    def by_id(self, user_id: int) -> User | None:
        row = self._row("id = ?", user_id)
        return _user(row) if row else None

    def by_app_key(self, app_key: str) -> tuple[User, str] | None:
        """The account and its decrypted app secret, or None."""
        row = self._row("app_key = ?", app_key)
        if row is None:
            return None
        return _user(row), self.vault.decrypt(row["app_secret"])

    def app_secret(self, user: User) -> str:
        row = self._row("id = ?", user.id)
        assert row is not None
        return self.vault.decrypt(row["app_secret"])

    def verify_password(self, name: str, password: str) -> User | None:
        """The user if the password is right; as slow for unknown names as for known ones."""
        row = self._row("name = ?", name)
        stored = row["password_hash"] if row else _dummy_hash()
        ok = offload(check_password, stored, password)
        return _user(row) if row and ok else None

    def set_password(self, name: str, password: str) -> User:
        """Change the password; every console session signed in before now ends."""
        user = self.get(name)
        if len(password) < 8:
            raise BridgeError("a password has at least 8 characters")
        self.db["users"].update(
            user.id,
            {"password_hash": offload(hash_password, password), "password_changed_at": time.time()},
        )
        return user

    def password_changed_at(self, user_id: int) -> float:
        row = self.db.execute(
            "select password_changed_at from users where id = ?", (user_id,)
        ).fetchone()
        return float(row[0] or 0.0) if row else float("inf")

    def list(self) -> list[User]:
        return [_user(r) for r in self.db["users"].rows_where(order_by="name")]
