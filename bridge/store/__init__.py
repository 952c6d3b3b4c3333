"""Storage: SQLite (WAL) through sqlite-utils, the embedded default, or PostgreSQL.

Everything the bridge keeps goes through this package: the repositories
speak one small dialect (`sql`), and `BRIDGE_DATABASE` chooses the backend
(a path, or a `postgresql://` URL).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import gevent

from bridge.bus import Bus
from bridge.model import BridgeError
from bridge.runtime import plugins
from bridge.store import sets
from bridge.store.alerts import Alerts
from bridge.store.beliefs import Beliefs
from bridge.store.cache import Cache
from bridge.store.clients import Clients
from bridge.store.devices import Devices
from bridge.store.grants import Grants
from bridge.store.handled import Handled
from bridge.store.households import Households
from bridge.store.keys import Keys
from bridge.store.links import PlatformLinks, Subscriptions
from bridge.store.logins import Logins
from bridge.store.messages import Messages
from bridge.store.outbox import Outbox
from bridge.store.pending import PendingCommands
from bridge.store.readings import Readings
from bridge.store.secrets import Vault
from bridge.store.shadow import Shadow
from bridge.store.sql import PostgresDatabase, SqliteDatabase, is_postgres
from bridge.store.tokens import Tokens
from bridge.store.users import Users
from bridge.store.writer import WriteBehind

log = logging.getLogger(__name__)
R = TypeVar("R")


class WrongKey(BridgeError):
    """The configured secret key does not decrypt this database's secrets."""

    code = "wrong_key"


def _private(path: Path) -> None:
    """The database holds hashes and encrypted secrets: owner-only, 0600.

    SQLite gives its -wal and -shm files the database file's mode, so creating
    (or fixing) the database file is enough; older ones are fixed too.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # Never open and close an existing database file beside SQLite: closing any
    # descriptor of it drops every POSIX lock this process holds on it, those of
    # other connections too ("disk I/O error" for them, or worse). Only create.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists():
            file.chmod(0o600)


def shown(database: str) -> str:
    """A database's name for messages and logs: a PostgreSQL URL without its password."""
    if not is_postgres(database):
        return database
    parts = urlsplit(database)
    if parts.password is None:
        return database
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _sqlite(path: str) -> SqliteDatabase:
    if path != ":memory:":
        _private(Path(path))
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    db = SqliteDatabase(conn)
    if path != ":memory:":
        db.enable_wal()
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint = 4000")  # fewer checkpoint fsyncs
    sets.apply(db)
    return db


def _postgres(url: str) -> PostgresDatabase:
    db = PostgresDatabase(url, {})
    sets.apply(db)
    return db


class Store:
    """One open database and the repositories over it."""

    def __init__(self, path: str, vault: Vault, clock: Callable[[], float] = time.time) -> None:
        self.vault = vault
        self.path = path
        self.db = _postgres(path) if is_postgres(path) else _sqlite(path)
        self._data_version = 0
        self._links: dict[str, PlatformLinks] = {}
        self._bus: Bus | None = None
        self._announcing = False
        self.writer = WriteBehind(self.db)
        self.users = Users(self.db, vault)
        self.shadow = Shadow(self.db, self.writer)
        self.devices = Devices(self.db, self.shadow)
        self.messages = Messages(self.db, self.writer)
        self.tokens = Tokens(self.db, clock)
        self.outbox = Outbox(self.db)
        self.clients = Clients(self.db)
        self.grants = Grants(self.db)
        self.logins = Logins(self.db)
        self.keys = Keys(self.db)
        self.pending = PendingCommands(self.db)
        self.handled = Handled(self.db)
        self.alerts = Alerts(self.db)
        self.subscriptions = Subscriptions(self.db)
        self.households = Households(self.db)
        self.readings = Readings(self.db)
        self.beliefs = Beliefs(self.db, self.writer)
        self.devices.on_delete.append(self.pending.fail_device)
        self.devices.on_delete.append(self.readings.forget_device)
        self.devices.on_delete.append(self.beliefs.forget_device)
        self._repositories: dict[type, Any] = {}
        self.devices.before_delete = self.plugin_tables
        self.devices.on_delete.append(self._forget_in_plugin_tables)

    def repository(self, cls: type[R]) -> R:
        """A plugin's repository over this database (its migrations applied on first use)."""
        found = self._repositories.get(cls)
        if found is None:
            sets.apply(self.db, cls.migrations, cls.adopts)
            found = self._repositories[cls] = cls(self)
        return found  # type: ignore[return-value]

    def plugin_tables(self) -> list[Any]:
        """Every installed plugin's repositories, opened (the server does at start; a device
        deletion does first, so none of its rows stays behind, whichever process deletes).

        Not done when the store opens: that would import every plugin into every CLI
        command (a quarter of a second of CPU)."""
        return [self.repository(cls) for cls in plugins.repositories()]

    def _forget_in_plugin_tables(self, device_id: str) -> None:
        for repository in self._repositories.values():
            repository.device_deleted(device_id)

    def check_key(self) -> None:
        """Refuse a key that cannot read what this database holds (a lost or changed key).

        Starting anyway would serve every device as unknown and fail later,
        deep in a command; one line now says what to restore.
        """
        row = self.db.execute("select app_secret from users limit 1").fetchone()
        if row is None:
            return
        try:
            self.vault.decrypt(row[0])
        except ValueError:
            raise WrongKey(
                f"the secret key cannot decrypt the secrets in {shown(self.path)}: restore its key"
                " file or set BRIDGE_SECRET_KEY to the key it was created with"
            ) from None

    def revoke_grant(self, grant_id: str) -> None:
        """End one account link: every token issued from that consent, at once."""
        self.tokens.forget(self.grants.revoke_grant(grant_id))

    def links(self, adapter: str) -> PlatformLinks:
        """The platform-link rows of one adapter."""
        links = self._links.get(adapter)
        if links is None:
            links = PlatformLinks(self.db, self.vault, adapter, self.subscriptions)
            self._links[adapter] = links
            links.cache.enabled = self.devices.cache.enabled
            self._announce(f"links:{adapter}", links.cache)
        return links

    def _caches(self) -> dict[str, Cache]:
        found: dict[str, Cache] = {
            "devices": self.devices.cache,
            "tokens": self.tokens.cache,
            "subscriptions": self.subscriptions.cache,
            "households": self.households.cache,
        }
        found.update({f"links:{name}": links.cache for name, links in self._links.items()})
        return found

    def share(self, bus: Bus) -> None:
        """One worker among several: announce every cache drop and shadow change to the
        others over the bus as it happens (the shadow's changes of one moment together),
        and apply theirs here."""
        self._bus = bus
        self.shadow.on_change = self._announce_soon
        for name, cache in self._caches().items():
            self._announce(name, cache)
        bus.subscribe("cache", self._heard_drop)
        bus.subscribe("shadow", self._heard_shadow)

    def _announce_soon(self) -> None:
        """Announce the shadow's changes once the greenlets running now have made theirs."""
        if not self._announcing:
            self._announcing = True
            gevent.spawn(self._announce_now)

    def _announce_now(self) -> None:
        self._announcing = False
        try:
            self.announce_changes()
        except Exception:  # kept: the next change or the writer's next flush retries
            log.warning("could not announce shadow changes to the other workers", exc_info=True)

    def announce_changes(self) -> None:
        """Tell the other workers the shadow changes made here since the last call."""
        changes = self.shadow.take_changes()
        if changes and self._bus is not None:
            try:
                self._bus.publish("shadow", {"from": self._bus.worker, "devices": changes})
            except Exception:
                self.shadow.untake(changes)
                raise

    def _announce(self, name: str, cache: Cache) -> None:
        bus = self._bus
        if bus is not None:
            cache.announce = lambda key: bus.publish(
                "cache", {"from": bus.worker, "cache": name, "key": key}
            )

    def _mine(self, notice: dict) -> bool:
        """A notice this worker sent itself (it has applied the change already)."""
        return self._bus is not None and notice.get("from") == self._bus.worker

    def _heard_drop(self, notice: dict) -> None:
        if self._mine(notice):
            return
        name, key = notice.get("cache"), notice.get("key")
        cache = self._caches().get(str(name))
        if cache is not None and isinstance(key, str | int):
            cache.forget(key)
            if name == "devices" and isinstance(key, str):
                self.shadow.forget(key)

    def _heard_shadow(self, notice: dict) -> None:
        if self._mine(notice):
            return
        devices = notice.get("devices")
        if isinstance(devices, dict):
            for device_id, entries in devices.items():
                if isinstance(entries, dict):
                    self.shadow.merge(str(device_id), entries)

    def serve(self) -> None:
        """Switch to server mode: writes go behind, hot lookups are cached."""
        self.writer.buffered = True
        if self.path != ":memory:":
            self.db.checkpoints_elsewhere()
        self.devices.cache.enabled = self.tokens.cache.enabled = True
        self.subscriptions.cache.enabled = self.households.cache.enabled = True
        for links in self._links.values():
            links.cache.enabled = True
        self._data_version = self._version()

    def checkpoint(self) -> None:
        """Move the write-ahead log into the database (server mode: from a thread)."""
        if self.path != ":memory:":
            self.db.checkpoint(self.path)

    def notice_external_changes(self) -> bool:
        """Empty the caches if another process committed; True if it did."""
        version = self._version()
        if version == self._data_version:
            return False
        self._data_version = version
        self.devices.cache.clear()
        self.tokens.cache.clear()
        self.subscriptions.cache.clear()
        self.households.cache.clear()
        for links in self._links.values():
            links.cache.clear()
        return True

    def _version(self) -> int:
        return self.db.version()

    def close(self) -> None:
        self.writer.flush()
        self.db.close()
