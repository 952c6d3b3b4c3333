"""What the bridge tells Tuya's cloud: registrations, presence, property values, answers."""

from __future__ import annotations

import time
import uuid
from typing import Any

from adapters.tuya.functions import event_properties, functions, properties
from adapters.tuya.ids import TuyaIds
from adapters.tuya.openapi import DEVICE_NOT_EXIST, OpenApi, TuyaError
from bridge.plugin import (
    CONNECTIVITY,
    AdapterContext,
    Device,
    DeviceAnnounced,
    LateResult,
    LinkRevoked,
    Reachability,
    StateReport,
    User,
)

DEVICES = "/v1.0/iot-03/3rdcloud/devices"


def device_name(device: Device) -> str:
    """Tuya takes names of 4 to 50 characters."""
    name = device.name.strip()
    if len(name) < 4:
        name = f"{name} {device.type}".strip()
    return name[:50]


class Cloud:
    def __init__(self, context: AdapterContext, api: OpenApi, ids: TuyaIds) -> None:
        self.context = context
        self.api = api
        self.ids = ids

    def product(self, type_name: str) -> str:
        """The TuyaLink product of a catalog type (empty: the type is not registered)."""
        return self.context.settings.product.get(type_name, "") if functions(type_name) else ""

    def register(self, user: User, device: Device, announce: bool = True) -> str | None:
        """Register (or register again: Tuya answers with the same id); then, with
        `announce`, tell Tuya whether it is online and what state it is in. Returns
        the device's pairing URL, if Tuya gave one."""
        result = self.api.call(
            "POST",
            f"{DEVICES}/{device.id}/register",
            {
                "device_name": device_name(device),
                "product_id": self.product(device.type),
                "has_qrcode": True,  # a pairing URL: the user binds it in Tuya's app
            },
        )
        if not isinstance(result, dict) or not isinstance(result.get("device_id"), str):
            raise TuyaError("register", "the answer has no device_id")
        tuya_id = result["device_id"][:64]
        self.ids.remember(user, device.id, tuya_id)
        if announce:
            self._announce(tuya_id, device)
        short_url = result.get("short_url")
        return short_url if isinstance(short_url, str) else None

    def remove_all(self, user: User) -> int:
        """Remove every device of the user from Tuya (each forgotten once removed)."""
        ids = self.ids.of(user.id)
        for device_id, tuya_id in ids.items():
            self._remove(user, device_id, tuya_id)
        return len(ids)

    def _remove(self, user: User, device_id: str, tuya_id: str) -> None:
        try:
            self.api.call("DELETE", f"{DEVICES}/{tuya_id}/remove")
        except TuyaError as exc:
            if exc.code != DEVICE_NOT_EXIST:  # else: gone already
                raise
        self.ids.remember(user, device_id, None)

    # -- the messages, each told to Tuya (raising TuyaError, RetryLater or DeadLetter) --

    def device_announced(self, user: User, m: DeviceAnnounced) -> None:
        if m.change == "removed":
            tuya_id = self._tuya_id(user, m.device_id)
            if tuya_id is not None:
                self._remove(user, m.device_id, tuya_id)
            return
        found = self._registered(user, m.device_id)
        if found is None:
            return
        tuya_id, device = found
        if m.change == "added":  # registered already (`bridge tuya link`): say how it is
            self._announce(tuya_id, device)
        else:
            self.api.call("PUT", f"{DEVICES}/{tuya_id}", {"device_name": device_name(device)})

    def state_report(self, user: User, m: StateReport) -> None:
        found = self._registered(user, m.device_id)
        if found is not None:
            tuya_id, device = found
            if CONNECTIVITY in m.changed:  # a reachability change folded in: as it is now
                self._online(tuya_id, self.context.online(device))
            values = properties(device.type, m.properties, m.changed)
            self._report(tuya_id, values | event_properties(device.type, m.event, m.value), m.at)

    def reachability(self, user: User, m: Reachability) -> None:
        found = self._registered(user, m.device_id)
        if found is not None:  # as it is now: a newer change may have been folded in
            tuya_id, device = found
            self._online(tuya_id, self.context.online(device))

    def late_result(self, user: User, m: LateResult) -> None:
        """The answer to an action Tuya asked for (another platform's is not Tuya's)."""
        tuya_id = self._tuya_id(user, m.device_id)
        if tuya_id is not None and m.reply_to and m.origin == self.context.name:
            code = "success" if m.outcome == "ok" else m.outcome
            self.api.call(
                "POST",
                f"{DEVICES}/{tuya_id}/action-resp/report",
                {
                    "msg_id": m.reply_to,
                    "data": {"actionCode": m.command, "code": code, "outputParams": {}},
                },
            )

    def _tuya_id(self, user: User, device_id: str) -> str | None:
        if self.context.links.get(user.id) is None:
            raise LinkRevoked("the user unlinked Tuya")  # queued before: never re-register
        return self.ids.of(user.id).get(device_id)

    def _registered(self, user: User, device_id: str) -> tuple[str, Device] | None:
        """The device's Tuya id, registering it first if it has none (then there is nothing
        more to tell: registering says how it is); None when its type has no product."""
        tuya_id = self._tuya_id(user, device_id)
        device = self.context.reported_device(user, device_id)
        if not self.product(device.type):
            return None
        if tuya_id is None:
            self.register(user, device)
            return None
        return tuya_id, device

    def _announce(self, tuya_id: str, device: Device) -> None:
        """Tell Tuya whether a registered device is online and what state it is in."""
        self._online(tuya_id, self.context.online(device))
        state = {name: entry["value"] for name, entry in self.context.state(device).items()}
        self._report(tuya_id, properties(device.type, state), time.time())

    def _online(self, tuya_id: str, online: bool) -> None:
        self.api.call("PUT", f"{DEVICES}/{tuya_id}/{'online' if online else 'offline'}")

    def _report(self, tuya_id: str, values: dict[str, Any], at: float) -> None:
        if not values:
            return
        stamp = int(at * 1000)
        self.api.call(
            "POST",
            f"{DEVICES}/{tuya_id}/property/report",
            {
                "msg_id": uuid.uuid4().hex,
                "data": {code: {"value": value, "time": stamp} for code, value in values.items()},
            },
        )
