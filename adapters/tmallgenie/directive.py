"""An AliGenie directive, parsed: the registry's key, its token, and the replies it builds.

A reply copies the directive's namespace, messageId and payLoadVersion and
changes only the name; an error reply names the device it was about.
"""

from __future__ import annotations

from typing import Any

import msgspec

from adapters.tmallgenie.errors import GenieError
from adapters.tmallgenie.models import Payload
from bridge.plugin import Directive, Journey, VoiceReply

DISCOVERY = "AliGenie.Iot.Device.Discovery"
CONTROL = "AliGenie.Iot.Device.Control"
QUERY = "AliGenie.Iot.Device.Query"


def error_body(header: dict[str, Any], error: GenieError, device_id: Any = None) -> dict:
    """An ErrorResponse echoing what of `header` there is (Control when it has no namespace)."""
    echoed = {
        "namespace": header.get("namespace") or CONTROL,
        "name": "ErrorResponse",
        "messageId": header.get("messageId", ""),
        "payLoadVersion": header.get("payLoadVersion", 1),
    }
    payload = {"errorCode": error.code, "message": error.message}
    if isinstance(device_id, str):
        payload = {"deviceId": device_id, **payload}
    return {"header": echoed, "payload": payload}


class GenieDirective(msgspec.Struct, Directive, frozen=True):
    namespace: str
    name: str
    message_id: str
    version: int
    payload: Payload
    token: str | None
    journey: Journey | None = None

    @property
    def key(self) -> tuple:
        """Discovery in either protocol; v1 by namespace and name; v2 by name alone."""
        if self.namespace == DISCOVERY:
            return (DISCOVERY,)
        return (2, self.name) if self.version == 2 else (1, self.namespace, self.name)

    @property
    def journey_name(self) -> str:
        return self.name

    @property
    def header(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "messageId": self.message_id,
            "payLoadVersion": self.version,
        }

    def reply(self, name: str, payload: dict[str, Any], **extra: Any) -> VoiceReply:
        """`name`, with this directive's namespace, messageId and payLoadVersion."""
        return VoiceReply({**extra, "header": {**self.header, "name": name}, "payload": payload})

    def error(self, exc: GenieError) -> VoiceReply:  # type: ignore[override]
        return VoiceReply(error_body(self.header, exc, self.payload.deviceId))
