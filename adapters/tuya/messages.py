"""Tuya's Message Service frames: opened, checked and read into commands (pure functions).

The consumer receives Pulsar WebSocket frames `{"messageId", "payload"}`;
the payload is base64 of Tuya's envelope `{protocol, pv, t, data, sign}`.
`sign` is the MD5 of the envelope's other non-empty fields as `k=v`, keys in
ascending order, joined by `||`, then `||` and the Access Secret; `data` is
base64 of AES-128 under the middle 16 characters of the Access Secret: ECB
with PKCS#7, or GCM (a 12-byte nonce, then the ciphertext and its tag). Which
one is the message's own `em` property (`aes_gcm`, `aes_ecb`), as Tuya's
current SDKs read it: among the frame's `properties`, or in the envelope; a
message without one is read with the deployment's setting (`BRIDGE_TUYA_MQ_CIPHER`).

Tuya documents no message type for a command to a cloud-to-cloud device
(`protocols/device-clouds.md` 2.2). The decrypted data is read as the
TuyaLink device protocol's messages inside an IoT Core notice:
`{"bizCode": "propertySet", "bizData": {"devId", "msgId", "data": {code:
value}}}` and `{"bizCode": "actionExecute", "bizData": {"devId", "msgId",
"actionCode", "inputParams": {code: value}}}`. Tuya's documented message
types put `devId` (and `msgId`) beside `bizCode` instead; both shapes are
read, and the command says which arrived. Any other bizCode is a notice the
bridge has no use for (acked, not applied).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bridge.plugin import boundary

MAX_PAYLOAD = 64 * 1024
MAX_FRAME = 4 * MAX_PAYLOAD
"""A frame is read up to this size to find its messageId; its payload is held to less."""
MAX_CODES = 32
COMMANDS = ("propertySet", "actionExecute")
CIPHERS = {"aes_gcm": "gcm", "aes_ecb": "ecb", "gcm": "gcm", "ecb": "ecb"}
"""A message's `em` property: the cipher of its data."""
IN_BIZ_DATA = "devId in bizData"
BESIDE_BIZ_CODE = "devId beside bizCode"


class BadMessage(ValueError):
    """A frame or message the consumer refuses (malformed, unsigned, undecryptable).

    `message_id`: the frame's id when it had one, so that the refusal is acknowledged
    (else Tuya redelivers it forever) after it is recorded for an operator."""

    def __init__(self, reason: str, message_id: str | None = None) -> None:
        super().__init__(reason)
        self.message_id = message_id


@dataclass(frozen=True)
class Frame:
    message_id: str
    payload: bytes
    em: str | None = None
    """The message's `em` property among the frame's properties, when it has one."""


@dataclass(frozen=True)
class TuyaCommand:
    """A command from Tuya's apps for one device: property values to set, or an action."""

    kind: str  # propertySet | actionExecute
    tuya_id: str
    msg_id: str
    values: dict[str, Any]
    action_code: str | None = None
    shape: str = IN_BIZ_DATA
    """Where the message named the device (IN_BIZ_DATA or BESIDE_BIZ_CODE)."""


def password(access_id: str, secret: str) -> str:
    """The consumer's `password` header."""
    return _md5(access_id + _md5(secret))[8:24]


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def frame(text: str) -> Frame:
    doc = _object(text, "frame", MAX_FRAME)
    message_id, payload = doc.get("messageId"), doc.get("payload")
    if not isinstance(message_id, str) or not 0 < len(message_id) <= 256:
        raise BadMessage("the frame has no messageId")
    if not isinstance(payload, str) or len(payload) > MAX_PAYLOAD * 2:
        raise BadMessage("the frame has no payload, or too large a one", message_id)
    properties = doc.get("properties")
    em = _em(properties.get("em") if isinstance(properties, dict) else None, message_id)
    try:
        return Frame(message_id, base64.b64decode(payload, validate=True), em)
    except ValueError:  # binascii.Error, or characters that are not ASCII
        raise BadMessage("the payload is not base64", message_id) from None


def _em(em: Any, message_id: str | None = None) -> str | None:
    """The cipher an `em` property names; None when there is none."""
    if em is None or em == "":
        return None
    cipher = CIPHERS.get(em) if isinstance(em, str) else None
    if cipher is None:
        raise BadMessage(f"unknown encryption mode em={str(em)[:32]!r}", message_id)
    return cipher


def signature(envelope: dict[str, Any], secret: str) -> str:
    fields = [
        f"{key}={_text(envelope[key])}"
        for key in sorted(envelope)
        if key != "sign" and envelope[key] not in (None, "")
    ]
    return _md5("||".join([*fields, secret]))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def open_envelope(payload: bytes, secret: str, cipher: str = "ecb", em: str | None = None) -> Any:
    """The decrypted `data` of a payload whose signature holds, under the message's own
    cipher (`em`, from the frame or the envelope), else the deployment's (`cipher`)."""
    envelope = _object(payload, "payload")
    sign, data = envelope.get("sign"), envelope.get("data")
    # Compared as bytes: a signature that is not ASCII is wrong, not an error.
    if not isinstance(sign, str) or not hmac.compare_digest(
        sign.lower().encode("utf-8", "replace"), signature(envelope, secret).encode()
    ):
        raise BadMessage("the signature does not match")
    if not isinstance(data, str):
        raise BadMessage("the message has no data")
    try:
        sealed = base64.b64decode(data, validate=True)
    except ValueError:
        raise BadMessage("the data is not base64") from None
    mode = em or _em(envelope.get("em")) or cipher
    plain = decrypt(sealed, secret[8:24].encode(), mode)
    return _object(plain, "data")


def decrypt(sealed: bytes, key: bytes, cipher: str) -> bytes:
    if len(key) != 16:
        raise BadMessage("the Access Secret is too short for Tuya's key")
    if cipher == "gcm":  # nonce (12), ciphertext, tag (16)
        if len(sealed) < 28:
            raise BadMessage("the data is too short")
        try:
            return AESGCM(key).decrypt(sealed[:12], sealed[12:], None)
        except InvalidTag:
            raise BadMessage("the data does not decrypt") from None
    if not sealed or len(sealed) % 16:
        raise BadMessage("the data is not whole AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    padded = decryptor.update(sealed) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise BadMessage("the data does not decrypt") from None


def command(data: Any) -> TuyaCommand | None:
    """The command a decrypted notice carries; None for a notice of another kind."""
    if not isinstance(data, dict):
        raise BadMessage("the data is not an object")
    kind = data.get("bizCode")
    if kind not in COMMANDS:
        return None
    biz = data.get("bizData")
    if not isinstance(biz, dict):
        raise BadMessage(f"{kind} without bizData")
    shape = BESIDE_BIZ_CODE if "devId" in data and "devId" not in biz else IN_BIZ_DATA
    named = data if shape == BESIDE_BIZ_CODE else biz
    tuya_id, msg_id = named.get("devId"), named.get("msgId", biz.get("msgId"))
    if not isinstance(tuya_id, str) or not 0 < len(tuya_id) <= 64:
        raise BadMessage(f"{kind} without a devId")
    if not isinstance(msg_id, str) or not 0 < len(msg_id) <= 64:
        raise BadMessage(f"{kind} without a msgId")
    values = biz.get("data") if kind == "propertySet" else biz.get("inputParams")
    if not isinstance(values, dict) or not 0 < len(values) <= MAX_CODES:
        raise BadMessage(f"{kind} without values, or too many")
    action = biz.get("actionCode")
    if kind == "actionExecute" and (not isinstance(action, str) or not 0 < len(action) <= 64):
        raise BadMessage("actionExecute without an actionCode")
    code = action if kind == "actionExecute" else None
    return TuyaCommand(kind, tuya_id, msg_id, values, code, shape)


def _object(raw: str | bytes, what: str, limit: int = MAX_PAYLOAD * 2) -> dict[str, Any]:
    if len(raw) > limit:
        raise BadMessage(f"the {what} is too large")
    try:
        doc = boundary.loads(raw.encode() if isinstance(raw, str) else raw)
    except ValueError:
        raise BadMessage(f"the {what} is not JSON") from None
    if not isinstance(doc, dict):
        raise BadMessage(f"the {what} is not a JSON object")
    return doc
