"""A device's values are checked like commands: a bad one is a recorded rejection, not state."""

import pytest
import requests
from servers import latest

from bridge.store import Store
from bridge.transports.sinric import protocol


def send(ws, account, device_id, action, value):
    ws.send(protocol.envelope(protocol.event(device_id, action, value), account.secret))


@pytest.mark.parametrize(
    "action, value",
    [
        ("setColor", {"color": "red"}),
        ("setBrightness", {"brightness": "very bright"}),
        ("setPowerState", {"state": ["On"]}),
        ("setBrightness", {"brightness": 1e300}),
        ("setColorTemperature", {"colorTemperature": -5}),
    ],
)
def test_a_value_that_does_not_fit_is_rejected_and_never_stored(
    raw, account, light, store: Store, action, value
):
    ws = raw(account.app_key, [light.id])
    ws.recv()
    mark = (store.messages.query(limit=1) or [{"id": 0}])[0]["id"]
    send(ws, account, light.id, action, value)
    rejection = latest(store, None, "rejection", mark)
    # a shape no device value has (a list) is refused with the message; a wrong value
    # for this capability, by the catalog
    assert rejection["outcome"] == "rejected"
    assert rejection["action"] == action or rejection["detail"].startswith("malformed payload")
    assert store.shadow.get(light.id) == {}
    send(ws, account, light.id, "setBrightness", {"brightness": 40})  # the socket lives on
    assert latest(store, light.id, "event")["outcome"] == "ok"


def test_one_unrenderable_device_does_not_fail_discovery(server, store: Store, account, light):
    """Bad state from before values were checked (or any rendering bug) costs one device only."""
    plug = store.devices.create(account.user.id, "plug", "Desk plug")
    store.db.execute(
        "insert into shadow (device_id, property, instance, value, sampled_at)"
        " values (?, 'color', '', '\"red\"', 1)",
        (light.id,),
    )
    token = store.tokens.issue(account.user.id, "tmallgenie")
    body = {
        "header": {
            "namespace": "AliGenie.Iot.Device.Discovery",
            "name": "DiscoveryDevices",
            "messageId": "m1",
            "payLoadVersion": 1,
        },
        "payload": {"accessToken": token},
    }
    reply = requests.post(server.url + "/voice/tmallgenie", json=body, timeout=5).json()
    assert [d["deviceId"] for d in reply["payload"]["devices"]] == [plug.id]


def test_an_answer_with_a_bad_value_is_a_refusal(account, light, connect, admin_send, store):
    """A device that says "done" with a value that does not fit did not do what was asked."""
    online = connect(account, [light])
    online.client.on("setBrightness", lambda device, value, instance: {"brightness": "x"})
    reply = admin_send(light.id, "setBrightness", {"brightness": 30})
    assert reply.json()["type"].endswith("/refused"), reply.text  # as any refusal
    assert "its answer does not fit: setBrightness" in reply.json()["detail"]
    request = latest(store, light.id, "request")
    assert request["outcome"] == "refused"
    assert request["detail"].startswith("its answer does not fit: setBrightness")
    assert "brightness" not in store.shadow.get(light.id)
