"""The integrators' REST API: keys, scope, commands, history, status, stream, limits."""

import time

import pytest
import requests
from servers import StreamListener, eventually, shadowed

from bridge.api.openapi import document
from bridge.client import Refused
from config.settings import Settings


def test_token_exchange_and_its_refusals(server, store, account, integrator):
    client = integrator()
    assert client.call("GET", "/devices").status_code == 200
    bad = requests.post(server.url + "/api/v1/token", auth=(client.key_id, "wrong"), timeout=5)
    assert bad.status_code == 401 and bad.headers["Content-Type"] == "application/problem+json"
    store.keys.set_disabled(client.key_id, True)
    assert client.call("GET", "/devices").status_code == 401  # at once, not at expiry
    assert client.login().status_code == 401
    store.keys.set_disabled(client.key_id, False)
    assert client.login().status_code == 200
    store.keys.delete(client.key_id)
    assert client.call("GET", "/devices").status_code == 401
    key, _ = store.keys.create(account.user.id, "read", ["light"])
    client.token = store.keys.issue_token(key, ttl=-1)
    expired = client.call("GET", "/devices")
    assert expired.status_code == 401 and expired.json()["type"].endswith("/expired_token")
    assert requests.get(server.url + "/api/v1/devices", timeout=5).status_code == 401


def test_scope_by_product_and_user(integrator, store, account, make_account, light):
    plug = store.devices.create(account.user.id, "plug", "Heater plug")
    stranger = make_account()
    theirs = store.devices.create(stranger.user.id, "light", "Not yours")
    lights = integrator(products=("light",))
    assert [d["id"] for d in lights.call("GET", "/devices").json()["devices"]] == [light.id]
    assert lights.call("GET", f"/devices/{plug.id}").status_code == 404
    assert lights.call("GET", f"/devices/{theirs.id}").status_code == 404
    by_id = integrator(products=(plug.id,))
    assert [d["id"] for d in by_id.call("GET", "/devices").json()["devices"]] == [plug.id]


def test_device_detail_has_capabilities_online_and_shadow(integrator, light, account, connect):
    online = connect(account, [light])
    online.client.send_event(light.id, "setBrightness", {"brightness": 61})
    client = integrator()
    detail = eventually(
        lambda: (d := client.call("GET", f"/devices/{light.id}").json())["state"] and d
    )
    assert detail["online"] is True
    assert (
        detail["state"]["brightness"]["value"] == 61
        and detail["state"]["brightness"]["sampled_at"] > 0
    )
    assert "brightness" in {c["name"] for c in detail["capabilities"]}


def test_a_meters_energy_by_hour_from_its_readings(integrator, store, account, connect):
    meter = store.devices.create(account.user.id, "energy_meter", "Mains meter")
    online = connect(account, [meter])
    now = int(time.time())
    # Two readings taken now: 40 Wh over the last two hours, 90 Wh over the last 90 minutes
    for start, wh in ((now - 7200, 40.0), (now - 5400, 90.0)):
        reading = {"startTime": start, "power": 100.0, "wattHours": wh}
        online.client.send_event(meter.id, "powerUsage", reading, cause="PERIODIC_POLL")
    shadowed(store, meter.id, {"wattHours": 90.0})
    client = integrator(products=("energy_meter",))
    query = {"since": now - 7200, "until": now + 3600, "resolution": 3600}

    def hourly() -> dict:
        return client.call("GET", f"/devices/{meter.id}/energy", params=query).json()

    found = eventually(lambda: (r := hourly())["intervals"][0]["readings"] == 2 and r)
    assert found["unit"] == "Wh" and found["resolution"] == 3600
    first, second, third = (i["wattHours"] for i in found["intervals"])
    assert first == pytest.approx(20 + 30, abs=0.2)  # half of 40, a third of 90
    assert second == pytest.approx(20 + 60, abs=0.2)
    assert first + second + third == pytest.approx(130, abs=0.01)  # nothing lost, none twice
    assert client.call("GET", f"/devices/{meter.id}").json()["state"]["power"]["value"] == 100


def test_energy_over_more_readings_than_one_answer_sums_is_refused(integrator, store, account):
    from bridge.store.readings import MAX_READINGS

    meter = store.devices.create(account.user.id, "energy_meter", "Busy meter")
    rows = (
        {"device_id": meter.id, "at": 1000.0 + i, "start": None, "power": 1.0, "watt_hours": 1.0}
        for i in range(MAX_READINGS + 1)
    )
    store.db["meter_readings"].insert_all(rows)
    client = integrator(products=("energy_meter",))
    path, whole = f"/devices/{meter.id}/energy", {"since": 0, "until": 86400 * 2}
    assert client.call("GET", path, params=whole).status_code == 422  # not a silent part
    # a narrower range is summed: one reading a second, 600 of them in ten minutes
    found = client.call("GET", path, params={"since": 1000, "until": 1600, "resolution": 600})
    assert found.json()["intervals"][0]["wattHours"] == 600.0


def test_energy_of_what_measures_none_or_of_a_bad_range_is_refused(integrator, store, account):
    meter = store.devices.create(account.user.id, "energy_meter", "Mains meter")
    light = store.devices.create(account.user.id, "light", "Lamp")
    client = integrator(products=("energy_meter", "light"))
    assert client.call("GET", f"/devices/{light.id}/energy").status_code == 404
    for params in (
        {"since": 100, "until": 50},
        {"resolution": 10},
        {"since": 0, "until": 400 * 86400},
        {"since": 0, "until": 2000 * 60, "resolution": 60},
        {"colour": "red"},
    ):
        assert client.call("GET", f"/devices/{meter.id}/energy", params=params).status_code == 422
    others = integrator(products=("light",))
    assert others.call("GET", f"/devices/{meter.id}/energy").status_code == 404


def test_commands(integrator, light, account, connect, recorder):
    online = connect(account, [light])
    client = integrator()
    reply = client.call(
        "POST",
        f"/devices/{light.id}/commands",
        json={"action": "setPowerState", "value": {"state": "On"}},
    )
    assert reply.status_code == 200 and reply.json()["value"] == {"state": "On"}
    assert online.virtual[light.id].state["powerState"] == "On"
    [report] = recorder.wait_for(lambda r: r["device"] == light.id)
    assert report["cause"] == "APP_INTERACTION"  # reported to the linked platforms
    invalid = client.call(
        "POST",
        f"/devices/{light.id}/commands",
        json={"action": "setBrightness", "value": {"brightness": 900}},
    )
    assert invalid.status_code == 422
    malformed = client.call("POST", f"/devices/{light.id}/commands", json=["x"])
    assert malformed.status_code == 422

    def refuse(device_id, value, instance):
        raise Refused("no")

    online.client.on("setColor", refuse)
    refused = client.call(
        "POST",
        f"/devices/{light.id}/commands",
        json={"action": "setColor", "value": {"color": {"r": 1, "g": 1, "b": 1}}},
    )
    assert refused.status_code == 422 and refused.json()["detail"] == "no"


def test_command_failures(integrator, light, store, account, connect):
    client = integrator()
    offline = client.call(
        "POST",
        f"/devices/{light.id}/commands",
        json={"action": "setPowerState", "value": {"state": "On"}},
    )
    assert offline.status_code == 409
    connect(account, [light], delay=3)
    started = time.monotonic()
    slow = client.call(
        "POST",
        f"/devices/{light.id}/commands",
        json={"action": "setPowerState", "value": {"state": "On"}, "timeout": 0.5},
    )
    assert slow.status_code == 504 and slow.json()["detail"] == "device unresponsive"
    assert time.monotonic() - started < 1.5
    plug = store.devices.create(account.user.id, "plug", "Outside the scope")
    outside = integrator(products=("light",)).call(
        "POST",
        f"/devices/{plug.id}/commands",
        json={"action": "setPowerState", "value": {"state": "On"}},
    )
    assert outside.status_code == 404
    reader = integrator(purpose="read")
    refused = reader.call(
        "POST",
        f"/devices/{light.id}/commands",
        json={"action": "setPowerState", "value": {"state": "On"}},
    )
    assert refused.status_code == 403
    huge = client.call(
        "POST",
        f"/devices/{light.id}/commands",
        data="x" * 20000,
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413


def test_history_filters_and_pagination(integrator, light, account, connect, store):
    connect(account, [light])
    client = integrator()
    for state in ("On", "Off", "On"):
        client.call(
            "POST",
            f"/devices/{light.id}/commands",
            json={"action": "setPowerState", "value": {"state": state}},
        )
    client.call(
        "POST",
        f"/devices/{light.id}/commands",
        json={"action": "setBrightness", "value": {"brightness": 500}},
    )
    # Each worker writes its history behind: wait until the other worker's rows are in too.
    eventually(lambda: len(store.messages.query(device_id=light.id, kind="request")) == 3)
    mine = client.call("GET", f"/messages?key={client.key_id}&limit=2").json()
    assert [m["kind"] for m in mine["messages"]] == ["request", "request"]
    second = client.call(
        "GET", f"/messages?key={client.key_id}&limit=2&cursor={mine['next_cursor']}"
    ).json()
    assert second["next_cursor"] is None and len(second["messages"]) == 1
    assert mine["messages"][0]["id"] > mine["messages"][1]["id"] > second["messages"][0]["id"]
    ok = client.call("GET", f"/messages?device={light.id}&outcome=ok&kind=request").json()
    assert {(m["outcome"], m["kind"]) for m in ok["messages"]} == {("ok", "request")}
    future = client.call("GET", f"/messages?since={time.time() + 60}").json()
    assert future["messages"] == []
    assert client.call("GET", "/messages?limit=0").status_code == 422
    assert client.call("GET", "/messages?since=yesterday").status_code == 422


def test_key_status(integrator, light, account, connect):
    connect(account, [light])
    client = integrator()
    for _ in range(3):
        client.call(
            "POST",
            f"/devices/{light.id}/commands",
            json={"action": "setPowerState", "value": {"state": "On"}},
        )
    status = eventually(
        lambda: (
            (s := client.call("GET", f"/keys/{client.key_id}/status").json())["last_hour"][
                "requests"
            ]
            == 3
            and s
        )
    )
    assert status["last_hour"]["success_rate"] == 1.0 and status["last_hour"]["p50_ms"] > 0
    assert status["last_day"]["succeeded"] == 3 and status["last_errors"] == []


def test_a_key_reads_only_its_own_status_and_learns_nothing_of_others(integrator, make_account):
    lights, plugs = integrator(products=("light",)), integrator(products=("plug",))
    theirs = integrator(owner=make_account())
    answers = [
        lights.call("GET", f"/keys/{other}/status")
        for other in (plugs.key_id, theirs.key_id, "k_doesnotexist")
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({a.json()["type"] for a in answers}) == 1
    assert lights.call("GET", f"/keys/{lights.key_id}/status").status_code == 200


def test_history_query_parameters_are_typed(integrator):
    client = integrator()
    for query in (
        "limit=0",
        "limit=x",
        "cursor=99999999999999999999",
        "since=nan",
        "limit=1&limit=2",
    ):
        reply = client.call("GET", f"/messages?{query}")
        assert reply.status_code == 422, (query, reply.text)
        assert reply.headers["Content-Type"] == "application/problem+json"


def test_stream_delivers_new_messages(integrator, light, account, connect, server):
    connect(account, [light])
    client = integrator()
    auth = {"Authorization": f"Bearer {client.token}"}
    listener = StreamListener(requests, server.url + "/api/v1/stream", auth).start()
    client.call(
        "POST",
        f"/devices/{light.id}/commands",
        json={"action": "setPowerState", "value": {"state": "On"}},
    )
    events = listener.join(10)
    assert events and events[-1]["action"] == "setPowerState"
    assert events[-1]["origin"] == f"api:{client.key_id}"


def test_rate_limit_answers_429_with_retry_after(integrator):
    client = integrator()
    statuses = [client.call("GET", "/devices") for _ in range(40)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and int(limited[0].headers["Retry-After"]) >= 1


def test_every_route_is_documented(server):
    from bridge import create_app

    app = create_app({"database": ":memory:", "secret_key": "k"})
    routes = {
        rule.rule.replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
    }
    assert routes == set(document()["paths"])
    served = requests.get(server.url + "/api/v1/openapi.json", timeout=5).json()
    assert served["openapi"].startswith("3.1")


def test_metrics_for_operators(server, integrator, light, account, connect):
    connect(account, [light])
    integrator().call(
        "POST",
        f"/devices/{light.id}/commands",
        json={"action": "setPowerState", "value": {"state": "On"}},
    )
    text = requests.get(server.url + "/metrics", timeout=5).text
    assert 'bridge_commands_total{origin="api",outcome="ok"}' in text
    assert 'bridge_command_seconds_bucket{le="8.0",origin="api",outcome="ok"}' in text
    assert "bridge_devices_connected" in text
    assert "bridge_outbox_pending" in text and "bridge_reports_total" in text
    assert 'bridge_service_up{service="reports"} 1.0' in text
    assert 'bridge_service_reconnects{service="store sync"} 0.0' in text
    lag = eventually(  # the change went to the test adapter as a report: its lag is counted
        lambda: (
            'bridge_report_lag_seconds_count{platform="echo"}'
            in requests.get(server.url + "/metrics", timeout=5).text
        )
    )
    assert lag
    proxied = requests.get(
        server.url + "/metrics", headers={"X-Forwarded-For": "1.2.3.4"}, timeout=5
    )
    assert proxied.status_code == 403


def test_a_key_does_nothing_outside_its_purpose(server, integrator, light):
    client = integrator()
    bearer = {"Authorization": f"Bearer {client.token}"}
    # It cannot register devices: there is no such route for it.
    created = requests.post(
        server.url + "/api/v1/devices",
        headers=bearer,
        timeout=5,
        json={"type": "light", "name": "sneaky"},
    )
    assert created.status_code == 405
    # It is no account-linking token: a voice webhook refuses it.
    voice = requests.post(
        server.url + "/voice/echo", timeout=5, json={"token": client.token, "op": "discover"}
    )
    assert voice.json()["error"] == "invalid_token"
    # It is no admin credential either.
    admin = requests.post(
        server.url + "/admin/api/send",
        timeout=5,
        headers={**bearer, "X-Forwarded-For": "203.0.113.1"},
        json={"device": light.id, "action": "setPowerState", "value": {}},
    )
    assert admin.status_code == 403
    # And it cannot mint tokens for other keys or refresh itself through OAuth.
    oauth = requests.post(
        server.url + "/oauth/token",
        timeout=5,
        data={"grant_type": "refresh_token", "refresh_token": client.token},
    )
    assert oauth.status_code in (400, 401) and "error" in oauth.json()


def test_an_account_holds_a_bounded_number_of_streams_on_all_workers_together(integrator, server):
    client = integrator()
    auth = {"Authorization": f"Bearer {client.token}"}
    url = server.url + "/api/v1/stream"
    held = []
    try:
        for _ in range(Settings().streams_per_account):
            held.append(requests.get(url, headers=auth, stream=True, timeout=10))
            assert held[-1].status_code == 200
            time.sleep(0.12)  # under the API's own rate limit (10 a second)
        for _ in range(2):  # on the scaled set-up, the two land on either worker
            refused = requests.get(url, headers=auth, stream=True, timeout=10)
            assert refused.status_code == 429, refused.text
            assert refused.json()["title"] == "too many streams"
            assert int(refused.headers["Retry-After"]) >= 1
            time.sleep(0.12)
        held.pop().close()  # a client leaves: its place is given back at once

        def reopened() -> bool:
            again = requests.get(url, headers=auth, stream=True, timeout=10)
            held.append(again)
            return again.status_code == 200

        eventually(reopened, timeout=5, interval=0.2)
    finally:
        for response in held:
            response.close()
