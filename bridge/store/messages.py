"""Message history: every request, response, event, report and rejection."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from sqlite_utils import Database

MAX_PAYLOAD_CHARS = 4096


@dataclass
class Entry:
    direction: str  # in (device to bridge) | out (bridge to device or platform)
    kind: str  # request | response | event | report | rejection | connection
    outcome: str  # ok | error | timeout | offline | refused | rejected | flagged | ...
    device_id: str | None = None
    user_id: int | None = None
    action: str | None = None
    latency_ms: float | None = None
    origin: str | None = None
    detail: str | None = None
    payload: Any = None
    at: float = 0.0


class Messages:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, entry: Entry) -> None:
        row = asdict(entry)
        row["at"] = entry.at or time.time()
        if entry.payload is not None:
            text = entry.payload if isinstance(entry.payload, str) else json.dumps(entry.payload)
            row["payload"] = text[:MAX_PAYLOAD_CHARS]
        if entry.detail:
            row["detail"] = entry.detail[:500]
        self.db["messages"].insert(row)

    def query(
        self,
        *,
        device_id: str | None = None,
        user_id: int | None = None,
        kind: str | None = None,
        since: float | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Newest first."""
        where, args = [], []
        for column, value in (("device_id", device_id), ("user_id", user_id), ("kind", kind)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            where.append("at >= ?")
            args.append(since)
        rows: Iterator[dict] = self.db["messages"].rows_where(
            " and ".join(where) or None, args, order_by="id desc", limit=limit
        )
        return list(rows)

    def prune(self, older_than: float) -> int:
        """Drop entries older than a time (the retention setting); return how many."""
        cursor = self.db.execute("delete from messages where at < ?", [older_than])
        return cursor.rowcount
