"""Tuya cloud-to-cloud: the bridge's devices registered in Tuya, reported as they change.

Tuya is a push platform: nothing calls a webhook of the bridge. `bridge tuya
link USER` registers each of the user's devices under the TuyaLink product
of its type (`third_cloud_device_id` = the bridge's device id) and keeps
the Tuya device ids in the user's link, encrypted like every platform link.
From then on the proactive reports carry the rest, through the outbox with
its retries: a device added, renamed or removed in the bridge is registered,
renamed or removed in Tuya; a device coming online or going offline calls
Tuya's online or offline; every state change is a property report in
Tuya's codes and units (`functions.py`).

Commands from Tuya's apps arrive through Tuya's Message Service
(`BRIDGE_TUYA_MQ_URL`): the core keeps the consumer's WebSocket, this adapter
opens each frame (`messages.py`), sends the commands through the normal
path, queues Tuya's answer in the outbox (committed), and only then has the
frame acked. A redelivered message is acked and not applied again.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, ClassVar

import orjson

from adapters.base import Adapter, AdapterContext, DeadLetter, RetryLater, VoiceReply, VoiceRequest
from adapters.tuya import messages
from adapters.tuya.functions import BadValue, command, functions, properties
from adapters.tuya.openapi import OpenApi, TuyaError, TuyaUnavailable
from bridge.events import CONNECTIVITY
from bridge.model import BridgeError, Command, Device, StateChange, User

DEFAULT_API_URL = "https://openapi.tuyaus.com"
DEVICES = "/v1.0/iot-03/3rdcloud/devices"
CONSUMER = "/ws/v2/consumer/persistent/{id}/out/{topic}/{id}-sub"
CONSUMER_QUERY = "?ackTimeoutMillis=3000&subscriptionType=Failover"
SEEN_FOR = 86400.0
"""Seconds a message id is remembered (Tuya redelivers unacked messages sooner)."""
OWNERS_FOR = 3600.0


def _added(user: User, device: Device) -> StateChange:
    return _change(user, device, "added", "added")


def _change(
    user: User,
    device: Device,
    kind: str,
    action: str,
    outcome: str | None = None,
    reply_to: str | None = None,
    state: dict[str, Any] | None = None,
    changed: list[str] | None = None,
) -> StateChange:
    return StateChange(
        user.id,
        device.id,
        action,
        {},
        None,
        "APP_INTERACTION",
        TuyaAdapter.name,
        state or {},
        time.time(),
        tuple(changed or ()),
        kind,
        outcome,
        reply_to,
    )


def _shadow(type_name: str, code: str) -> str:
    return next(f.shadow for f in functions(type_name) if f.code == code)


def device_name(device: Device) -> str:
    """Tuya takes names of 4 to 50 characters."""
    name = device.name.strip()
    if len(name) < 4:
        name = f"{name} {device.type}".strip()
    return name[:50]


class TuyaAdapter(Adapter):
    name: ClassVar[str] = "tuya"

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        self.api = OpenApi(
            context.setting("api_url", DEFAULT_API_URL),
            context.setting("access_id"),
            context.setting("access_secret"),
            context.http,
        )
        self.secret = context.setting("access_secret")
        self.cipher = context.setting("mq_cipher", "ecb")
        self.deadline = float(context.setting("deadline", "8"))
        self._stream: Any = None

    # The message service
    def start(self) -> None:
        url = self.context.setting("mq_url")
        if not url:
            return
        access_id = self.context.setting("access_id")
        path = CONSUMER.format(id=access_id, topic=self.context.setting("mq_topic", "event"))
        headers = {"username": access_id, "password": messages.password(access_id, self.secret)}
        self._stream = self.context.stream(
            url.rstrip("/") + path + CONSUMER_QUERY, headers, self.on_frame
        )
        self._stream.start()

    def stop(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream = None

    def on_frame(self, text: str) -> list[str]:
        """One frame from the message service; the frames to send back (its ack)."""
        try:
            frame = messages.frame(text)
        except messages.BadMessage as exc:
            self.context.rejected(f"Tuya frame refused: {exc}", payload=text[:300])
            return []  # no id to ack: Tuya redelivers it, and it is refused again
        ack = [orjson.dumps({"messageId": frame.message_id}).decode()]
        try:
            found = messages.command(
                messages.open_envelope(frame.payload, self.secret, self.cipher)
            )
        except messages.BadMessage as exc:
            self.context.rejected(f"Tuya message refused: {exc}")
            return ack
        if found is None:
            return ack
        seen = f"seen:{found.msg_id}"
        if self.context.facts.get(seen) is None:
            self._execute(found)
            self.context.facts.put(seen, True, ttl=SEEN_FOR)
        return ack

    def _execute(self, found: messages.TuyaCommand) -> None:
        owner = self._owner(found.tuya_id)
        if owner is None:
            self.context.rejected(f"Tuya command for a device not linked here: {found.tuya_id}")
            return
        user, device = owner
        outcome = "ok"
        names = []
        for code, value in found.values.items():
            try:
                action, converted, instance = command(device.type, code, value)
            except BadValue as exc:
                self.context.rejected(f"Tuya {code}: {exc}", device.id, user.id)
                outcome = "INVALID_PARAMS"
                continue
            names.append(_shadow(device.type, code))
            try:
                self.context.send(
                    user,
                    Command(device.id, action, converted, instance, origin=self.name),
                    self.deadline,
                )
            except BridgeError as exc:  # recorded by the send path
                outcome = exc.code
        if found.kind == "actionExecute":
            answer = _change(user, device, "late", found.action_code or "", outcome, found.msg_id)
        else:  # the values as they are now, set or not
            state = {name: entry["value"] for name, entry in self.context.state(device).items()}
            answer = _change(user, device, "state", "propertySet", None, None, state, names)
        self.context.report_later(user, answer)

    def _owner(self, tuya_id: str) -> tuple[User, Device] | None:
        """The linked user and bridge device a Tuya device id stands for."""
        key = f"owner:{tuya_id}"
        known = self.context.facts.get(key)
        if known is None:
            for user_id in self.context.links.users():
                for device_id, their_id in self._ids_of(user_id).items():
                    if their_id == tuya_id:
                        known = [user_id, device_id]
            if known is None:
                return None
            self.context.facts.put(key, known, ttl=OWNERS_FOR)
        user = self.context.user(int(known[0]))
        if user is None or self._ids_of(user.id).get(str(known[1])) != tuya_id:
            self.context.facts.pop(key)  # unlinked or removed since
            return None
        try:
            return user, self.context.device(user, str(known[1]))
        except BridgeError:
            return None

    @classmethod
    def commands(cls, adapter, user) -> list:
        from adapters.tuya.cli import commands

        return commands(adapter, user)

    # Tuya calls nothing here: answer any request in Tuya's own envelope.
    def handle(self, request: VoiceRequest) -> VoiceReply:
        return self._envelope(404, "Tuya's commands arrive through its message service")

    def refuse(self, reason: str, status: int = 400) -> VoiceReply:
        return self._envelope(status, reason)

    def internal_error(self) -> VoiceReply:
        return self._envelope(500, "internal error")

    @staticmethod
    def _envelope(code: int, message: str) -> VoiceReply:
        body = {"success": False, "code": code, "msg": message, "t": int(time.time() * 1000)}
        return VoiceReply(body, status=code)

    # Linking
    def product(self, type_name: str) -> str:
        """The TuyaLink product of a catalog type (empty: the type is not registered)."""
        return self.context.setting(f"product_{type_name}") if functions(type_name) else ""

    def link(self, user: User) -> list[tuple[Device, str | None]]:
        """Register every device of the user that has a product; (device, pairing URL).

        Run from the command line, where the devices' connections are not: each
        device is then queued as added, and the server tells Tuya whether it is
        online and what state it is in. Raises TuyaError or TuyaUnavailable when
        Tuya refuses or cannot be reached.
        """
        if self.context.links.get(user.id) is None:
            self.context.links.put(user.id, {"devices": {}})
        registered = []
        for device in self.context.devices(user):
            if self.product(device.type):
                registered.append((device, self._register(user, device, announce=False)))
                self.context.report_later(user, _added(user, device))
        return registered

    def wants_reports(self, user: User) -> bool:
        return self.context.links.get(user.id) is not None

    def _ids(self, user: User) -> dict[str, str]:
        return self._ids_of(user.id)

    def _ids_of(self, user_id: int) -> dict[str, str]:
        link = self.context.links.get(user_id) or {}
        devices = link.get("devices")
        return dict(devices) if isinstance(devices, dict) else {}

    def _remember(self, user: User, device_id: str, tuya_id: str | None) -> None:
        ids = self._ids(user)
        if tuya_id is None:
            ids.pop(device_id, None)
        else:
            ids[device_id] = tuya_id
        link = self.context.links.get(user.id) or {}
        self.context.links.put(user.id, {**link, "devices": ids})

    def _register(self, user: User, device: Device, announce: bool = True) -> str | None:
        """Register (or register again: Tuya answers with the same id); then, with
        `announce`, tell Tuya whether it is online and what state it is in."""
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
        self._remember(user, device.id, tuya_id)
        if announce:
            self._online(tuya_id, self.context.online(device))
            state = {name: entry["value"] for name, entry in self.context.state(device).items()}
            self._report(tuya_id, device, state, None, time.time())
        short_url = result.get("short_url")
        return short_url if isinstance(short_url, str) else None

    # Reports
    def report(self, user: User, change: StateChange) -> None:
        try:
            self._deliver(user, change)
        except TuyaUnavailable as exc:
            raise RetryLater(str(exc)) from exc
        except TuyaError as exc:
            raise DeadLetter(str(exc)) from exc

    def _deliver(self, user: User, change: StateChange) -> None:
        tuya_id = self._ids(user).get(change.device_id)
        if change.kind == "removed":
            if tuya_id is not None:
                self.api.call("DELETE", f"{DEVICES}/{tuya_id}/remove")
                self._remember(user, change.device_id, None)
            return
        if change.kind == "late":
            if tuya_id is not None and change.reply_to and change.origin == self.name:
                self._action_response(tuya_id, change)
            return  # another platform's late result
        device = self.context.reported_device(user, change.device_id)
        if not self.product(device.type):
            return
        if tuya_id is None or change.kind == "added":
            self._register(user, device)
            return
        if change.kind == "updated":
            self.api.call("PUT", f"{DEVICES}/{tuya_id}", {"device_name": device_name(device)})
            return
        if CONNECTIVITY in change.changed:  # as it is now: coalescing may have merged changes
            self._online(tuya_id, self.context.online(device))
        self._report(tuya_id, device, change.properties, change.changed, change.at)

    def _action_response(self, tuya_id: str, change: StateChange) -> None:
        self.api.call(
            "POST",
            f"{DEVICES}/{tuya_id}/action-resp/report",
            {
                "msg_id": change.reply_to,
                "data": {
                    "actionCode": change.action,
                    "code": "success" if change.outcome == "ok" else str(change.outcome),
                    "outputParams": {},
                },
            },
        )

    def _online(self, tuya_id: str, online: bool) -> None:
        self.api.call("PUT", f"{DEVICES}/{tuya_id}/{'online' if online else 'offline'}")

    def _report(
        self, tuya_id: str, device: Device, state: dict[str, Any], only: Any, at: float
    ) -> None:
        values = properties(device.type, state, only)
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
