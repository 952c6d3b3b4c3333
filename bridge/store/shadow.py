"""The device shadow: last known value of each property, with its time of sample."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database


class Shadow:
    def __init__(self, db: Database) -> None:
        self.db = db

    def update(
        self, device_id: str, props: dict[str, Any], instance: str | None, at: float
    ) -> dict[str, Any]:
        """Record properties; return those whose value changed."""
        if not props:
            return {}
        before = self.get(device_id)
        key = instance or ""
        changed = {
            k: v for k, v in props.items() if before.get(_name(k, key), {}).get("value") != v
        }
        self.db["shadow"].upsert_all(
            [
                {
                    "device_id": device_id,
                    "property": k,
                    "instance": key,
                    "value": json.dumps(v),
                    "sampled_at": at,
                }
                for k, v in props.items()
            ],
            pk=("device_id", "property", "instance"),
        )
        return changed

    def get(self, device_id: str) -> dict[str, dict[str, Any]]:
        """`{property[:instance]: {"value": ..., "sampled_at": ...}}`."""
        rows = self.db["shadow"].rows_where("device_id = ?", [device_id])
        return {
            _name(r["property"], r["instance"]): {
                "value": json.loads(r["value"]),
                "sampled_at": r["sampled_at"],
            }
            for r in rows
        }


def _name(prop: str, instance: str) -> str:
    return f"{prop}:{instance}" if instance else prop
