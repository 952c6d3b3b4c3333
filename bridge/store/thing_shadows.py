"""Thing shadow documents (desired, reported, metadata) with their version."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlite_utils import Database


class ThingShadows:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, device_id: str) -> tuple[dict[str, Any], int] | None:
        row = self.db.conn.execute(
            "select document, version from thing_shadows where device_id = ?", (device_id,)
        ).fetchone()
        return (json.loads(row[0]), row[1]) if row else None

    def put(self, device_id: str, document: dict[str, Any], version: int) -> bool:
        """Store `document` as `version` if the stored one is `version - 1` (or none for 1).

        False when another writer got there first: the caller answers 409.
        """
        text = json.dumps(document, separators=(",", ":"))
        if version == 1:
            cursor = self.db.conn.execute(
                "insert or ignore into thing_shadows (device_id, document, version, updated_at)"
                " values (?, ?, 1, ?)",
                (device_id, text, time.time()),
            )
        else:
            cursor = self.db.conn.execute(
                "update thing_shadows set document = ?, version = ?, updated_at = ?"
                " where device_id = ? and version = ?",
                (text, version, time.time(), device_id, version - 1),
            )
        return cursor.rowcount == 1
