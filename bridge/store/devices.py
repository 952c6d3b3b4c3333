"""The device registry: which account owns which device id, of what type."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bridge import catalog
from bridge.model import BridgeError, Device, NoSuchDevice
from bridge.runtime import plugins
from bridge.store.cache import Cache
from bridge.store.secrets import new_device_id
from bridge.store.shadow import Shadow
from bridge.store.sql import Database, IntegrityError

DEVICE_ID = re.compile(r"^[0-9a-f]{24}$")


class DeviceExists(BridgeError):
    """That device id is taken."""

    code = "conflict"


def _device(row: dict) -> Device:
    return Device(
        row["id"], row["user_id"], row["type"], row["name"], row["room"], row["transport"]
    )


def natural(name: str) -> list[Any]:
    """A sort key that orders the numbers in a name by value (and letters without case)."""
    return [int(part) if part.isdecimal() else part.casefold() for part in _NUMBERS.split(name)]


_NUMBERS = re.compile(r"(\d+)")


class Devices:
    def __init__(self, db: Database, shadow: Shadow) -> None:
        self.db = db
        self.shadow = shadow
        self.cache: Cache[str, Device] = Cache()
        self.on_delete: list[Callable[[str], object]] = []
        """Called with a deleted device's id, inside the deletion's transaction."""
        self.before_delete: Callable[[], object] | None = None
        """Called before a deletion's transaction (to open what `on_delete` will need)."""
        """What else goes with a deleted device (each in the same transaction):
        the other repositories register here."""

    def create(
        self,
        user_id: int,
        type_name: str,
        name: str,
        room: str | None = None,
        device_id: str | None = None,
        transport: str | None = None,
    ) -> Device:
        """A new device, reached over `transport` (by default, the default transport's)."""
        catalog.device_type(type_name)
        if device_id is not None and not DEVICE_ID.match(device_id):
            raise BridgeError("a device id is 24 lowercase hex characters")
        if not name.strip() or len(name) > 128 or (room and len(room) > 64):
            raise BridgeError("a device name is 1-128 characters, a room at most 64")
        transport = transport or plugins.default_transport()
        device = Device(
            device_id or new_device_id(), user_id, type_name, name, room or None, transport
        )
        try:
            self.db["devices"].insert(
                {
                    "id": device.id,
                    "user_id": user_id,
                    "type": type_name,
                    "name": name,
                    "room": device.room,
                    "transport": transport,
                    "created_at": time.time(),
                }
            )
        except IntegrityError:
            raise DeviceExists(f"device {device.id} exists") from None
        return device

    def get(self, device_id: str) -> Device | None:
        def read() -> Device | None:
            row = self.db.execute(
                "select id, user_id, type, name, room, transport from devices where id = ?",
                (device_id,),
            ).fetchone()
            return None if row is None else Device(*row)

        return self.cache.fill(device_id, read)

    def owned(self, user_id: int, device_id: str) -> Device:
        """A device of this user; a foreign id is answered exactly like a missing one."""
        device = self.get(device_id)
        if device is None or device.user_id != user_id:
            raise NoSuchDevice(f"no device {device_id}")
        return device

    def of_user(self, user_id: int) -> list[Device]:
        """A user's devices by name as a person reads it: "Thing 2" before "Thing 10"."""
        rows = self.db["devices"].rows_where("user_id = ?", [user_id])
        return sorted((_device(r) for r in rows), key=lambda d: natural(d.name))

    def all(self) -> list[Device]:
        return [_device(r) for r in self.db["devices"].rows_where(order_by="user_id, name")]

    def rename(self, device_id: str, name: str, room: str | None = None) -> Device:
        device = self.get(device_id)
        if device is None:
            raise NoSuchDevice(f"no device {device_id}")
        if not name.strip() or len(name) > 128 or (room and len(room) > 64):
            raise BridgeError("a device name is 1-128 characters, a room at most 64")
        changes = {"name": name, **({"room": room} if room is not None else {})}
        self.db["devices"].update(device_id, changes)
        self.cache.drop(device_id)
        return replace(device, **changes)

    def delete(self, device_id: str) -> Device:
        device = self.get(device_id)
        if device is None:
            raise NoSuchDevice(f"no device {device_id}")
        if self.before_delete is not None:
            self.before_delete()
        with self.db.atomic():
            self.shadow.delete(device_id)
            for forget in self.on_delete:
                forget(device_id)
            self.db["devices"].delete(device_id)
        self.cache.drop(device_id)
        return device
