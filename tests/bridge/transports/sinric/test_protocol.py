import json

import pytest

from bridge.transports.sinric import protocol

SECRET = "0b6a7c8e-1111-2222-3333-444455556666-77778888-9999-aaaa-bbbb-ccccddddeeee"


def signed(payload: dict, secret: str = SECRET) -> protocol.Message:
    return protocol.read(protocol.envelope(payload, secret), secret)


def signed_body(body: str) -> str:
    """An envelope around a payload text exactly as given, signed over that text."""
    return '{"payload":' + body + ',"signature":{"HMAC":"' + protocol.hmac_b64(SECRET, body) + '"}}'


def raw_event(value: dict | None = None) -> str:
    return protocol.envelope(
        protocol.event("a" * 24, "setPowerState", value or {"state": "On"}), SECRET
    )


def test_envelope_puts_signature_right_after_payload_and_signs_the_wire_bytes():
    payload = protocol.request("a" * 24, "setPowerState", {"state": "On"})
    raw = protocol.envelope(payload, SECRET)
    doc = json.loads(raw)
    assert list(doc) == ["header", "payload", "signature"]
    assert doc["header"] == {"payloadVersion": 2, "signatureVersion": 1}
    sliced = protocol.signed_text(raw)
    assert sliced == json.dumps(payload, separators=(",", ":"))
    assert doc["signature"]["HMAC"] == protocol.hmac_b64(SECRET, sliced)
    assert len(doc["signature"]["HMAC"]) == 44


def test_request_payload_has_sinric_fields_in_sample_order():
    payload = protocol.request("a" * 24, "setRangeValue", {"rangeValue": 5}, instance_id="X")
    assert list(payload) == [
        "action",
        "clientId",
        "createdAt",
        "deviceAttributes",
        "deviceId",
        "instanceId",
        "replyToken",
        "type",
        "value",
    ]
    assert payload["type"] == "request" and len(payload["replyToken"]) == 36


def test_read_accepts_own_signature_and_rejects_a_wrong_secret():
    assert signed(protocol.event("a" * 24, "setPowerState", {"state": "On"})).value == {
        "state": "On"
    }
    with pytest.raises(protocol.ProtocolError, match="bad signature"):
        protocol.read(raw_event(), SECRET + "x")


def test_read_rejects_a_tampered_payload():
    with pytest.raises(protocol.ProtocolError, match="bad signature"):
        protocol.read(raw_event().replace('"On"', '"Off"'), SECRET)


def test_read_uses_the_bytes_as_sent_whatever_their_key_order():
    # A device that signs its own (non-alphabetical, spaced) serialisation.
    body = (
        '{"type": "event", "deviceId": "' + "a" * 24 + '", "action": "x", "value": {},'
        ' "replyToken": "t", "createdAt": 5}'
    )
    raw = (
        '{"header":{"payloadVersion":2,"signatureVersion":1},"payload":'
        + body
        + ',"signature":{"HMAC":"'
        + protocol.hmac_b64(SECRET, body)
        + '"}}'
    )
    message = protocol.read(raw, SECRET)
    assert message.action == "x" and message.text == body


def test_non_ascii_values_survive_signing():
    message = signed(protocol.event("a" * 24, "setMode", {"mode": "客厅"}))
    assert message.value == {"mode": "客厅"}


FORGED_OFF = protocol.event("a" * 24, "setPowerState", {"state": "Off"})


@pytest.mark.parametrize(
    "forge",
    [
        # a second payload after the signature: parsers keep the last one
        lambda raw: raw[:-1] + ',"payload":' + protocol.dumps(FORGED_OFF) + "}",
        # a second payload before the first
        lambda raw: raw.replace(
            '"payload":', '"payload":' + protocol.dumps(FORGED_OFF) + ',"payload":', 1
        ),
        # a duplicate key inside the signed payload's neighbourhood
        lambda raw: raw.replace('{"header":', '{"header":{"payload":{}},"x":', 1),
        # trailing data
        lambda raw: raw + ' {"payload":' + protocol.dumps(FORGED_OFF) + "}",
        # an extra top-level key
        lambda raw: raw[:-1] + ',"extra":1}',
    ],
)
def test_a_captured_message_cannot_be_made_to_say_something_else(forge):
    with pytest.raises(protocol.ProtocolError):
        protocol.read(forge(raw_event()), SECRET)


@pytest.mark.parametrize(
    "action, value, reason",
    [
        ("setPowerState", '{"state":"On","state":"Off"}', "duplicate"),  # which one is meant?
        ("setBrightness", '{"brightness":1e999}', "malformed payload"),  # out of range
    ],
)
def test_a_signed_payload_must_still_be_strict_json(action, value, reason):
    body = (
        '{"type":"event","deviceId":"' + "a" * 24 + f'","action":"{action}",'
        f'"value":{value},"replyToken":"t","createdAt":5}}'
    )
    with pytest.raises(protocol.ProtocolError, match=reason):
        protocol.read(signed_body(body), SECRET)


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("not json", "malformed"),
        ("[]", "malformed"),
        ('{"payload": {"type": "event"}}', "signature"),
        ('{"payload": {"type": "nope"}, "signature": {"HMAC": "x"}}', "bad signature"),
        ("[" * 100 + "]" * 100, "nested"),
        ('{"payload": {"createdAt": 1e999}, "signature": {"HMAC": "x"}}', "bad signature"),
        ('{"payload": {}, "signature": {"HMAC": "x", "also": 1}}', "unknown field"),
        ('{"header": {"payload": {}}, "payload": {}, "signature": {"HMAC": "x"}}', "unknown"),
    ],
)
def test_read_rejects_malformed_messages(raw, reason):
    with pytest.raises(protocol.ProtocolError, match=reason):
        protocol.read(raw, SECRET)


def test_a_signed_payload_must_have_the_protocols_shape():
    for payload in (
        {"type": "nope", "deviceId": "a", "action": "x", "replyToken": "t", "createdAt": 1},
        {"type": "event", "deviceId": "a", "action": "x", "replyToken": "t"},
        {"type": "event", "deviceId": "a", "action": ["x"], "replyToken": "t", "createdAt": 1},
        {
            "type": "event",
            "deviceId": "a",
            "action": "x",
            "replyToken": "t",
            "createdAt": 1,
            "value": [1],
        },
    ):
        with pytest.raises(protocol.ProtocolError, match="malformed payload"):
            protocol.read(protocol.envelope(payload, SECRET), SECRET)


def test_freshness_window():
    message = signed(protocol.event("a" * 24, "x", {}, now=1000))
    protocol.check_fresh(message, 60, now=1059)
    with pytest.raises(protocol.ProtocolError, match="stale"):
        protocol.check_fresh(message, 60, now=1061)
    with pytest.raises(protocol.ProtocolError, match="stale"):
        protocol.check_fresh(message, 60, now=939)


def test_freshness_accepts_milliseconds():
    now = 1_795_000_000
    payload = protocol.event("a" * 24, "x", {}, now=now)
    ms = signed({**payload, "createdAt": now * 1000 + 500})
    protocol.check_fresh(ms, 60, now=now)


def test_timestamp_message_fits_the_esp_sdk_check():
    text = protocol.timestamp_message(now=1_795_000_000)
    assert text.startswith('{"timestamp":') and len(text) <= 26
    assert json.loads(text) == {"timestamp": 1_795_000_000}


def test_response_echoes_correlation_fields():
    req = protocol.request("a" * 24, "setRangeValue", {"rangeValue": 1}, instance_id="Fan.Speed")
    resp = protocol.response(signed(req).payload, {"rangeValue": 1})
    for key in ("action", "clientId", "deviceId", "replyToken", "instanceId"):
        assert resp[key] == req[key]
    assert resp["success"] is True and resp["type"] == "response"


def test_a_number_no_encoder_writes_is_refused_not_raised():
    raw = '{"payload": {"": -9223372036854775809}, "signature": {"HMAC": "x"}}'
    with pytest.raises(protocol.ProtocolError, match="bad signature"):
        protocol.read(raw, SECRET)
