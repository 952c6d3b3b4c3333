"""AcceptGrant and proactive events, delivered to a fake Event Gateway that checks them."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from alexa_helpers import accept_grant, directive, error_type
from servers import eventually, in_time, past_event_limit, queued_for


@pytest.fixture
def linked(alexa, amazon, token):
    event = accept_grant(alexa, amazon.issue_code(), token)
    assert event["event"]["header"]["name"] == "AcceptGrant.Response"
    return token


def reports_for(amazon, device_id, name="ChangeReport", connectivity=False):
    """Events for one endpoint; ChangeReports of reachability alone only when asked for."""

    def match(e):
        if e["event"]["header"]["name"] != name:
            return False
        if e["event"].get("endpoint", {}).get("endpointId") != device_id:
            return False
        if name != "ChangeReport":
            return True
        props = e["event"]["payload"]["change"]["properties"]
        return all(p["namespace"] == "Alexa.EndpointHealth" for p in props) == connectivity

    return match


def changed(event, health=False):
    """The changed properties (reachability only when asked: it may coalesce with others)."""
    return {
        (p["namespace"], p["name"]): p["value"]
        for p in event["event"]["payload"]["change"]["properties"]
        if health or p["namespace"] != "Alexa.EndpointHealth"
    }


def test_accept_grant_exchanges_the_code_at_lwa(alexa, amazon, token, store, account):
    calls = len(amazon.lwa_calls)
    event = accept_grant(alexa, amazon.issue_code(), token)
    assert event["event"]["header"]["namespace"] == "Alexa.Authorization"
    assert event["event"]["header"]["name"] == "AcceptGrant.Response"
    call = amazon.lwa_calls[calls]
    assert call["grant_type"] == "authorization_code" and call["code"].startswith("ANSK")
    stored = store.db.execute(
        "select data from platform_links where adapter = 'alexa' and user_id = ?", [account.user.id]
    ).fetchone()[0]
    assert "Atza|" not in stored and "Atzr|" not in stored  # encrypted at rest
    assert store.links("alexa").get(account.user.id)["region"] == "NA"


def test_accept_grant_failures(alexa, amazon, token):
    body = directive(
        "Alexa.Authorization",
        "AcceptGrant",
        None,
        payload={
            "grant": {"type": "OAuth2.AuthorizationCode", "code": "never-issued"},
            "grantee": {"type": "BearerToken", "token": token},
        },
    )
    event = alexa.send(body)
    assert event["event"]["header"]["namespace"] == "Alexa.Authorization"
    assert error_type(event) == "ACCEPT_GRANT_FAILED"
    body["directive"]["payload"]["grantee"]["token"] = "not ours"
    assert error_type(alexa.send(body)) == "ACCEPT_GRANT_FAILED"


def test_physical_change_is_a_change_report(alexa, amazon, linked, light, account, connect):
    online = connect(account, [light])
    online.client.send_event(light.id, "setBrightness", {"brightness": 10})
    [report] = amazon.wait_for(reports_for(amazon, light.id))
    assert changed(report) == {("Alexa.BrightnessController", "brightness"): 10}
    assert report["event"]["payload"]["change"]["cause"]["type"] == "PHYSICAL_INTERACTION"
    in_context = {(p["namespace"], p["name"]) for p in report["context"]["properties"]}
    reported = in_context | set(changed(report, health=True))
    assert ("Alexa.EndpointHealth", "connectivity") in reported
    assert ("Alexa.BrightnessController", "brightness") not in in_context
    assert "correlationToken" not in report["event"]["header"]


def test_changes_from_other_channels_are_reported_with_their_cause(
    alexa, amazon, linked, light, account, connect, admin_send, server, store
):
    connect(account, [light])
    assert admin_send(light.id, "setPowerState", {"state": "On"}).ok
    [report] = amazon.wait_for(reports_for(amazon, light.id))
    assert report["event"]["payload"]["change"]["cause"]["type"] == "APP_INTERACTION"
    echo_token = store.tokens.issue(account.user.id, "echo")
    requests.post(
        server.url + "/voice/echo",
        timeout=5,
        json={
            "token": echo_token,
            "op": "command",
            "device": light.id,
            "action": "setPowerState",
            "value": {"state": "Off"},
        },
    )
    eventually(lambda: len(amazon.wait_for(reports_for(amazon, light.id), 0)) == 2)
    second = amazon.wait_for(reports_for(amazon, light.id), 0)[1]
    assert second["event"]["payload"]["change"]["cause"]["type"] == "VOICE_INTERACTION"
    assert changed(second) == {("Alexa.PowerController", "powerState"): "OFF"}


def test_alexa_directives_are_not_echoed_back(
    alexa, amazon, linked, light, account, connect, store
):
    online = connect(account, [light])
    alexa.send(directive("Alexa.PowerController", "TurnOn", linked, light.id))
    online.client.send_event(light.id, "setBrightness", {"brightness": 30})  # the sentinel
    [report] = amazon.wait_for(reports_for(amazon, light.id))
    assert changed(report) == {("Alexa.BrightnessController", "brightness"): 30}
    assert queued_for(store, "alexa", light.id) == ["setBrightness"]


def test_doorbell_press(alexa, amazon, linked, store, account, connect):
    bell = store.devices.create(account.user.id, "doorbell", "Front bell")
    online = connect(account, [bell])
    online.client.send_event(bell.id, "DoorbellPress", {"state": "pressed"}, cause="ALERT")
    [event] = amazon.wait_for(reports_for(amazon, bell.id, "DoorbellPress"))
    assert event["event"]["header"]["namespace"] == "Alexa.DoorbellEventSource"


def test_contact_sensor_triggers_routines(alexa, amazon, linked, store, account, connect):
    door = store.devices.create(account.user.id, "contact_sensor", "Back door")
    online = connect(account, [door])
    online.client.send_event(door.id, "setContactState", {"state": "open"}, cause="ALERT")
    [report] = amazon.wait_for(reports_for(amazon, door.id))
    assert changed(report) == {("Alexa.ContactSensor", "detectionState"): "DETECTED"}


def test_a_garage_door_and_a_fans_percentage_are_change_reports(
    alexa, amazon, linked, store, account, connect
):
    door = store.devices.create(account.user.id, "garage_door", "Garage")
    fan = store.devices.create(account.user.id, "fan", "Fan")
    online = connect(account, [door, fan])
    online.client.send_event(door.id, "setMode", {"mode": "Open"})
    online.client.send_event(fan.id, "setPercentage", {"percentage": 40})
    [opened] = amazon.wait_for(reports_for(amazon, door.id))
    assert changed(opened) == {("Alexa.ModeController", "mode"): "Position.Up"}
    assert opened["event"]["payload"]["change"]["properties"][0]["instance"] == (
        "GarageDoor.Position"
    )
    [faster] = amazon.wait_for(reports_for(amazon, fan.id))
    assert changed(faster) == {("Alexa.PercentageController", "percentage"): 40}
    # Stopped half-way, the door is neither up nor down: nothing to report, nothing sent
    past_event_limit()
    online.client.send_event(door.id, "setMode", {"mode": "Stop"})
    eventually(lambda: len(queued_for(store, "alexa", door.id)) >= 2)
    eventually(
        lambda: all(
            r[0]
            for r in store.db.execute(
                "select delivered_at from outbox where adapter = 'alexa' and device_id = ?",
                [door.id],
            ).fetchall()
        )
    )
    told = [
        e["event"]["payload"]["change"]["properties"]
        for e in amazon.events
        if e["event"]["header"]["name"] == "ChangeReport"
        and e["event"]["endpoint"]["endpointId"] == door.id
    ]
    assert [p for p in told if p and p[0]["namespace"] != "Alexa.EndpointHealth"] == [
        opened["event"]["payload"]["change"]["properties"]
    ]
    assert [] not in told


def test_what_alexa_has_no_interface_for_is_never_sent(
    alexa, amazon, linked, store, account, connect
):
    smoke = store.devices.create(account.user.id, "smoke_sensor", "Hall smoke alarm")
    meter = store.devices.create(account.user.id, "energy_meter", "Mains")
    bell = store.devices.create(account.user.id, "doorbell", "Bell")
    online = connect(account, [smoke, meter, bell])  # their coming online is not sent either
    online.client.send_event(smoke.id, "setSmokeState", {"state": "detected"}, cause="ALERT")
    online.client.send_event(meter.id, "powerUsage", {"power": 120.0, "wattHours": 2.0})
    online.client.send_event(bell.id, "DoorbellPress", {"state": "pressed"}, cause="ALERT")
    amazon.wait_for(reports_for(amazon, bell.id, "DoorbellPress"))

    def handled() -> bool:  # the outbox gave the sink every change of the two: it said nothing
        rows = store.db.execute(
            "select delivered_at from outbox where adapter = 'alexa' and device_id in (?, ?)",
            [smoke.id, meter.id],
        ).fetchall()
        return len(rows) >= 2 and all(r[0] for r in rows)

    eventually(handled)
    ids = {e["event"].get("endpoint", {}).get("endpointId") for e in amazon.events}
    for e in amazon.events:
        ids |= {x.get("endpointId") for x in e["event"].get("payload", {}).get("endpoints", [])}
    assert not {smoke.id, meter.id} & ids


def test_device_added_renamed_and_deleted(alexa, amazon, linked, server_env, account):
    bridge = str(Path(sys.executable).with_name("bridge"))
    env = {**os.environ, **server_env}

    def cli(*args):
        out = subprocess.run(
            [bridge, "device", *args], env=env, capture_output=True, text=True, timeout=30
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    created = json.loads(cli("create", account.user.name, "--type", "plug", "--name", "Heater"))
    added = amazon.wait_for(
        lambda e: (
            e["event"]["header"]["name"] == "AddOrUpdateReport"
            and e["event"]["payload"]["endpoints"][0]["endpointId"] == created["id"]
        )
    )
    assert added[0]["event"]["payload"]["endpoints"][0]["friendlyName"] == "Heater"
    cli("rename", created["id"], "Bathroom heater")
    renamed = amazon.wait_for(
        lambda e: (
            e["event"]["header"]["name"] == "AddOrUpdateReport"
            and e["event"]["payload"]["endpoints"][0]["friendlyName"] == "Bathroom heater"
        )
    )
    assert renamed
    cli("delete", created["id"])
    deleted = amazon.wait_for(
        lambda e: (
            e["event"]["header"]["name"] == "DeleteReport"
            and e["event"]["payload"]["endpoints"] == [{"endpointId": created["id"]}]
        )
    )
    assert deleted and "rejected" not in deleted[0]


def history(store, device_id):
    """Alexa report attempts for a device's state, oldest first (reachability left out)."""
    return [
        (m["outcome"], m["detail"])
        for m in sorted(store.messages.query(device_id=device_id, kind="report"), key=in_time)
        if m["origin"] == "alexa" and m["action"] != "connectivity"
    ]


@pytest.fixture
def quiet(connect, amazon, account, light, store):
    """The light online, and its reachability report already delivered, so a test's
    scripted gateway answers meet only the report the test itself causes."""
    online = connect(account, [light])
    assert amazon.wait_for(reports_for(amazon, light.id, connectivity=True))
    eventually(
        lambda: [
            m
            for m in store.messages.query(device_id=light.id, kind="report")
            if m["origin"] == "alexa"
        ]
    )
    return online


def test_expired_token_is_refreshed_and_retried_once(alexa, amazon, linked, light, account, quiet):
    online = quiet
    amazon.expire_all()
    calls = len(amazon.lwa_calls)
    online.client.send_event(light.id, "setPowerState", {"state": "On"})
    assert amazon.wait_for(reports_for(amazon, light.id))
    assert [c["grant_type"] for c in amazon.lwa_calls[calls:]] == ["refresh_token"]


def test_throttled_then_delivered(alexa, amazon, linked, light, account, quiet, store):
    online = quiet
    amazon.script[:] = [(429, "THROTTLING_EXCEPTION")]
    started = time.monotonic()
    online.client.send_event(light.id, "setPowerState", {"state": "On"})
    assert amazon.wait_for(reports_for(amazon, light.id), timeout=15)
    assert time.monotonic() - started >= 1.0  # at least a second between tries
    outcomes = eventually(lambda: len(h := history(store, light.id)) == 2 and h)
    assert [o for o, _ in outcomes] == ["retry", "ok"]


def test_server_errors_are_retried_past_the_attempt_limit_until_the_gateway_is_back(
    alexa, amazon, linked, light, account, quiet, store
):
    """A device's newest state is never given up for an outage: Alexa converges."""
    online = quiet
    amazon.script[:] = [(500, "INTERNAL_SERVICE_EXCEPTION")] * 4  # one more than the limit
    online.client.send_event(light.id, "setPowerState", {"state": "On"})
    [report] = amazon.wait_for(reports_for(amazon, light.id), timeout=30)
    properties = report["event"]["payload"]["change"]["properties"]
    assert properties[0]["value"] == "ON"
    outcomes = eventually(lambda: len(h := history(store, light.id)) == 5 and h, timeout=10)
    assert [o for o, _ in outcomes] == ["retry"] * 4 + ["ok"]
    assert "INTERNAL_SERVICE_EXCEPTION" in outcomes[0][1]


def test_a_401_that_a_fresh_token_does_not_cure_is_retried_not_an_unlink(
    alexa, amazon, linked, light, account, quiet, store
):
    online = quiet
    amazon.script[:] = [(401, "INVALID_ACCESS_TOKEN_EXCEPTION")] * 4  # before and after refresh
    online.client.send_event(light.id, "setPowerState", {"state": "On"})
    assert amazon.wait_for(reports_for(amazon, light.id), timeout=30)
    outcomes = eventually(lambda: len(h := history(store, light.id)) == 3 and h, timeout=10)
    assert [o for o, _ in outcomes] == ["retry", "retry", "ok"]
    assert store.links("alexa").get(account.user.id) is not None  # still linked


def test_skill_disabled_stops_reports_until_the_next_accept_grant(
    alexa, amazon, linked, light, account, quiet, store
):
    online = quiet
    amazon.script[:] = [(403, "SKILL_DISABLED_EXCEPTION")]
    online.client.send_event(light.id, "setPowerState", {"state": "On"})
    outcomes = eventually(lambda: history(store, light.id))
    assert outcomes[0][0] == "revoked"
    assert store.links("alexa").get(account.user.id) is None
    past_event_limit()
    online.client.send_event(light.id, "setPowerState", {"state": "Off"})
    eventually(lambda: queued_for(store, "echo", light.id) == ["setPowerState"] * 2)
    assert queued_for(store, "alexa", light.id) == ["setPowerState"]  # nothing more for Alexa
    accept_grant(alexa, amazon.issue_code(), linked)
    past_event_limit()
    online.client.send_event(light.id, "setPowerState", {"state": "On"})
    assert amazon.wait_for(reports_for(amazon, light.id))


def test_revoked_refresh_token_marks_the_link_revoked(
    alexa, amazon, linked, light, account, quiet, store
):
    online = quiet
    amazon.revoke_all()  # the user disabled the skill
    online.client.send_event(light.id, "setPowerState", {"state": "On"})
    outcomes = eventually(lambda: history(store, light.id))
    assert outcomes[0][0] == "revoked"
    reason = store.db.execute(
        "select reason from platform_links where user_id = ? and adapter = 'alexa'",
        [account.user.id],
    ).fetchone()[0]
    assert "refresh" in reason


def test_malformed_report_is_dead_lettered_with_the_reason(
    alexa, amazon, linked, light, account, quiet, store
):
    online = quiet
    amazon.script[:] = [(400, "INVALID_REQUEST_EXCEPTION")]
    online.client.send_event(light.id, "setPowerState", {"state": "On"})
    outcomes = eventually(lambda: history(store, light.id))
    assert outcomes == [("dead-letter", outcomes[0][1])]
    assert "400 INVALID_REQUEST_EXCEPTION" in outcomes[0][1]


def test_the_relay_region_picks_the_gateway_region(alexa, amazon, token, store, account):
    accept_grant(alexa, amazon.issue_code(), token, {"X-Bridge-Aws-Region": "eu-west-1"})
    assert store.links("alexa").get(account.user.id)["region"] == "EU"


def test_reachability_changes_are_reported(alexa, amazon, linked, light, account, quiet):
    online = quiet
    [up] = amazon.wait_for(reports_for(amazon, light.id, connectivity=True))
    assert changed(up, health=True) == {("Alexa.EndpointHealth", "connectivity"): {"value": "OK"}}
    online.client.stop()
    down = amazon.wait_for(
        lambda e: (
            reports_for(amazon, light.id, connectivity=True)(e)
            and changed(e, health=True)[("Alexa.EndpointHealth", "connectivity")]
            == {"value": "UNREACHABLE"}
        )
    )
    assert down


def test_a_slow_lock_is_deferred_then_answered_at_the_gateway(
    alexa, amazon, linked, account, connect, store
):
    """A lock turns for longer than Alexa waits: DeferredResponse, then the Response."""
    import threading

    lock = store.devices.create(account.user.id, "lock", "Front door")
    online = connect(account, [lock])
    turned = threading.Event()
    online.client.on("setLockState", lambda d, value, i: turned.wait(5) and value)
    body = directive("Alexa.LockController", "Lock", linked, lock.id)
    correlation = body["directive"]["header"]["correlationToken"]
    deferred = alexa.send(body)  # after the adapter's deadline, schema-checked
    assert deferred["event"]["header"]["name"] == "DeferredResponse"
    assert deferred["event"]["header"]["correlationToken"] == correlation
    turned.set()  # the bolt is home: the device answers, inside the device timeout

    def answer(e):
        return e["event"]["header"].get("correlationToken") == correlation

    [response] = amazon.wait_for(answer, timeout=15)
    assert response["event"]["header"]["name"] == "Response" and "rejected" not in response
    state = [p for p in response["context"]["properties"] if p["name"] == "lockState"]
    assert state[0]["value"] == "LOCKED"
    # The request ended after the reply: the webhook's hop is a row of its own, same journey.
    request = eventually(lambda: store.messages.query(device_id=lock.id, kind="request"))[0]
    assert request["reply"] is None and request["journey"]
    webhook = store.messages.query(journey=request["journey"], kind="webhook")
    assert [(w["action"], w["detail"]) for w in webhook] == [
        ("Alexa.LockController.Lock", "HTTP 200")
    ]
