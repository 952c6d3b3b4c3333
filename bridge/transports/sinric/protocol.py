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
from typing import Annotated, Any, Literal

import orjson
from msgspec import Meta, Struct

from bridge.plugin import boundary

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
    req: Payload | dict[str, Any],
    value: dict[str, Any],
    *,
    success: bool = True,
    message: str = "OK",
    now: float | None = None,
) -> dict[str, Any]:
    """A response payload echoing a request's correlation fields."""
    if isinstance(req, dict):
        req = _payload(req)
    payload: dict[str, Any] = {
        "action": req.action,
        "clientId": req.clientId,
        "createdAt": int(now if now is not None else time.time()),
        "deviceId": req.deviceId,
        "message": message,
        "replyToken": req.replyToken,
        "success": success,
        "type": "response",
        "value": value,
    }
    if req.instanceId is not None:
        payload["instanceId"] = req.instanceId
    return payload


Text = Annotated[str, Meta(max_length=128)]
CreatedAt = Annotated[int, Meta(ge=0, le=10**14)] | Annotated[float, Meta(ge=0, le=1e14)]


class Cause(Struct, frozen=True):
    type: Text = "PHYSICAL_INTERACTION"


class Payload(Struct, frozen=True):
    """A device message's payload: the fields the bridge acts on, typed and bounded.

    `value` is any small mapping of bounded scalars: what it may hold depends
    on the device's capability, which the catalog checks (`state_from`).
    """

    type: Literal["request", "response", "event"]
    deviceId: Text
    action: Text
    createdAt: CreatedAt
    replyToken: Text = ""
    """Responses carry their request's; events from Sinric's SDKs often carry none."""
    value: boundary.Value = {}
    clientId: Text = ""
    instanceId: Text | None = None
    message: Annotated[str, Meta(max_length=1024)] = ""
    success: bool | None = None
    cause: Cause | None = None


class Header(Struct, frozen=True, forbid_unknown_fields=True):
    payloadVersion: int = 2
    signatureVersion: int = 1


class Signature(Struct, frozen=True, forbid_unknown_fields=True):
    HMAC: Annotated[str, Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9+/=_-]+$")]
    """Base64 (the SDKs' alphabet): anything else is not a signature."""


class Envelope(Struct, frozen=True, forbid_unknown_fields=True):
    """The whole message: these three keys and nothing else (a second payload is refused)."""

    payload: dict[str, Any]
    signature: Signature
    header: Header = Header()


@dataclass(frozen=True)
class Message:
    """A device message whose payload came from exactly the bytes that were verified."""

    payload: Payload
    text: str
    """The payload's JSON text as signed: what the history keeps."""

    @property
    def type(self) -> str:
        return self.payload.type

    @property
    def device_id(self) -> str:
        return self.payload.deviceId

    @property
    def action(self) -> str:
        return self.payload.action

    @property
    def reply_token(self) -> str:
        return self.payload.replyToken

    @property
    def value(self) -> dict[str, Any]:
        return self.payload.value

    @property
    def replay_key(self) -> str:
        """What a replayed copy shares: the replyToken, or the signed bytes' digest."""
        token = self.payload.replyToken
        return token or hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def instance_id(self) -> str | None:
        return self.payload.instanceId or None


def _envelope(raw: str) -> Envelope:
    try:
        return boundary.decode(raw, Envelope)
    except boundary.Malformed as exc:
        raise ProtocolError(f"malformed message: {exc}") from None


def _compact(payload: dict[str, Any]) -> str | None:
    """The compact re-serialisation, or None for a number over 64 bits (no SDK writes one)."""
    try:
        return dumps(payload)
    except TypeError:
        return None


def _payload(doc: Any) -> Payload:
    try:
        return boundary.convert(doc, Payload)
    except boundary.Malformed as exc:
        raise ProtocolError(f"malformed payload: {exc}") from None


def parse(raw: str) -> Message:
    """The structure of an envelope, signature NOT checked (a client answering a bad request)."""
    envelope = _envelope(raw)
    payload = _payload(envelope.payload)
    text = _compact(envelope.payload)
    if text is None:  # in a field the payload does not use
        raise ProtocolError("malformed payload: a number is out of range")
    return Message(payload, text)


def read(raw: str, secret: str) -> Message:
    """Verify a message and parse its payload from exactly the bytes the HMAC covers.

    The whole message must be the protocol's envelope and nothing else: the
    three keys, each object with only its own fields, no duplicate key
    anywhere, nothing after it. Then no key or string can hold `"payload":`
    before the payload or `,"signature"` after the signature, so the slice
    the HMAC (constant time) covers is exactly the payload value that was
    parsed. That slice is what every Sinric SDK signs; older SDKs that
    re-encode after parsing sign the compact re-serialisation instead.
    """
    envelope = _envelope(raw)
    mac = envelope.signature.HMAC
    sliced = signed_text(raw)
    if sliced is not None and _same(hmac_b64(secret, sliced), mac):
        return Message(_payload(envelope.payload), sliced)
    compact = _compact(envelope.payload)
    if compact is not None and _same(hmac_b64(secret, compact), mac):
        return Message(_payload(envelope.payload), compact)
    raise ProtocolError("bad signature")


def _same(expected: str, sent: str) -> bool:
    """Constant time, over bytes (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(expected.encode(), sent.encode())


def signed_text(raw: str) -> str | None:
    """The payload bytes as received: between `"payload":` and `,"signature"`."""
    start = raw.find(PAYLOAD_MARKER)
    end = raw.rfind(SIGNATURE_MARKER)
    if start < 0 or end < start:
        return None
    return raw[start + len(PAYLOAD_MARKER) : end].strip()


def created(message: Message) -> float:
    """When the device says it made the message, in seconds."""
    at = message.payload.createdAt
    return at / 1000 if at > 1e11 else at  # milliseconds from a confused client


def check_fresh(message: Message, window: float, now: float | None = None) -> None:
    """Reject messages whose createdAt is outside the replay window."""
    skew = (now if now is not None else time.time()) - created(message)
    if abs(skew) > window:
        raise ProtocolError(f"stale createdAt ({skew:+.0f} s)")


def timestamp_message(now: float | None = None) -> str:
    """The unsigned clock message sent first on every connection (ESP SDKs need it)."""
    return '{"timestamp":' + str(int(now if now is not None else time.time())) + "}"
