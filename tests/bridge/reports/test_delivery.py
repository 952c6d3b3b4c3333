"""State changes reach every adapter's reporting hook, durably and never echoed back."""

import time

import requests
from servers import eventually, queued_for


def for_device(device_id):
    return lambda report: report["device"] == device_id


def test_physical_event_is_reported_to_the_adapter(account, light, connect, recorder):
    online = connect(account, [light])
    online.client.send_event(light.id, "setPowerState", {"state": "On"})
    [report] = recorder.wait_for(for_device(light.id))
    assert report["user"] == account.user.name
    assert report["cause"] == "PHYSICAL_INTERACTION"
    assert report["properties"] == {"powerState": "On"}


def test_sensor_event_carries_the_reading(account, store, connect, recorder):
    sensor = store.devices.create(account.user.id, "temperature_sensor", "Hall sensor")
    online = connect(account, [sensor])
    online.client.send_event(
        sensor.id,
        "currentTemperature",
        {"temperature": 21.5, "humidity": 40},
        cause="PERIODIC_POLL",
    )
    [report] = recorder.wait_for(for_device(sensor.id))
    assert report["cause"] == "PERIODIC_POLL"
    assert report["properties"] == {"temperature": 21.5, "humidity": 40}


def test_command_from_elsewhere_is_reported_as_app_interaction(
    account, light, connect, admin_send, recorder
):
    connect(account, [light])
    assert admin_send(light.id, "setPowerState", {"state": "On"}).ok
    [report] = recorder.wait_for(for_device(light.id))
    assert report["cause"] == "APP_INTERACTION" and report["action"] == "setPowerState"


def test_command_through_an_adapter_is_not_echoed_back_to_it(
    account, light, connect, server, store, recorder
):
    online = connect(account, [light])
    token = store.tokens.issue(account.user.id, "echo")
    body = {
        "token": token,
        "op": "command",
        "device": light.id,
        "action": "setPowerState",
        "value": {"state": "On"},
    }
    assert requests.post(f"{server.url}/voice/echo", json=body, timeout=5).json()["ok"]
    online.client.send_event(light.id, "setBrightness", {"brightness": 9})  # the sentinel
    [report] = recorder.wait_for(for_device(light.id))
    assert report["action"] == "setBrightness"
    assert queued_for(store, "echo", light.id) == ["setBrightness"]


def test_failed_deliveries_are_retried_until_delivered(account, light, connect, recorder, store):
    online = connect(account, [light])
    recorder.fail_next = 2
    online.client.send_event(light.id, "setPowerState", {"state": "Off"})
    [report] = recorder.wait_for(for_device(light.id), timeout=15)
    assert report["properties"] == {"powerState": "Off"}
    end = time.monotonic() + 5

    def state_reports():
        # The connection's own reachability report may still be queued when the event
        # comes, and is then folded into it ("coalesced"): not an attempt of its own.
        return [
            m
            for m in store.messages.query(device_id=light.id, kind="report")
            if m["action"] != "connectivity" and m["outcome"] != "coalesced"
        ]

    while len(reports := state_reports()) < 3:
        assert time.monotonic() < end, reports
        time.sleep(0.05)
    assert [m["outcome"] for m in reports] == ["ok", "retry", "retry"]
    assert "HTTPError" in reports[1]["detail"]


def test_flagged_event_is_not_reported(account, light, connect, recorder, store):
    online = connect(account, [light])
    online.client.send_event(light.id, "setPowerState", {"state": "On"})
    online.client.send_event(light.id, "setPowerState", {"state": "Off"})
    recorder.wait_for(for_device(light.id))
    events = eventually(
        lambda: len(e := store.messages.query(device_id=light.id, kind="event")) == 2 and e
    )
    assert [e["outcome"] for e in events] == ["flagged", "ok"]
    assert queued_for(store, "echo", light.id) == ["setPowerState"]  # the flagged one never is
    reports = recorder.wait_for(for_device(light.id), timeout=0)
    assert [r["properties"]["powerState"] for r in reports] == ["On"]
