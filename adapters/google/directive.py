"""A Google fulfillment request, parsed: its intent (the registry's key), token and replies.

Every reply copies the request's `requestId`; an authentication failure is
HTTP 401, which makes Google refresh the token (and unlink when that fails).
"""

from __future__ import annotations

from typing import Any

import msgspec

from adapters.google.errors import AUTH_FAILURE, GoogleError
from adapters.google.models import Request
from bridge.plugin import Directive, Journey, VoiceReply


def reply(request_id: str | None, payload: dict[str, Any], status: int = 200) -> VoiceReply:
    return VoiceReply({"requestId": request_id or "", "payload": payload}, status=status)


class Intent(msgspec.Struct, Directive, frozen=True):
    request: Request
    token: str | None
    journey: Journey | None = None

    @property
    def key(self) -> str:
        return self.request.inputs[0].intent

    @property
    def journey_name(self) -> str:
        return self.key

    @property
    def payload(self) -> Any:
        return self.request.inputs[0].payload

    def respond(self, payload: dict[str, Any]) -> VoiceReply:
        return reply(self.request.requestId, payload)

    def error(self, exc: GoogleError) -> VoiceReply:  # type: ignore[override]
        if exc.code == AUTH_FAILURE:
            return reply(self.request.requestId, {"errorCode": AUTH_FAILURE}, status=401)
        return reply(self.request.requestId, exc.result())
