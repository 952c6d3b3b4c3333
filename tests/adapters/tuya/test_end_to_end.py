"""Tuya end to end: `bridge tuya link`, then the bridge's changes reach the fake Tuya."""

import base64
import json

import pytest
import requests
from fakes.tuya import PRODUCTS
from servers import eventually, past_event_limit


def test_linked_devices_appear_in_tuya_and_follow_the_bridge(cli, store, account, connect, tuya):
    light = store.devices.create(account.user.id, "light", "Desk lamp")
    plug = store.devices.create(account.user.id, "plug", "TV")
    bell = store.devices.create(account.user.id, "doorbell", "Front door")
    online = connect(account, [light])
    printed = cli("tuya", "link", account.user.name)
    lamp = tuya.by_bridge_id(light.id)
    assert lamp["product"] == PRODUCTS["light"] and lamp["name"] == "Desk lamp"
    assert f"{light.id}  Desk lamp  https://smartapp.tuya.com/s/{lamp['id']}" in printed
    assert "2 devices registered" in printed
    assert tuya.by_bridge_id(plug.id)["name"] == "TV plug"  # Tuya wants 4 characters or more
    assert tuya.by_bridge_id(bell.id) is None  # no Tuya product for doorbells
    # The server, which holds the connections, tells Tuya who is online.
    assert tuya.wait_for(tuya.presence, lambda p: p == (lamp["id"], "online"))
    assert tuya.wait_for(tuya.presence, lambda p: p[0] == tuya.by_bridge_id(plug.id)["id"])
    assert tuya.by_bridge_id(plug.id)["online"] is False
    assert store.links("tuya").get(account.user.id)["devices"][light.id] == lamp["id"]
    # Registered once: the server's "added" report (its presence, seen above) announces
    # the device, and registers nothing again.
    assert tuya.registrations.count(light.id) == 1 and tuya.registrations.count(plug.id) == 1

    # A physical change: Tuya's code and unit, with the time of the change.
    online.client.send_event(light.id, "setBrightness", {"brightness": 40})
    report = tuya.wait_for(
        tuya.reports,
        lambda r: r["device"] == lamp["id"] and "bright_value_v2" in r["data"],
    )
    assert report[0]["data"]["bright_value_v2"]["value"] == 400
    assert set(report[0]["data"]) == {"bright_value_v2"}  # only what changed

    # Renamed, added and deleted in the bridge: the same in Tuya.
    cli("device", "rename", light.id, "Reading lamp")
    eventually(lambda: tuya.by_bridge_id(light.id)["name"] == "Reading lamp")
    blinds = cli("device", "create", account.user.name, "--type", "blinds", "--name", "Blinds")
    assert blinds
    made = next(d for d in store.devices.of_user(account.user.id) if d.type == "blinds")
    eventually(lambda: tuya.by_bridge_id(made.id) is not None)
    cli("device", "delete", plug.id)
    eventually(lambda: tuya.by_bridge_id(plug.id) is None)
    # the link forgets the Tuya id once Tuya has removed it: a moment after
    eventually(lambda: plug.id not in store.links("tuya").get(account.user.id)["devices"])

    # Offline when its connection ends.
    online.client.stop()
    assert tuya.wait_for(tuya.presence, lambda p: p == (lamp["id"], "offline"))


def test_a_device_tuya_no_longer_knows_is_registered_again(cli, store, account, connect, tuya):
    light = store.devices.create(account.user.id, "light", "Desk lamp")
    online = connect(account, [light])
    cli("tuya", "link", account.user.name)
    lamp = tuya.by_bridge_id(light.id)
    assert tuya.wait_for(tuya.presence, lambda p: p == (lamp["id"], "online"))
    with tuya.lock:  # removed in Tuya's app: Tuya answers 2010 for its id
        del tuya.devices[lamp["id"]]
    online.client.send_event(light.id, "setBrightness", {"brightness": 30})
    # Registered again, told its state, and the change is in it.
    eventually(lambda: tuya.registrations.count(light.id) >= 2)
    again = tuya.by_bridge_id(light.id)
    assert tuya.wait_for(
        tuya.reports,
        lambda r: (
            r["device"] == again["id"] and r["data"].get("bright_value_v2", {}).get("value") == 300
        ),
    )
    assert store.links("tuya").get(account.user.id)["devices"][light.id] == again["id"]
    [repair] = eventually(lambda: store.messages.query(device_id=light.id, kind="repair"))
    assert repair["outcome"] == "announced" and "Tuya code 2010" in repair["detail"]


def test_meters_alarms_doors_and_presses_reach_tuya_in_its_standard_codes(
    cli, store, account, connect, tuya
):
    """Each new type's report is one Tuya's thing model takes (the fake checks the code
    and the value's type): a reading in 0.1 W and Wh, a leak as an alarm, a door as its
    switch, and every press on its own, since a press leaves no state to fold."""
    made = {
        t: store.devices.create(account.user.id, t, name)
        for t, name in [
            ("energy_meter", "House meter"),
            ("leak_sensor", "Sink leak"),
            ("garage_door", "Garage"),
            ("button", "Bedside button"),
        ]
    }
    online = connect(account, list(made.values()))
    cli("tuya", "link", account.user.name)
    tuya_id = {t: tuya.by_bridge_id(d.id)["id"] for t, d in made.items()}
    for found in tuya_id.values():  # each announced by the server, which sees the link then
        assert tuya.wait_for(tuya.presence, lambda p, found=found: p[0] == found)

    def told(kind: str, code: str, value: object) -> None:
        assert tuya.wait_for(
            tuya.reports,
            lambda r: (
                r["device"] == tuya_id[kind] and r["data"].get(code, {}).get("value") == value
            ),
        )

    send = online.client.send_event
    send(made["energy_meter"].id, "powerUsage", {"power": 115.4, "wattHours": 12.3})
    told("energy_meter", "cur_power", 1154)
    told("energy_meter", "add_ele", 12)
    send(made["leak_sensor"].id, "setLeakState", {"state": "detected"})
    told("leak_sensor", "watersensor_state", "alarm")
    send(made["garage_door"].id, "setMode", {"mode": "Open"})
    told("garage_door", "switch_1", True)
    send(made["button"].id, "setSmartButtonState", {"state": "singlePress"})
    told("button", "switch1_value", "single_click")
    past_event_limit()  # the device's own event spacing
    send(made["button"].id, "setSmartButtonState", {"state": "longPress"})
    told("button", "switch1_value", "long_press")
    presses = [r for r in tuya.reports if r["device"] == tuya_id["button"]]
    assert [r["data"]["switch1_value"]["value"] for r in presses] == ["single_click", "long_press"]
    assert not tuya.refused


def test_link_refuses_an_unknown_user_and_a_tuya_refusal_is_one_line(cli, store, account, tuya):
    store.devices.create(account.user.id, "plug", "Kettle")
    assert "no user" in cli("tuya", "link", "nobody-" + account.user.name, ok=False)
    tuya.outage = True
    try:
        store_out = cli("tuya", "link", account.user.name, ok=False)
    finally:
        tuya.outage = False
    assert "Tuya refused the registration" in store_out


def test_the_webhook_answers_in_tuyas_envelope(server):
    import requests

    reply = requests.post(f"{server.url}/voice/tuya", json={"any": "thing"}, timeout=10)
    assert reply.status_code == 404
    assert reply.json()["success"] is False and reply.json()["code"] == 404


def property_set(tuya_id: str, msg_id: str, data: dict) -> dict:
    return {"bizCode": "propertySet", "bizData": {"devId": tuya_id, "msgId": msg_id, "data": data}}


@pytest.fixture
def linked(cli, store, account, connect, tuya):
    """A linked user with a connected light; (online devices, the light, its Tuya id)."""
    light = store.devices.create(account.user.id, "light", "Hall light")
    online = connect(account, [light])
    cli("tuya", "link", account.user.name)
    tuya_id = tuya.by_bridge_id(light.id)["id"]
    # The server has seen the link (it told Tuya the light is online): commands may come.
    assert tuya.wait_for(tuya.presence, lambda p: p == (tuya_id, "online"))
    return online, light, tuya_id


def test_a_command_from_tuyas_apps_reaches_the_device_and_the_new_values_go_back(
    linked, tuya, tuya_mq, store
):
    online, light, tuya_id = linked
    sent = tuya_mq.publish(
        property_set(tuya_id, "m-on-1", {"switch_led": True, "bright_value_v2": 300})
    )
    assert tuya_mq.wait_acked(sent)
    assert online.virtual[light.id].state["powerState"] == "On"
    assert online.virtual[light.id].state["brightness"] == 30
    answer = tuya.wait_for(
        tuya.reports,
        lambda r: r["device"] == tuya_id and set(r["data"]) == {"switch_led", "bright_value_v2"},
    )
    assert answer[0]["data"]["bright_value_v2"]["value"] == 300
    # Redelivered (Tuya did not see the ack): acked again, not applied again.
    requests_before = len(store.messages.query(device_id=light.id, kind="request"))
    again = tuya_mq.publish(property_set(tuya_id, "m-on-1", {"switch_led": False}))
    assert tuya_mq.wait_acked(again)
    assert online.virtual[light.id].state["powerState"] == "On"
    assert len(store.messages.query(device_id=light.id, kind="request")) == requests_before


def test_a_message_in_its_own_cipher_and_either_shape_is_applied(linked, tuya_mq, store):
    """The deployment reads ECB; Tuya's app sends a GCM message that says so (`em`), with
    `devId` beside `bizCode` as Tuya's documented types do: applied, the shape recorded."""
    online, light, tuya_id = linked
    message = {
        "bizCode": "propertySet",
        "devId": tuya_id,
        "bizData": {"msgId": "m-gcm-1", "data": {"switch_led": True}},
    }
    assert tuya_mq.wait_acked(tuya_mq.publish(message, em="aes_gcm"))
    assert online.virtual[light.id].state["powerState"] == "On"
    eventually(
        lambda: any(
            r["detail"] == "Tuya propertySet (devId beside bizCode)"
            for r in store.messages.query(device_id=light.id, kind="webhook")
        )
    )


def test_broken_frames_with_an_id_are_kept_once_and_acked(linked, tuya_mq, store):
    """Not base64, not ASCII, too large, an unknown cipher: each is a dead letter with its
    raw frame, acked so that Tuya does not redeliver it forever."""
    broken = {
        "b-1": {"payload": "!!!"},
        "b-2": {"payload": "ü" * 8},
        "b-3": {"payload": "A" * (2 * 64 * 1024 + 4)},
        "b-4": {"payload": "e30=", "properties": {"em": "rot13"}},
        "b-5": {"payload": 5},
    }
    for message_id, rest in broken.items():
        tuya_mq.send_frame(json.dumps({"messageId": message_id, **rest}), message_id)
    for message_id in broken:
        assert tuya_mq.wait_acked(message_id), message_id

    def kept() -> list[dict]:
        return [
            r
            for r in store.messages.query(kind="rejection", limit=1000)
            if any(f'"messageId": "{m}"' in (r["payload"] or "") for m in broken)
        ]

    eventually(lambda: len(kept()) == len(broken))
    assert all((r["detail"] or "").startswith("Tuya message refused") for r in kept())
    assert sum(tuya_mq.deliveries.count(m) for m in broken) == len(broken)  # delivered once


def test_refused_messages_are_recorded_acked_and_change_nothing(
    linked, tuya_mq, store, make_account
):
    online, light, tuya_id = linked
    unsigned = tuya_mq.publish(property_set(tuya_id, "m-x-1", {"switch_led": True}), signed=False)
    bad_value = tuya_mq.publish(property_set(tuya_id, "m-x-2", {"bright_value_v2": 5000}))
    unknown = tuya_mq.publish(property_set("vdevo-not-ours", "m-x-3", {"switch_led": True}))
    undecryptable = tuya_mq.send_raw(base64.b64encode(b'{"sign": "x", "data": "AAAA"}').decode())
    for message_id in (unsigned, bad_value, unknown, undecryptable):
        assert tuya_mq.wait_acked(message_id)
    tuya_mq.send_frame("this is not a frame")
    eventually(
        lambda: (
            len(
                [r for r in store.messages.query(kind="rejection") if "Tuya" in (r["detail"] or "")]
            )
            >= 5
        )
    )
    assert "powerState" not in online.virtual[light.id].state
    assert "brightness" not in online.virtual[light.id].state
    # Another user's device: known to Tuya under another link, refused for this one.
    other = make_account()
    theirs = store.devices.create(other.user.id, "light", "Their light")
    assert store.links("tuya").get(other.user.id) is None
    foreign = tuya_mq.publish(property_set(theirs.id, "m-x-4", {"switch_led": True}))
    assert tuya_mq.wait_acked(foreign)
    assert not store.messages.query(device_id=theirs.id, kind="request")


def test_the_console_lists_tuya_with_its_link_and_delivery(linked, platform, account, server, tuya):
    online, light, tuya_id = linked
    online.client.send_event(light.id, "setPowerState", {"state": "On"})
    assert tuya.wait_for(
        tuya.reports, lambda r: r["device"] == tuya_id and "switch_led" in r["data"]
    )
    platform.console_login(account.user.name, account.password)

    def tuya_row() -> str:
        html = platform.session.get(server.url + "/console", timeout=5).text
        return html.split('data-label="Platform">tuya</td>', 1)[1].split("</tr>", 1)[0]

    def delivered() -> str | None:
        row = tuya_row()
        return row if "(100%)" in row else None

    row = eventually(delivered)
    assert "linked" in row and "not linked" not in row


def test_the_consumer_reconnects_when_the_service_drops_it(linked, tuya_mq):
    online, light, tuya_id = linked
    before = tuya_mq.consumers
    tuya_mq.drop()
    sent = tuya_mq.publish(property_set(tuya_id, "m-after-drop", {"switch_led": True}))
    assert tuya_mq.wait_acked(sent, timeout=15)  # the backoff starts at 1 s
    assert tuya_mq.consumers > before
    assert online.virtual[light.id].state["powerState"] == "On"


def test_an_action_from_tuya_is_answered_with_its_outcome(linked, tuya, tuya_mq):
    online, light, tuya_id = linked
    action = {
        "bizCode": "actionExecute",
        "bizData": {
            "devId": tuya_id,
            "msgId": "act-1",
            "actionCode": "set_white",
            "inputParams": {"temp_value_v2": 1000},
        },
    }
    assert tuya_mq.wait_acked(tuya_mq.publish(action))
    assert online.virtual[light.id].state["colorTemperature"] == 7000
    answer = tuya.wait_for(tuya.action_responses, lambda r: r["msg_id"] == "act-1")
    assert answer[0]["device"] == tuya_id
    assert answer[0]["data"] == {"actionCode": "set_white", "code": "success", "outputParams": {}}
    online.client.stop()  # offline: the action fails, and Tuya hears why
    assert tuya.wait_for(tuya.presence, lambda p: p == (tuya_id, "offline"))
    again = {**action, "bizData": {**action["bizData"], "msgId": "act-2"}}
    assert tuya_mq.wait_acked(tuya_mq.publish(again))
    failed = tuya.wait_for(tuya.action_responses, lambda r: r["msg_id"] == "act-2")
    assert failed[0]["data"]["code"] == "offline"


def test_unlink_removes_the_devices_from_tuya_and_ends_the_reports(
    linked, cli, account, store, tuya
):
    online, light, _ = linked
    printed = cli("tuya", "unlink", account.user.name)
    assert "1 devices removed" in printed
    assert tuya.by_bridge_id(light.id) is None
    assert store.links("tuya").get(account.user.id) is None
    reports = len(tuya.reports)
    online.client.send_event(light.id, "setPowerState", {"state": "Off"})
    eventually(lambda: store.shadow.values(light.id).get("powerState") == "Off")
    # Anything queued for Tuya meanwhile is done with (dropped: the link is gone).
    eventually(
        lambda: (
            not [
                r
                for r in store.db["outbox"].rows_where("adapter = 'tuya'")
                if r["device_id"] == light.id
                and r["delivered_at"] is None
                and r["failed_at"] is None
            ]
        )
    )
    assert len(tuya.reports) == reports and tuya.by_bridge_id(light.id) is None


def test_a_stream_that_stays_away_is_named_by_readiness_until_it_is_back(linked, server, tuya_mq):
    def readiness() -> tuple[int, list[str]]:
        answer = requests.get(server.url + "/readyz", timeout=5)
        return answer.status_code, answer.json()["failing"]

    assert readiness() == (200, [])
    tuya_mq.refusing = True
    try:
        tuya_mq.drop()
        assert eventually(lambda: readiness() == (503, ["tuya stream"]), timeout=20)
    finally:
        tuya_mq.refusing = False
    assert eventually(lambda: readiness() == (200, []), timeout=30)
    online, light, tuya_id = linked
    sent = tuya_mq.publish(property_set(tuya_id, "m-after-outage", {"switch_led": False}))
    assert tuya_mq.wait_acked(sent, timeout=15)
    assert online.virtual[light.id].state["powerState"] == "Off"
