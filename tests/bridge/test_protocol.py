import json

import pytest

from bridge import protocol

SECRET = "0b6a7c8e-1111-2222-3333-444455556666-77778888-9999-aaaa-bbbb-ccccddddeeee"


def signed(payload: dict, secret: str = SECRET) -> protocol.Message:
    return protocol.parse(protocol.envelope(payload, secret))


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


def test_verify_accepts_own_signature_and_rejects_a_wrong_secret():
    message = signed(protocol.event("a" * 24, "setPowerState", {"state": "On"}))
    assert protocol.verify(message, SECRET)
    assert not protocol.verify(message, SECRET + "x")


def test_verify_rejects_a_tampered_payload():
    raw = protocol.envelope(protocol.event("a" * 24, "setPowerState", {"state": "On"}), SECRET)
    tampered = protocol.parse(raw.replace('"On"', '"Off"'))
    assert not protocol.verify(tampered, SECRET)


def test_verify_uses_the_bytes_as_sent_whatever_their_key_order():
    # A device that signs its own (non-alphabetical, spaced) serialisation.
    body = '{"type": "event", "deviceId": "' + "a" * 24 + '", "action": "x", "value": {}}'
    raw = (
        '{"header":{"payloadVersion":2,"signatureVersion":1},"payload":'
        + body
        + ',"signature":{"HMAC":"'
        + protocol.hmac_b64(SECRET, body)
        + '"}}'
    )
    assert protocol.verify(protocol.parse(raw), SECRET)


def test_non_ascii_values_survive_signing():
    message = signed(protocol.event("a" * 24, "setMode", {"mode": "客厅"}))
    assert protocol.verify(message, SECRET)
    assert message.value == {"mode": "客厅"}


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("not json", "malformed JSON"),
        ("[]", "no payload object"),
        ('{"payload": {"type": "event"}}', "missing signature"),
        ('{"payload": {"type": "nope"}, "signature": {"HMAC": "x"}}', "unknown message type"),
    ],
)
def test_parse_rejects_malformed_messages(raw, reason):
    with pytest.raises(protocol.ProtocolError, match=reason):
        protocol.parse(raw)


def test_freshness_window():
    message = signed(protocol.event("a" * 24, "x", {}, now=1000))
    protocol.check_fresh(message, 60, now=1059)
    with pytest.raises(protocol.ProtocolError, match="stale"):
        protocol.check_fresh(message, 60, now=1061)
    with pytest.raises(protocol.ProtocolError, match="stale"):
        protocol.check_fresh(message, 60, now=939)


def test_freshness_accepts_milliseconds_and_rejects_missing():
    now = 1_795_000_000
    ms = signed(protocol.event("a" * 24, "x", {}, now=now))
    ms.payload["createdAt"] = now * 1000 + 500
    protocol.check_fresh(ms, 60, now=now)
    ms.payload.pop("createdAt")
    with pytest.raises(protocol.ProtocolError, match="missing createdAt"):
        protocol.check_fresh(ms, 60, now=now)


def test_timestamp_message_fits_the_esp_sdk_check():
    text = protocol.timestamp_message(now=1_795_000_000)
    assert text.startswith('{"timestamp":') and len(text) <= 26
    assert json.loads(text) == {"timestamp": 1_795_000_000}


def test_response_echoes_correlation_fields():
    req = protocol.request("a" * 24, "setRangeValue", {"rangeValue": 1}, instance_id="Fan.Speed")
    resp = protocol.response(req, {"rangeValue": 1})
    for key in ("action", "clientId", "deviceId", "replyToken", "instanceId"):
        assert resp[key] == req[key]
    assert resp["success"] is True and resp["type"] == "response"
