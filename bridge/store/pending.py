"""Commands accepted for devices that are not listening now: durable until done.

A device that only listens after it speaks (a Sigfox BIDIR uplink) gets its
commands later. One waits per device and capability: a newer one replaces
the older (the last setPowerState wins). States: pending (waiting for the
device to ask), sent (handed to the network), then delivered, failed,
expired or replaced.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from bridge.store.secrets import new_token
from bridge.store.sql import Database


@dataclass(frozen=True)
class PendingCommand:
    id: str
    device_id: str
    user_id: int
    capability: str
    action: str
    value: dict[str, Any]
    instance_id: str | None
    origin: str
    reply_to: str | None
    state: str
    downlink: str | None
    detail: str | None
    created_at: float
    expires_at: float
    journey: str | None = None
    """The journey of the directive or API call that asked (its end is a hop of it)."""

    @classmethod
    def of(cls, row: dict) -> PendingCommand:
        return cls(
            row["id"],
            row["device_id"],
            row["user_id"],
            row["capability"],
            row["action"],
            json.loads(row["value"]),
            row["instance_id"],
            row["origin"],
            row["reply_to"],
            row["state"],
            row["downlink"],
            row["detail"],
            row["created_at"],
            row["expires_at"],
            row.get("journey"),
        )


class PendingCommands:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        device_id: str,
        user_id: int,
        capability: str,
        action: str,
        value: dict[str, Any],
        instance_id: str | None,
        origin: str,
        reply_to: str | None,
        downlink: str,
        ttl: float,
        journey: str | None = None,
    ) -> tuple[PendingCommand, list[PendingCommand]]:
        """Queue a command; return it and the older ones of that capability it replaced."""
        now = time.time()
        with self.db.atomic():
            replaced = [
                PendingCommand.of(r)
                for r in self.db["pending_commands"].rows_where(
                    "device_id = ? and capability = ? and state = 'pending'",
                    [device_id, capability],
                )
            ]
            for old in replaced:
                self._finish(old.id, "replaced", "a newer command took its place", now)
            row = {
                "id": new_token(12),
                "device_id": device_id,
                "user_id": user_id,
                "capability": capability,
                "action": action,
                "value": json.dumps(value),
                "instance_id": instance_id,
                "origin": origin,
                "reply_to": reply_to,
                "state": "pending",
                "downlink": downlink,
                "detail": None,
                "created_at": now,
                "expires_at": now + ttl,
                "sent_at": None,
                "done_at": None,
                "journey": journey,
            }
            self.db["pending_commands"].insert(row)
        return PendingCommand.of(row), replaced

    def get(self, command_id: str) -> PendingCommand | None:
        row = next(self.db["pending_commands"].rows_where("id = ?", [command_id], limit=1), None)
        return PendingCommand.of(row) if row else None

    def next_for(self, device_id: str, now: float | None = None) -> PendingCommand | None:
        """The oldest command still waiting for this device (one downlink per uplink)."""
        row = next(
            self.db["pending_commands"].rows_where(
                "device_id = ? and state = 'pending' and expires_at > ?",
                [device_id, now if now is not None else time.time()],
                order_by="created_at",
                limit=1,
            ),
            None,
        )
        return PendingCommand.of(row) if row else None

    def mark_sent(self, command_id: str) -> None:
        self.db.execute(
            "update pending_commands set state = 'sent', sent_at = ?"
            " where id = ? and state = 'pending'",
            (time.time(), command_id),
        )

    def last_sent(self, device_id: str) -> PendingCommand | None:
        row = next(
            self.db["pending_commands"].rows_where(
                "device_id = ? and state = 'sent'", [device_id], order_by="sent_at desc", limit=1
            ),
            None,
        )
        return PendingCommand.of(row) if row else None

    def finish(self, command_id: str, state: str, detail: str | None = None) -> bool:
        """Close an open command (delivered, failed, expired); False when it was closed already."""
        return self._finish(command_id, state, detail, time.time())

    def _finish(self, command_id: str, state: str, detail: str | None, now: float) -> bool:
        cursor = self.db.execute(
            "update pending_commands set state = ?, detail = ?, done_at = ?"
            " where id = ? and state in ('pending', 'sent')",
            (state, detail, now, command_id),
        )
        return cursor.rowcount == 1

    def fail_device(self, device_id: str) -> None:
        """A deleted device's open commands fail: nothing will ever take them."""
        self.db.execute(
            "update pending_commands set state = 'failed', detail = 'device deleted',"
            " done_at = ? where device_id = ? and state in ('pending', 'sent')",
            (time.time(), device_id),
        )

    def expired(self, now: float | None = None) -> list[PendingCommand]:
        """Open commands past their time to live (not yet marked)."""
        rows = self.db["pending_commands"].rows_where(
            "state in ('pending', 'sent') and expires_at <= ?",
            [now if now is not None else time.time()],
        )
        return [PendingCommand.of(r) for r in rows]
