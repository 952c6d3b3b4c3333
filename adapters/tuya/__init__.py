"""Tuya cloud-to-cloud: the bridge's devices registered in Tuya, reported as they change.

Tuya is a push platform: nothing calls a webhook of the bridge. `bridge tuya
link USER` registers each of the user's devices under the TuyaLink product
of its type (`third_cloud_device_id` = the bridge's device id) and keeps
the Tuya device ids in the user's link, encrypted like every platform link
(`ids.py`). From then on the proactive reports carry the rest, through the
outbox with its retries (`cloud.py`): a device added, renamed or removed in
the bridge is registered, renamed or removed in Tuya; a device coming online
or going offline calls Tuya's online or offline; every state change is a
property report in Tuya's codes and units (`functions.py`).

Commands from Tuya's apps arrive through Tuya's Message Service
(`BRIDGE_TUYA_MQ_URL`): the core keeps the consumer's WebSocket, and
`consumer.py` opens each frame (`messages.py`), sends the commands through
the normal path and answers Tuya.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from adapters.tuya import coverage as tuya_coverage
from adapters.tuya import messages
from adapters.tuya.cloud import Cloud
from adapters.tuya.consumer import Consumer
from adapters.tuya.functions import functions
from adapters.tuya.ids import TuyaIds
from adapters.tuya.openapi import DEVICE_NOT_EXIST, OpenApi, TuyaError
from adapters.tuya.settings import TuyaSettings
from bridge.plugin import (
    Adapter,
    AdapterContext,
    DeadLetter,
    Device,
    DeviceAnnounced,
    LateResult,
    Message,
    Reachability,
    Service,
    StateReport,
    UnknownDevice,
    User,
    VoiceReply,
    VoiceRequest,
)
from bridge.plugin import coverage as cov

DEFAULT_API_URL = "https://openapi.tuyaus.com"
CONSUMER = "/ws/v2/consumer/persistent/{id}/out/{topic}/{id}-sub"
CONSUMER_QUERY = "?ackTimeoutMillis=3000&subscriptionType=Failover"


class TuyaAdapter(Adapter):
    name: ClassVar[str] = "tuya"
    title = "Tuya"
    settings_model = TuyaSettings

    @classmethod
    def coverage(cls, type_name: str) -> cov.Coverage | None:
        return tuya_coverage.coverage(type_name)

    @classmethod
    def mirrors(cls, type_name: str) -> frozenset[str]:
        """The properties a type's standard codes carry (a press mirrors none)."""
        return frozenset(f.shadow for f in functions(type_name) if not f.event)

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        self.access_id = context.settings.access_id
        self.secret = context.settings.access_secret
        api = OpenApi(context.settings.api_url, self.access_id, self.secret, context.http)
        self.ids = TuyaIds(context)
        self.cloud = Cloud(context, api, self.ids)
        self.consumer = Consumer(context, self.ids, self.secret, context.settings.mq_cipher)

    @classmethod
    def commands(cls) -> list:
        from adapters.tuya.cli import tuya

        return [tuya]

    # The message service
    def services(self) -> list[Service]:
        """Its message service, when configured: one stream per deployment."""
        url = self.context.settings.mq_url
        if not url:
            return []
        path = CONSUMER.format(id=self.access_id, topic=self.context.settings.mq_topic)
        headers = {
            "username": self.access_id,
            "password": messages.password(self.access_id, self.secret),
        }
        return [
            self.context.stream(
                url.rstrip("/") + path + CONSUMER_QUERY, headers, self.consumer.on_frame
            )
        ]

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

    # Linking and reports
    def link(self, user: User) -> list[tuple[Device, str | None]]:
        """Register every device of the user that has a product; (device, pairing URL).

        Run from the command line, where the devices' connections are not: each
        device is then queued as added, and the server tells Tuya whether it is
        online and what state it is in. Raises TuyaError, RetryLater or DeadLetter
        when Tuya refuses or cannot be reached.
        """
        if self.context.links.get(user.id) is None:
            self.context.links.put(user.id, {"devices": {}})
        registered = []
        for device in self.context.devices(user):
            if self.cloud.product(device.type):
                registered.append((device, self.cloud.register(user, device, announce=False)))
                added = DeviceAnnounced(
                    user_id=user.id,
                    device_id=device.id,
                    at=time.time(),
                    change="added",
                    origin=self.name,
                )
                self.context.report_later(user, added)
        return registered

    def unlink(self, user: User) -> int:
        """Remove the user's devices from Tuya and end the link; how many were removed.

        Raises TuyaError, RetryLater or DeadLetter as `link` does (nothing is
        forgotten then: run it again).
        """
        removed = self.cloud.remove_all(user)
        self.context.links.revoke(user.id, "unlinked with bridge tuya unlink")
        return removed

    def takes_reports(self, link: dict[str, Any]) -> bool:
        return True  # a linked user's devices live in Tuya

    def state_report(self, user: User, message: StateReport) -> None:
        self._told(self.cloud.state_report, user, message)

    def reachability(self, user: User, message: Reachability) -> None:
        self._told(self.cloud.reachability, user, message)

    def device_announced(self, user: User, message: DeviceAnnounced) -> None:
        self._told(self.cloud.device_announced, user, message)

    def late_result(self, user: User, message: LateResult) -> None:
        self._told(self.cloud.late_result, user, message)

    def _told(self, send: Callable[[User, Any], None], user: User, message: Message) -> None:
        """Tuya's refusal of a message is final for that message; a device Tuya no longer
        knows loses its Tuya id, to be registered again when it is announced again."""
        try:
            send(user, message)
        except TuyaError as exc:
            if exc.code == DEVICE_NOT_EXIST and message.device_id:
                self.ids.remember(user, message.device_id, None)
                raise UnknownDevice(str(exc)) from exc
            raise DeadLetter(str(exc)) from exc
