"""The signed device message format (Sinric Pro messaging, payload version 2).

Signatures cover the payload bytes exactly as they appear on the wire, so
the bridge serialises a payload once, signs that string, and splices it into
the envelope right before `,"signature"`: receivers can slice instead of
re-serialising.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

HEADER = '{"payloadVersion":2,"signatureVersion":1}'
PAYLOAD_MARKER = '"payload":'
SIGNATURE_MARKER = ',"signature"'


class ProtocolError(ValueError):
    """A device message that must be dropped; the text says why."""


def hmac_b64(secret: str, text: str) -> str:
    return base64.b64encode(hmac.digest(secret.encode(), text.encode(), hashlib.sha256)).decode()


_PREFIX = str(uuid.uuid4())[:24]
_COUNTER = itertools.count(int.from_bytes(os.urandom(4), "big"))


def reply_token() -> str:
    """A UUID-shaped token, unique per process and message, without a syscall each time.

    Correlation needs uniqueness, not secrecy: a response is only accepted
    with a valid signature, on the socket the request went out on.
    """
    return f"{_PREFIX}{next(_COUNTER) & 0xFFFFFFFFFFFF:012x}"


def dumps(obj: Any) -> str:
    """Compact JSON, exactly the bytes that get signed and sent."""
    return orjson.dumps(obj).decode()


def envelope(payload: dict[str, Any], secret: str) -> str:
    """Serialise and sign one message, payload immediately before the signature."""
    body = dumps(payload)
    return (
        '{"header":'
        + HEADER
        + ","
        + PAYLOAD_MARKER
        + body
        + ',"signature":{"HMAC":"'
        + hmac_b64(secret, body)
        + '"}}'
    )


def request(
    device_id: str,
    action: str,
    value: dict[str, Any],
    *,
    instance_id: str | None = None,
    client_id: str = "bridge",
    now: float | None = None,
) -> dict[str, Any]:
    """A request payload (bridge to device), keys in the order of Sinric's samples."""
    payload: dict[str, Any] = {
        "action": action,
        "clientId": client_id,
        "createdAt": int(now if now is not None else time.time()),
        "deviceAttributes": [],
        "deviceId": device_id,
    }
    if instance_id:
        payload["instanceId"] = instance_id
    payload.update(replyToken=reply_token(), type="request", value=value)
    return payload


def event(
    device_id: str,
    action: str,
    value: dict[str, Any],
    *,
    cause: str = "PHYSICAL_INTERACTION",
    instance_id: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """An event payload (device to bridge), as the device SDKs build it."""
    payload: dict[str, Any] = {
        "action": action,
        "cause": {"type": cause},
        "createdAt": int(now if now is not None else time.time()),
        "deviceId": device_id,
    }
    if instance_id:
        payload["instanceId"] = instance_id
    payload.update(replyToken=str(uuid.uuid4()), type="event", value=value)
    return payload


def response(
    req: dict[str, Any],
    value: dict[str, Any],
    *,
    success: bool = True,
    message: str = "OK",
    now: float | None = None,
) -> dict[str, Any]:
    """A response payload echoing a request's correlation fields."""
    payload: dict[str, Any] = {
        "action": req.get("action", ""),
        "clientId": req.get("clientId", ""),
        "createdAt": int(now if now is not None else time.time()),
        "deviceId": req.get("deviceId", ""),
        "message": message,
        "replyToken": req.get("replyToken", ""),
        "success": success,
        "type": "response",
        "value": value,
    }
    if "instanceId" in req:
        payload["instanceId"] = req["instanceId"]
    return payload


@dataclass(frozen=True)
class Message:
    """A parsed device message whose signature has not been checked yet."""

    raw: str
    payload: dict[str, Any]
    hmac: str

    @property
    def type(self) -> str:
        return str(self.payload.get("type", ""))

    @property
    def device_id(self) -> str:
        return str(self.payload.get("deviceId", ""))

    @property
    def action(self) -> str:
        return str(self.payload.get("action", ""))

    @property
    def reply_token(self) -> str:
        return str(self.payload.get("replyToken", ""))

    @property
    def value(self) -> dict[str, Any]:
        v = self.payload.get("value")
        return v if isinstance(v, dict) else {}

    @property
    def instance_id(self) -> str | None:
        v = self.payload.get("instanceId")
        return str(v) if v else None


def parse(raw: str) -> Message:
    """Parse an envelope; raise ProtocolError for anything malformed."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError("malformed JSON") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("payload"), dict):
        raise ProtocolError("no payload object")
    sig = doc.get("signature")
    mac = sig.get("HMAC") if isinstance(sig, dict) else None
    if not isinstance(mac, str) or not mac:
        raise ProtocolError("missing signature")
    payload = doc["payload"]
    if payload.get("type") not in ("request", "response", "event"):
        raise ProtocolError("unknown message type")
    return Message(raw, payload, mac)


def signed_text(raw: str) -> str | None:
    """The payload bytes as received: between `"payload":` and `,"signature"`."""
    start = raw.find(PAYLOAD_MARKER)
    end = raw.rfind(SIGNATURE_MARKER)
    if start < 0 or end < start:
        return None
    return raw[start + len(PAYLOAD_MARKER) : end].strip()


def verify(message: Message, secret: str) -> bool:
    """Constant-time check of the HMAC over the payload as sent.

    The raw slice is what every Sinric SDK signs; the compact re-serialisation
    covers older SDKs that re-encode the payload after parsing.
    """
    sliced = signed_text(message.raw)
    if sliced is not None and hmac.compare_digest(hmac_b64(secret, sliced), message.hmac):
        return True
    return hmac.compare_digest(hmac_b64(secret, dumps(message.payload)), message.hmac)


def check_fresh(message: Message, window: float, now: float | None = None) -> None:
    """Reject messages whose createdAt is outside the replay window."""
    created = message.payload.get("createdAt")
    if isinstance(created, bool) or not isinstance(created, int | float):
        raise ProtocolError("missing createdAt")
    if created > 1e11:  # milliseconds from a confused client
        created /= 1000
    skew = (now if now is not None else time.time()) - created
    if abs(skew) > window:
        raise ProtocolError(f"stale createdAt ({skew:+.0f} s)")


def timestamp_message(now: float | None = None) -> str:
    """The unsigned clock message sent first on every connection (ESP SDKs need it)."""
    return '{"timestamp":' + str(int(now if now is not None else time.time())) + "}"
