"""The Sigfox transport's tables: device types, their devices, the frames already seen."""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from bridge.plugin import BridgeError, IntegrityError, Migrations, Repository, hash_token

migrations = Migrations("sigfox")


@migrations()
def m001_types_devices_frames(db) -> None:
    """Sigfox device types (layouts, hashed callback secrets), devices, seen frames."""
    db["sigfox_types"].create(
        {
            "name": str,
            "uplink": str,
            "downlink": str,
            "catalog_type": str,
            "codec": str,
            "secret_hash": str,
            "created_at": float,
        },
        pk="name",
    )
    db["sigfox_devices"].create(
        {"sigfox_id": str, "device_id": str, "type_name": str, "reachable": int}, pk="sigfox_id"
    )
    db["sigfox_devices"].create_index(["device_id"], unique=True)
    db["sigfox_frames"].create(
        {"sigfox_id": str, "seq": int, "time": int, "seen_at": float},
        pk=("sigfox_id", "seq", "time"),
    )


@migrations()
def m002_type_ids(db) -> None:
    """A device type's id in Sigfox's backend, for listing its devices through the API."""
    db["sigfox_types"].add_column("sigfox_type_id", str)


@migrations()
def m003_type_owner(db) -> None:
    """A Sigfox device type belongs to an account (NULL: the operator's, open to all)."""
    db["sigfox_types"].add_column("owner_id", int)


@dataclass(frozen=True)
class SigfoxType:
    name: str
    uplink: str
    downlink: str | None
    catalog_type: str
    codec: str | None
    sigfox_type_id: str | None = None
    owner_id: int | None = None
    """The account whose devices may join it; None: the operator's, open to every account."""

    def open_to(self, user_id: int) -> bool:
        return self.owner_id is None or self.owner_id == user_id


@dataclass(frozen=True)
class SigfoxDevice:
    sigfox_id: str
    device_id: str
    type: SigfoxType
    reachable: bool


class SigfoxStore(Repository):
    """Types, devices and seen frames; the core's set made them on older databases."""

    migrations = migrations
    adopts: ClassVar[Mapping[str, str]] = {
        "m001_types_devices_frames": "m009_sigfox",
        "m002_type_ids": "m010_sigfox_type_ids",
        "m003_type_owner": "m019_sigfox_type_owner",
    }

    def device_deleted(self, device_id: str) -> None:
        self.forget_device(device_id)

    def create_type(
        self,
        name: str,
        uplink: str,
        downlink: str | None,
        catalog_type: str,
        codec: str | None,
        secret: str,
        sigfox_type_id: str | None = None,
        owner_id: int | None = None,
    ) -> SigfoxType:
        try:
            self.db["sigfox_types"].insert(
                {
                    "name": name,
                    "uplink": uplink,
                    "downlink": downlink,
                    "catalog_type": catalog_type,
                    "codec": codec,
                    "secret_hash": hash_token(secret),
                    "sigfox_type_id": sigfox_type_id,
                    "owner_id": owner_id,
                    "created_at": time.time(),
                }
            )
        except IntegrityError:
            raise BridgeError(f"a Sigfox type {name!r} exists") from None
        return SigfoxType(name, uplink, downlink, catalog_type, codec, sigfox_type_id, owner_id)

    def type(self, name: str) -> SigfoxType | None:
        row = self.db.execute(
            "select name, uplink, downlink, catalog_type, codec, sigfox_type_id, owner_id"
            " from sigfox_types where name = ?",
            (name,),
        ).fetchone()
        return SigfoxType(*row) if row else None

    def types_of_secret(self, secret: str) -> set[str]:
        """The types whose secret `secret` is (one, unless two share it); constant time."""
        given = hash_token(secret)
        rows = self.db.execute("select name, secret_hash from sigfox_types").fetchall()
        # Every row compared: the time says nothing about which matched.
        return {name for name, stored in rows if hmac.compare_digest(given, stored)}

    def check_secret(self, type_name: str | None, secret: str) -> bool:
        """Whether `secret` is that type's (or, with None, any type's); constant time."""
        types = self.types_of_secret(secret)
        return bool(types) if type_name is None else type_name in types

    def add_device(self, sigfox_id: str, device_id: str, type_name: str) -> None:
        try:
            self.db["sigfox_devices"].insert(
                {
                    "sigfox_id": sigfox_id,
                    "device_id": device_id,
                    "type_name": type_name,
                    "reachable": 1,
                }
            )
        except IntegrityError:
            raise BridgeError(f"Sigfox device {sigfox_id} is registered already") from None

    def forget_device(self, device_id: str) -> None:
        self.db.execute("delete from sigfox_devices where device_id = ?", (device_id,))

    def device(self, sigfox_id: str) -> SigfoxDevice | None:
        row = self.db.execute(
            "select sigfox_id, device_id, type_name, reachable from sigfox_devices"
            " where sigfox_id = ?",
            (sigfox_id,),
        ).fetchone()
        if row is None:
            return None
        kind = self.type(row[2])
        return SigfoxDevice(row[0], row[1], kind, bool(row[3])) if kind else None

    def by_device(self, device_id: str) -> SigfoxDevice | None:
        row = self.db.execute(
            "select sigfox_id from sigfox_devices where device_id = ?", (device_id,)
        ).fetchone()
        return self.device(row[0]) if row else None

    def devices_of_type(self, type_name: str) -> list[str]:
        rows = self.db.execute(
            "select sigfox_id from sigfox_devices where type_name = ?", (type_name,)
        )
        return [r[0] for r in rows]

    def set_reachable(self, sigfox_id: str, reachable: bool) -> bool:
        """Set reachability; whether it changed."""
        cursor = self.db.execute(
            "update sigfox_devices set reachable = ? where sigfox_id = ? and reachable != ?",
            (int(reachable), sigfox_id, int(reachable)),
        )
        return cursor.rowcount == 1

    def first_sight(self, sigfox_id: str, seq: int, at: int) -> bool:
        """Record a frame; False when it was seen before (a retry or a duplicate)."""
        cursor = self.db.execute(
            "insert or ignore into sigfox_frames (sigfox_id, seq, time, seen_at)"
            " values (?, ?, ?, ?)",
            (sigfox_id, seq, at, time.time()),
        )
        return cursor.rowcount == 1

    def last_frame(self, sigfox_id: str) -> int | None:
        """The time (epoch s) of the newest frame seen from a device."""
        row = self.db.execute(
            "select max(time) from sigfox_frames where sigfox_id = ?", (sigfox_id,)
        ).fetchone()
        return row[0] if row and row[0] is not None else None

    def prune_frames(self, older_than: float) -> None:
        self.db.execute("delete from sigfox_frames where seen_at < ?", (older_than,))
