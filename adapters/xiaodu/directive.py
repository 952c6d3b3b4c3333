"""A DuerOS directive, parsed: the registry's key, its token, and the replies it builds.

Every reply copies the directive's messageId by itself; an error's name goes
in `header.name` under the Control namespace, as DuerOS wants.
"""

from __future__ import annotations

from typing import Any

import msgspec

from adapters.xiaodu.errors import DuerError
from adapters.xiaodu.models import Payload
from bridge.plugin import Directive, Journey, VoiceReply

DISCOVERY = "DuerOS.ConnectedHome.Discovery"
CONTROL = "DuerOS.ConnectedHome.Control"
QUERY = "DuerOS.ConnectedHome.Query"
UNBIND = "DuerOS.ConnectedHome.UnbindBot"


def envelope(namespace: str, name: str, message_id: str, payload: dict[str, Any]) -> dict:
    return {
        "header": {
            "namespace": namespace,
            "name": name,
            "messageId": message_id,
            "payloadVersion": "1",
        },
        "payload": payload,
    }


def error_reply(exc: DuerError, message_id: str = "") -> VoiceReply:
    return VoiceReply(envelope(CONTROL, exc.code, message_id, exc.details))


class DuerDirective(msgspec.Struct, Directive, frozen=True):
    namespace: str
    name: str
    message_id: str
    payload: Payload
    token: str | None
    journey: Journey | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.namespace, self.name

    @property
    def journey_name(self) -> str:
        return self.name

    def reply(self, name: str, payload: dict[str, Any], namespace: str | None = None) -> VoiceReply:
        """`name` in this directive's namespace (or `namespace`), its messageId copied."""
        return VoiceReply(envelope(namespace or self.namespace, name, self.message_id, payload))

    def error(self, exc: DuerError) -> VoiceReply:  # type: ignore[override]
        return error_reply(exc, self.message_id)
