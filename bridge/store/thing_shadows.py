"""Thing shadow documents (desired, reported, metadata) with their version.

Written behind like the core shadow (the server holds the live copy; one
server per database), so a thing's update costs no commit of its own. A
version only ever grows: an older write arriving late changes nothing.
"""

from __future__ import annotations

import json
import time
from typing import Any

import orjson

from bridge.store.sql import Database
from bridge.store.writer import WriteBehind

UPSERT = (
    "insert into thing_shadows (device_id, document, version, updated_at) values (?, ?, ?, ?)"
    " on conflict (device_id) do update set document = excluded.document,"
    " version = excluded.version, updated_at = excluded.updated_at"
    " where excluded.version > thing_shadows.version"
)


class ThingShadows:
    def __init__(self, db: Database, writer: WriteBehind) -> None:
        self.db = db
        self.writer = writer

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
        self.writer.add(UPSERT, (device_id, text, version, time.time()))
        if durable:
            self.writer.flush()
