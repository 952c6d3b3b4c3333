"""Opening Tuya's message frames: signature, decryption, commands; everything else refused."""

import base64
import contextlib
import json

import pytest
from fakes.tuya import ACCESS_ID, ACCESS_SECRET
from fakes.tuya_mq import FakeMessageService
from hypothesis import given
from hypothesis import strategies as st

from adapters.tuya import messages

PROPERTY_SET = {
    "bizCode": "propertySet",
    "bizData": {"devId": "vdevo1", "msgId": "m-1", "data": {"switch_led": True}},
}


@pytest.fixture(scope="module", params=["ecb", "gcm"])
def sealer(request):
    """The fake's own encryption and signing: payloads exactly as Tuya's service sends them."""
    fake = FakeMessageService(ACCESS_ID, ACCESS_SECRET, cipher=request.param)
    yield fake
    fake.close()


def payload_of(sealer, data, signed=True) -> bytes:
    message_id = sealer.publish(data, signed=signed)
    frame = json.loads(sealer.waiting.pop(message_id)["frame"])
    return messages.frame(json.dumps(frame)).payload


def test_a_signed_sealed_property_set_opens_into_a_command(sealer):
    data = messages.open_envelope(payload_of(sealer, PROPERTY_SET), ACCESS_SECRET, sealer.cipher)
    assert messages.command(data) == messages.TuyaCommand(
        "propertySet", "vdevo1", "m-1", {"switch_led": True}
    )


def test_a_wrong_signature_or_key_is_refused(sealer):
    with pytest.raises(messages.BadMessage, match="signature"):
        messages.open_envelope(payload_of(sealer, PROPERTY_SET, signed=False), ACCESS_SECRET)
    other = "another-secret-of-enough-length-00"
    with pytest.raises(messages.BadMessage, match="signature"):
        messages.open_envelope(payload_of(sealer, PROPERTY_SET), other, sealer.cipher)


def test_the_password_header_is_tuyas_derivation():
    import hashlib

    inner = hashlib.md5(b"secret").hexdigest()
    assert messages.password("id", "secret") == hashlib.md5(f"id{inner}".encode()).hexdigest()[8:24]


def test_notices_of_other_kinds_are_not_commands():
    assert messages.command({"bizCode": "online", "bizData": {"devId": "x"}}) is None


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"bizCode": "propertySet"},
        {"bizCode": "propertySet", "bizData": {"devId": "x", "msgId": "m", "data": {}}},
        {"bizCode": "propertySet", "bizData": {"devId": "", "msgId": "m", "data": {"a": 1}}},
        {"bizCode": "actionExecute", "bizData": {"devId": "x", "msgId": "m", "inputParams": {}}},
        {
            "bizCode": "actionExecute",
            "bizData": {"devId": "x", "msgId": "m", "inputParams": {"a": 1}},
        },  # no actionCode
    ],
)
def test_malformed_commands_are_refused(data):
    with pytest.raises(messages.BadMessage):
        messages.command(data)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"payload": "e30="}',
        '{"messageId": "1", "payload": "!!!"}',
        '{"messageId": "1", "payload": "e30=", "messageId": "2"}',  # a duplicate key
    ],
)
def test_malformed_frames_are_refused(text):
    with pytest.raises(messages.BadMessage):
        messages.frame(text)


@given(st.binary(max_size=300))
def test_any_payload_is_opened_or_refused_never_an_error(raw):
    payload = base64.b64encode(raw)
    frame = messages.frame(json.dumps({"messageId": "1", "payload": payload.decode()}))
    for cipher in ("ecb", "gcm"):
        with contextlib.suppress(messages.BadMessage):
            messages.command(messages.open_envelope(frame.payload, ACCESS_SECRET, cipher))
