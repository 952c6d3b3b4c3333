"""Certificate authorities and the certificates they issued (never a leaf's private key)."""

from __future__ import annotations

import time

from bridge.secrets import Vault
from bridge.store.sql import Database


class Certificates:
    def __init__(self, db: Database, vault: Vault) -> None:
        self.db = db
        self.vault = vault

    def authority(self, name: str) -> tuple[str, str] | None:
        """A CA's certificate and private key (PEM), or None before its first use."""
        row = self.db.execute(
            "select cert_pem, key_secret from authorities where name = ?", (name,)
        ).fetchone()
        return (row[0], self.vault.decrypt(row[1])) if row else None

    def save_authority(self, name: str, cert_pem: str, key_pem: str) -> bool:
        """Keep a new CA, its key encrypted; False when one of that name exists (keep it)."""
        inserted = self.db.execute(
            "insert or ignore into authorities (name, cert_pem, key_secret, created_at)"
            " values (?, ?, ?, ?)",
            (name, cert_pem, self.vault.encrypt(key_pem), time.time()),
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
