"""Change reports, device sync and unbinding, against a fake of DuerOS's report endpoints."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ATTRIBUTE_INTERVAL
from fakes.dueros import BOT_ID
from servers import eventually, in_time, past_event_limit, queued_for
from xiaodu_helpers import CONTROL, attributes, from_sample, request

OPEN_UID = "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c"


@pytest.fixture
def linked(duer, token, dueros, account):
    """The user discovered through DuerOS: the bridge now knows their openUid."""
    open_uid = f"uid-{account.user.id}"
    body = from_sample("discover.request", token)
    body["payload"]["openUid"] = open_uid
    dueros.script.clear()  # no scripted answer left over from an earlier test
    duer.send(body)
    dueros.tokens[open_uid] = token
    return open_uid


def reports_for(device_id, attribute=None):
    """Reports for one device (of one attribute; reachability only when asked for)."""

    def match(r):
        name = r["payload"]["appliance"]["attributeName"]
        if r["payload"]["appliance"]["applianceId"] != device_id:
            return False
        return name == attribute if attribute else name != "connectivity"

    return match


def test_physical_change_is_reported_then_read_back(dueros, linked, light, account, connect):
    online = connect(account, [light])
    online.client.send_event(light.id, "setPowerState", {"state": "On"})
    report = dueros.wait_for("reports", reports_for(light.id))[0]
    assert report["payload"] == {
        "botId": BOT_ID,
        "openUid": linked,
        "appliance": {"applianceId": light.id, "attributeName": "turnOnState"},
    }
    [state] = dueros.wait_for(
        "states",
        lambda s: (
            s["asked_for"] == light.id and s["payload"]["attributes"][0]["name"] == "turnOnState"
        ),
    )
    assert state["header"]["name"] == "ReportStateResponse"
    assert attributes(state)["turnOnState"] == "ON"


def test_duer_os_holds_what_it_read_back_not_what_a_report_said(
    dueros, linked, light, account, connect, store
):
    """DuerOS learns by asking: a report it took but never followed with its read is drift."""

    def held() -> dict:
        return {
            p.name: (p.held, p.source)
            for p in store.beliefs.pairs(account.user.id)
            if p.adapter == "xiaodu" and p.device_id == light.id
        }

    online = connect(account, [light])
    reading, dueros.bridge_url = dueros.bridge_url, ""  # DuerOS does not read back
    try:
        online.client.send_event(light.id, "setPowerState", {"state": "On"})
        assert dueros.wait_for("reports", reports_for(light.id))
        eventually(  # the outbox marked it taken (after it would have written a belief)
            lambda: [
                r
                for r in store.messages.query(device_id=light.id, kind="report", limit=20)
                if r["origin"] == "xiaodu" and r["outcome"] == "ok"
            ]
        )
        assert "powerState" not in held()  # taken, but never read: DuerOS holds nothing new
    finally:
        dueros.bridge_url = reading
    past_event_limit()
    online.client.send_event(light.id, "setPowerState", {"state": "Off"})
    assert dueros.wait_for(
        "states", lambda s: s["asked_for"] == light.id and attributes(s)["turnOnState"] == "OFF"
    )
    eventually(lambda: held().get("powerState") == ("Off", "read"))


def test_one_report_per_attribute_per_interval(dueros, linked, light, account, connect):
    online = connect(account, [light])
    online.client.send_event(light.id, "setBrightness", {"brightness": 10})
    assert dueros.wait_for("reports", reports_for(light.id, "brightness"))
    first = time.monotonic()
    past_event_limit()
    online.client.send_event(light.id, "setBrightness", {"brightness": 20})
    eventually(
        lambda: len(dueros.wait_for("reports", reports_for(light.id, "brightness"), 0)) == 2,
        timeout=10,
    )
    assert time.monotonic() - first >= ATTRIBUTE_INTERVAL - 0.3  # the second waited its turn


def test_changes_xiaodu_made_are_not_echoed(
    duer, dueros, linked, token, light, account, connect, admin_send, store
):
    connect(account, [light])
    duer.send(request(CONTROL, "TurnOnRequest", token, light.id))
    assert admin_send(light.id, "setBrightness", {"brightness": 5}).ok  # another channel
    assert dueros.wait_for("reports", reports_for(light.id, "brightness"))
    assert queued_for(store, "xiaodu", light.id) == ["setBrightness"]
    assert dueros.wait_for("reports", reports_for(light.id, "turnOnState"), 0) == []


def test_device_add_and_remove_sync(dueros, linked, server_env, account):
    bridge = str(Path(sys.executable).with_name("bridge"))
    env = {**os.environ, **server_env}
    out = subprocess.run(
        [bridge, "device", "create", account.user.name, "--type", "plug", "--name", "Heater"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    device_id = json.loads(out.stdout)["id"]
    [sync] = dueros.wait_for("syncs", lambda s: s["openUids"] == [linked])
    assert sync["botId"] == BOT_ID and sync["logId"]
    subprocess.run(
        [bridge, "device", "delete", device_id],
        env=env,
        check=True,
        capture_output=True,
        timeout=30,
    )
    eventually(lambda: len(dueros.wait_for("syncs", lambda s: s["openUids"] == [linked], 0)) == 2)


def test_refused_reports_are_dead_lettered_and_the_limit_retried(
    dueros, linked, light, account, connect, store
):
    online = connect(account, [light])
    assert dueros.wait_for("reports", reports_for(light.id, "connectivity"))  # before scripting
    dueros.script[:] = [{"status": 1, "msg": "One attribute can only sync 1 times during 60"}]
    online.client.send_event(light.id, "setPowerState", {"state": "On"})
    assert dueros.wait_for("reports", reports_for(light.id), timeout=15)
    dueros.script[:] = [{"status": 2, "msg": "Appliance specificed not exist"}]
    past_event_limit()
    online.client.send_event(light.id, "setBrightness", {"brightness": 3})

    def outcomes():
        return [
            (m["outcome"], m["detail"])
            for m in sorted(store.messages.query(device_id=light.id, kind="report"), key=in_time)
            if m["origin"] == "xiaodu"
            and m["action"] != "connectivity"
            and m["outcome"] != "coalesced"  # a waiting report folded into a newer one
        ]

    history = eventually(lambda: len(outcomes()) >= 3 and outcomes(), timeout=15)
    assert [o for o, _ in history[:3]] == ["throttled", "ok", "dead-letter"]
    assert "Appliance specificed not exist" in history[2][1]


def test_unbind_revokes_the_link_and_stops_reports(
    duer, dueros, linked, token, light, account, connect, store
):
    online = connect(account, [light])
    body = request("DuerOS.ConnectedHome.UnbindBot", "UnbindBotRequest", token)
    answer = duer.send(body)
    assert answer["header"] == {**body["header"], "name": "UnbindBotResponse"}
    assert answer["payload"] == {}
    assert store.links("xiaodu").get(account.user.id) is None
    again = duer.send(request(CONTROL, "TurnOnRequest", token, light.id))
    assert again["header"]["name"] == "InvalidAccessTokenError"
    online.client.send_event(light.id, "setPowerState", {"state": "On"})
    eventually(lambda: queued_for(store, "echo", light.id))  # the reporter has decided
    assert queued_for(store, "xiaodu", light.id) == []
    assert dueros.wait_for("reports", reports_for(light.id), 0) == []


def test_reachability_is_reported(dueros, linked, light, account, connect):
    connect(account, [light])
    assert dueros.wait_for("reports", reports_for(light.id, "connectivity"))
