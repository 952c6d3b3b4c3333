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


@pytest.mark.parametrize("em", ["aes_gcm", "aes_ecb"])
@pytest.mark.parametrize("where", ["properties", "envelope"])
def test_each_message_names_its_own_cipher(em, where):
    """Tuya's current SDKs read the cipher from the message's `em`: a GCM message on an
    ECB deployment (and the reverse) opens under its own."""
    service = FakeMessageService(ACCESS_ID, ACCESS_SECRET)
    try:
        plain = json.dumps(PROPERTY_SET).encode()
        envelope = {"protocol": 1000, "pv": "2.0", "t": 1}
        cipher = "gcm" if em == "aes_gcm" else "ecb"
        envelope["data"] = base64.b64encode(service._seal(plain, cipher)).decode()
        if where == "envelope":
            envelope["em"] = em
        envelope["sign"] = service.signature(envelope)
        payload = base64.b64encode(json.dumps(envelope).encode()).decode()
        properties = {"em": em} if where == "properties" else {}
        text = json.dumps({"messageId": "1", "payload": payload, "properties": properties})
        frame = messages.frame(text)
        default = "ecb" if cipher == "gcm" else "gcm"  # the deployment's setting: the other
        data = messages.open_envelope(frame.payload, ACCESS_SECRET, default, frame.em)
        assert messages.command(data).tuya_id == "vdevo1"
    finally:
        service.close()


def test_an_unknown_cipher_is_refused_with_the_frames_id():
    text = json.dumps({"messageId": "7", "payload": "e30=", "properties": {"em": "rot13"}})
    with pytest.raises(messages.BadMessage, match="encryption mode") as refused:
        messages.frame(text)
    assert refused.value.message_id == "7"


@pytest.mark.parametrize(
    "payload",
    ["é" * 10, "!!!", "x" * (messages.MAX_PAYLOAD * 2 + 4)],  # not ASCII, not base64, too large
)
def test_a_broken_payload_is_refused_with_the_frames_id(payload):
    with pytest.raises(messages.BadMessage) as refused:
        messages.frame(json.dumps({"messageId": "9", "payload": payload}))
    assert refused.value.message_id == "9"


def test_a_signature_that_is_not_ascii_is_wrong_not_an_error():
    envelope = {"protocol": 1000, "t": 1, "data": "AAAA", "sign": "ü" * 32}
    with pytest.raises(messages.BadMessage, match="signature"):
        messages.open_envelope(json.dumps(envelope).encode(), ACCESS_SECRET)


BESIDE = {
    "bizCode": "propertySet",
    "devId": "vdevo2",
    "bizData": {"msgId": "m-2", "data": {"switch_led": False}},
}


def test_devid_beside_bizcode_is_read_and_the_shape_is_said():
    found = messages.command(BESIDE)
    assert (found.tuya_id, found.msg_id, found.values) == ("vdevo2", "m-2", {"switch_led": False})
    assert found.shape == messages.BESIDE_BIZ_CODE
    assert messages.command(PROPERTY_SET).shape == messages.IN_BIZ_DATA
    action = {
        "bizCode": "actionExecute",
        "devId": "vdevo3",
        "msgId": "m-3",
        "bizData": {"actionCode": "reset", "inputParams": {"x": 1}},
    }
    assert messages.command(action) == messages.TuyaCommand(
        "actionExecute", "vdevo3", "m-3", {"x": 1}, "reset", messages.BESIDE_BIZ_CODE
    )


@pytest.mark.parametrize(
    "notice",
    [
        # protocol 4, the legacy status report
        {"dataId": "d1", "devId": "vdevo1", "productKey": "p1", "status": [{"code": "switch_1"}]},
        # protocol 20: bizCode beside devId
        *[
            {"bizCode": code, "devId": "vdevo1", "productKey": "p1", "ts": 1, "bizData": {}}
            for code in (
                "online",
                "offline",
                "nameUpdate",
                "dpNameUpdate",
                "bindUser",
                "delete",
                "upgradeStatus",
            )
        ],
        # protocol 1000/1001, IoT Core
        *[
            {"bizCode": code, "bizData": {"devId": "vdevo1", "properties": []}}
            for code in (
                "devicePropertyMessage",
                "deviceQueryPropertyMessage",
                "deviceEventMessage",
                "deviceActionResponseMessage",
                "deviceOnline",
                "deviceOffline",
            )
        ],
    ],
)
def test_each_documented_message_type_is_read_and_is_no_command(notice):
    """Tuya's documented message types (`protocols/device-clouds.md` 2.4): acked, not
    applied; none raises."""
    assert messages.command(notice) is None


def test_tuyas_own_consumer_reads_what_the_fake_service_sends():
    """Tuya's Python connector (`tuya-connector-python`, the reference for the consumer
    URL, the password and the ECB cipher) against the fake: it connects past the fake's
    checks, decrypts each message with its own code to what the bridge reads, and acks
    it. The fake is then Tuya's service as far as Tuya's own client can tell."""
    import threading

    from tuya_connector import TuyaOpenPulsar

    service = FakeMessageService(ACCESS_ID, ACCESS_SECRET)  # ECB, as the connector reads
    heard: list[str] = []
    arrived = threading.Event()
    pulsar = TuyaOpenPulsar(ACCESS_ID, ACCESS_SECRET, service.url + "/", "event")
    pulsar.add_message_listener(lambda text: (heard.append(text), arrived.set()))
    pulsar.start()
    try:
        sent = service.publish(PROPERTY_SET)
        assert service.wait_acked(sent), "Tuya's connector did not ack"
        assert arrived.wait(5) and json.loads(heard[0]) == PROPERTY_SET
        assert service.refused_connections == 0
        assert messages.command(json.loads(heard[0])).tuya_id == "vdevo1"
    finally:
        pulsar.stop()
        service.close()
