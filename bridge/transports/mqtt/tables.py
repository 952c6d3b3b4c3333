"""The MQTT transport's tables: certificate authorities, issued certificates, thing shadows.

Thing shadow documents (desired, reported, metadata) are written behind like
the core shadow (the server holds the live copy; one server per database), so
a thing's update costs no commit of its own. A version only ever grows: an
older write arriving late changes nothing.
"""

from __future__ import annotations

import json
import time
from typing import Any

import orjson

from bridge.plugin import Migrations, Repository

migrations = Migrations("mqtt")
ADOPTS = {"m001_things": "m008_things"}
"""Made by the core's set before the transport kept its own tables."""


@migrations()
def m001_things(db) -> None:
    """Certificate authorities (keys encrypted), issued thing certificates, thing shadows."""
    db["authorities"].create(
        {"name": str, "cert_pem": str, "key_secret": str, "created_at": float}, pk="name"
    )
    db["certificates"].create(
        {
            "serial": str,
            "authority": str,
            "device_id": str,
            "common_name": str,
            "issued_at": float,
            "revoked_at": float,
        },
        pk="serial",
    )
    db["certificates"].create_index(["device_id"])
    db["thing_shadows"].create(
        {"device_id": str, "document": str, "version": int, "updated_at": float},
        pk="device_id",
    )


UPSERT = (
    "insert into thing_shadows (device_id, document, version, updated_at) values (?, ?, ?, ?)"
    " on conflict (device_id) do update set document = excluded.document,"
    " version = excluded.version, updated_at = excluded.updated_at"
    " where excluded.version > thing_shadows.version"
)


class ThingShadows(Repository):
    """Each thing's shadow document and version."""

    migrations = migrations
    adopts = ADOPTS

    def device_deleted(self, device_id: str) -> None:
        self.delete(device_id)

    def get(self, device_id: str) -> tuple[dict[str, Any], int] | None:
        row = self.db.execute(
            "select document, version from thing_shadows where device_id = ?", (device_id,)
        ).fetchone()
        return (json.loads(row[0]), row[1]) if row else None

    def delete(self, device_id: str) -> None:
        self.db.execute("delete from thing_shadows where device_id = ?", (device_id,))

    def save(
        self, device_id: str, document: dict[str, Any], version: int, durable: bool = False
    ) -> None:
        """Write behind; `durable`: committed before this returns (a thing's reachability
        changed: it will not say so again, so neither a crash nor another worker taking
        the broker session over may lose it)."""
        text = orjson.dumps(document).decode()
        self.store.writer.add(UPSERT, (device_id, text, version, time.time()))
        if durable:
            self.store.writer.flush()


class Certificates(Repository):
    """Certificate authorities and the certificates they issued (never a leaf's private key)."""

    migrations = migrations
    adopts = ADOPTS

    def device_deleted(self, device_id: str) -> None:
        """A deleted device's certificate must open nothing any more."""
        self.revoke_device(device_id)

    def authority(self, name: str) -> tuple[str, str] | None:
        """A CA's certificate and private key (PEM), or None before its first use."""
        row = self.db.execute(
            "select cert_pem, key_secret from authorities where name = ?", (name,)
        ).fetchone()
        return (row[0], self.store.vault.decrypt(row[1])) if row else None

    def save_authority(self, name: str, cert_pem: str, key_pem: str) -> bool:
        """Keep a new CA, its key encrypted; False when one of that name exists (keep it)."""
        inserted = self.db.execute(
            "insert or ignore into authorities (name, cert_pem, key_secret, created_at)"
            " values (?, ?, ?, ?)",
            (name, cert_pem, self.store.vault.encrypt(key_pem), time.time()),
        )
        return inserted.rowcount == 1

    def issued(self, serial: int, authority: str, common_name: str, device_id: str | None) -> None:
        self.db["certificates"].insert(
            {
                "serial": str(serial),
                "authority": authority,
                "device_id": device_id,
                "common_name": common_name,
                "issued_at": time.time(),
                "revoked_at": None,
            }
        )

    def revoke_device(self, device_id: str) -> int:
        """Revoke every live certificate of a device; how many were.

        Also when the device is deleted: its certificate must open nothing any more.
        """
        cursor = self.db.execute(
            "update certificates set revoked_at = ? where device_id = ? and revoked_at is null",
            (time.time(), device_id),
        )
        return cursor.rowcount

    def revoked(self, authority: str) -> list[tuple[int, float]]:
        rows = self.db.execute(
            "select serial, revoked_at from certificates"
            " where authority = ? and revoked_at is not null order by revoked_at",
            (authority,),
        )
        return [(int(serial), at) for serial, at in rows]
