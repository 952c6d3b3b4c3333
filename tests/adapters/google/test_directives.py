"""SYNC, QUERY, EXECUTE and DISCONNECT: the composed samples, every trait, and errors."""

import pytest
from google_helpers import execute, from_sample, intent, query, sample, state_errors
from servers import eventually, shadowed

from bridge.client import Refused


def test_sync_sample_and_every_type(home, token, account, devices):
    answer = home.call(from_sample("sync.request"), token)
    theirs = sample("sync.response")
    assert set(answer) == set(theirs) and set(answer["payload"]) == set(theirs["payload"])
    agent = answer["payload"]["agentUserId"]
    assert agent and account.user.name not in agent and str(account.user.id) != agent
    found = {d["id"]: d for d in answer["payload"]["devices"]}
    light = found[devices["light"].id]
    assert set(theirs["payload"]["devices"][0]) <= set(light)
    assert light["roomHint"] == "Hall" and light["willReportState"] is True
    assert light["attributes"]["colorTemperatureRange"] == {
        "temperatureMinK": 2200,
        "temperatureMaxK": 7000,
    }
    by_type = {kind: found[d.id] for kind, d in devices.items() if d.id in found}
    expected = {
        "light": "LIGHT",
        "plug": "OUTLET",
        "thermostat": "THERMOSTAT",
        "air_conditioner": "AC_UNIT",
        "lock": "LOCK",
        "blinds": "BLINDS",
        "fan": "FAN",
        "temperature_sensor": "SENSOR",
        "doorbell": "DOORBELL",
        "scene": "SCENE",
        "smoke_sensor": "SMOKE_DETECTOR",
        "co_sensor": "CARBON_MONOXIDE_DETECTOR",
        "leak_sensor": "SENSOR",
        "garage_door": "GARAGE",
        "gate": "GATE",
    }
    for kind, google_type in expected.items():
        assert by_type[kind]["type"] == "action.devices.types." + google_type
    stat = by_type["thermostat"]["attributes"]
    assert stat["thermostatTemperatureUnit"] == "C"
    assert {"heat", "cool", "auto", "eco", "off"} <= set(stat["availableThermostatModes"])
    assert stat["thermostatTemperatureRange"] == {
        "minThresholdCelsius": 5,
        "maxThresholdCelsius": 35,
    }
    fan = by_type["fan"]["attributes"]
    assert fan["supportsFanSpeedPercent"] is True
    assert [s["speed_name"] for s in fan["availableFanSpeeds"]["speeds"]] == [
        f"speed_{n}" for n in range(1, 6)
    ]
    assert by_type["doorbell"]["traits"] == ["action.devices.traits.ObjectDetection"]
    assert by_type["doorbell"]["notificationSupportedByAgent"] is True
    assert by_type["temperature_sensor"]["attributes"]["queryOnlyTemperatureControl"] is True
    assert by_type["contact_sensor"]["attributes"]["queryOnlyOpenClose"] is True
    assert "action.devices.traits.LockUnlock" in by_type["lock"]["traits"]
    assert by_type["scene"]["attributes"] == {"sceneReversible": True}
    leak = by_type["leak_sensor"]["attributes"]["sensorStatesSupported"]
    assert leak == [
        {
            "name": "WaterLeak",
            "descriptiveCapabilities": {"availableStates": ["leak", "no leak"]},
        }
    ]
    # Google has no trait for a meter or a button: the coverage page says so, and SYNC
    # does not list them
    assert not ({devices["energy_meter"].id, devices["button"].id} & set(found))
    # The same agentUserId on every SYNC, and for another token of the same user.
    again = home.call(intent("SYNC"), token)["payload"]["agentUserId"]
    assert again == agent


def test_agent_user_ids_differ_between_users(home, token, make_account, store):
    other = make_account()
    theirs = store.tokens.issue(other.user.id, "google")
    mine = home.call(intent("SYNC"), token)["payload"]["agentUserId"]
    assert home.call(intent("SYNC"), theirs)["payload"]["agentUserId"] != mine


def test_query_sample_online_offline_and_unknown(home, token, account, light, connect, store):
    online = connect(account, [light])
    online.client.send_event(light.id, "setBrightness", {"brightness": 80})
    shadowed(store, light.id, {"brightness": 80})
    offline = store.devices.create(account.user.id, "plug", "Porch plug")
    found = home.devices(from_sample("query.request", **{"123": light.id}), token)
    theirs = sample("query.response")["payload"]["devices"]
    assert found[light.id]["brightness"] == 80
    assert found[light.id]["online"] is True and found[light.id]["status"] == "SUCCESS"
    both = home.devices(query(light.id, offline.id, "nope"), token)
    assert set(theirs["456"]) <= set(both[offline.id])
    assert both[offline.id]["status"] == "OFFLINE"
    assert both[offline.id]["errorCode"] == "deviceOffline"
    assert both["nope"] == {"online": False, "status": "ERROR", "errorCode": "deviceNotFound"}


def test_another_users_device_is_not_found(home, token, make_account, store, connect):
    other = make_account()
    theirs = store.devices.create(other.user.id, "light", "Their light")
    online = connect(other, [theirs])
    assert home.devices(query(theirs.id), token)[theirs.id]["errorCode"] == "deviceNotFound"
    results = home.results(
        execute(([theirs.id], [{"command": "OnOff", "params": {"on": True}}])), token
    )
    assert results[theirs.id]["errorCode"] == "deviceNotFound"
    assert online.virtual[theirs.id].state.get("powerState") != "On"


def test_execute_sample_with_partial_failure(home, token, account, light, connect, store):
    connect(account, [light])
    plug = store.devices.create(account.user.id, "plug", "Offline plug")
    answer = home.call(from_sample("execute.request", **{"123": light.id, "456": plug.id}), token)
    theirs = sample("execute.response")["payload"]["commands"]
    results = {r["ids"][0]: r for r in answer["payload"]["commands"]}
    assert set(theirs[0]) <= set(results[light.id])
    assert results[light.id]["status"] == "SUCCESS"
    assert results[light.id]["states"]["on"] is True and results[light.id]["states"]["online"]
    assert results[plug.id] == {
        "ids": [plug.id],
        **{k: theirs[1][k] for k in theirs[1] if k != "ids"},
    }


@pytest.mark.parametrize(
    ("kind", "command", "params", "sent", "state"),
    [
        ("light", "BrightnessAbsolute", {"brightness": 40}, {"brightness": 40}, {"brightness": 40}),
        (
            "light",
            "ColorAbsolute",
            {"color": {"name": "magenta", "spectrumRGB": 0xFF00FF}},
            {"color": {"r": 255, "g": 0, "b": 255}},
            {"color": {"spectrumRgb": 0xFF00FF}},
        ),
        (
            "light",
            "ColorAbsolute",
            {"color": {"temperature": 2700}},
            {"colorTemperature": 2700},
            {"color": {"temperatureK": 2700}},
        ),
        (
            "thermostat",
            "ThermostatTemperatureSetpoint",
            {"thermostatTemperatureSetpoint": 22.5},
            {"targetTemperature": 22.5},
            {"thermostatTemperatureSetpoint": 22.5},
        ),
        (
            "thermostat",
            "ThermostatSetMode",
            {"thermostatMode": "heat"},
            {"thermostatMode": "HEAT"},
            {"thermostatMode": "heat"},
        ),
        (
            "blinds",
            "OpenClose",
            {"openPercent": 30},
            {"rangeValue:Blind.Lift": 30},
            {"openPercent": 30},
        ),
        (
            "fan",
            "SetFanSpeed",
            {"fanSpeed": "speed_4"},
            {"rangeValue:Fan.Speed": 4},
            {"currentFanSpeedSetting": "speed_4", "currentFanSpeedPercent": 80},
        ),
        (  # the fan takes a percentage of its own
            "fan",
            "SetFanSpeed",
            {"fanSpeedPercent": 40},
            {"percentage": 40},
            {"currentFanSpeedPercent": 40},
        ),
        (  # the air conditioner has named speeds only: the percent becomes one
            "air_conditioner",
            "SetFanSpeed",
            {"fanSpeedPercent": 50},
            {"rangeValue:Fan.Speed": 3},
            {"currentFanSpeedSetting": "speed_3"},
        ),
        (
            "garage_door",
            "OpenClose",
            {"openPercent": 0},
            {"mode": "Close"},
            {"openPercent": 0},
        ),
        (
            "gate",
            "OpenClose",
            {"openPercent": 40},
            {"rangeValue:Door.Position": 40},
            {"openPercent": 40},
        ),
        ("lock", "LockUnlock", {"lock": True}, {"lockState": "LOCKED"}, {"isLocked": True}),
        ("air_conditioner", "OnOff", {"on": False}, {"powerState": "Off"}, {"on": False}),
    ],
)
def test_each_trait_command(
    home, token, account, connect, store, devices, kind, command, params, sent, state
):
    device = devices[kind]
    connect(account, [device])
    execution = {"command": command, "params": params}
    if kind in ("garage_door", "gate"):  # opening is acknowledged (its own test below)
        execution["challenge"] = {"ack": True}
    results = home.results(execute(([device.id], [execution])), token)
    assert results[device.id]["status"] == "SUCCESS", results
    shadowed(store, device.id, sent)
    assert state.items() <= results[device.id]["states"].items()


def test_a_scene_activates_and_deactivates(home, token, account, connect, devices):
    scene = devices["scene"]
    online = connect(account, [scene])
    seen = []
    online.client.on("setPowerState", lambda device_id, value, instance: seen.append(value) or {})
    for deactivate in (False, True):
        body = execute(
            ([scene.id], [{"command": "ActivateScene", "params": {"deactivate": deactivate}}])
        )
        assert home.results(body, token)[scene.id]["status"] == "SUCCESS"
    assert seen == [{"state": "On"}, {"state": "Off"}]


def test_sensors_are_queried_in_their_traits(home, token, account, connect, store, devices):
    sensors = [devices[k] for k in ("temperature_sensor", "contact_sensor", "motion_sensor")]
    online = connect(account, sensors)
    online.client.send_event(
        sensors[0].id, "currentTemperature", {"temperature": 21.5, "humidity": 40}
    )
    online.client.send_event(sensors[1].id, "setContactState", {"state": "open"})
    online.client.send_event(sensors[2].id, "motion", {"state": "detected"})
    shadowed(store, sensors[2].id, {"motion": "detected"})
    shadowed(store, sensors[0].id, {"temperature": 21.5})
    found = home.devices(query(*(s.id for s in sensors)), token)
    assert found[sensors[0].id]["temperatureAmbientCelsius"] == 21.5
    assert found[sensors[0].id]["humidityAmbientPercent"] == 40
    assert found[sensors[1].id]["openPercent"] == 100
    assert found[sensors[2].id]["occupancy"] == "OCCUPIED"
    # Query-only: Google is told so, and a command is refused all the same.
    body = execute(([sensors[1].id], [{"command": "OpenClose", "params": {"openPercent": 0}}]))
    assert home.results(body, token)[sensors[1].id]["errorCode"] == "notSupported"


@pytest.mark.parametrize(
    ("command", "params", "code"),
    [
        ("BrightnessAbsolute", {"brightness": 140}, "valueOutOfRange"),
        ("ColorAbsolute", {"color": {"temperature": 9000}}, "valueOutOfRange"),
        ("ColorAbsolute", {"color": {"name": "mauve"}}, "notSupported"),
        ("BrightnessAbsolute", {"brightness": "bright"}, "protocolError"),
        ("LockUnlock", {"lock": True}, "notSupported"),
        ("Dock", {}, "notSupported"),
    ],
)
def test_commands_that_do_not_fit_are_refused(
    home, token, account, light, connect, command, params, code
):
    online = connect(account, [light])
    results = home.results(execute(([light.id], [{"command": command, "params": params}])), token)
    assert results[light.id]["status"] == "ERROR" and results[light.id]["errorCode"] == code
    assert online.virtual[light.id].state.get("brightness") != 140


def test_a_setpoint_for_a_device_that_is_off(home, token, account, connect, store, devices):
    ac = devices["air_conditioner"]
    connect(account, [ac])
    off = execute(([ac.id], [{"command": "OnOff", "params": {"on": False}}]))
    assert home.results(off, token)[ac.id]["status"] == "SUCCESS"
    shadowed(store, ac.id, {"powerState": "Off"})
    body = execute(
        (
            [ac.id],
            [
                {
                    "command": "ThermostatTemperatureSetpoint",
                    "params": {"thermostatTemperatureSetpoint": 20},
                }
            ],
        )
    )
    assert home.results(body, token)[ac.id]["errorCode"] == "deviceTurnedOff"
    # Asking for a mode turns it on first, as a person means "set it to cool".
    cool = execute(
        ([ac.id], [{"command": "ThermostatSetMode", "params": {"thermostatMode": "cool"}}])
    )
    result = home.results(cool, token)[ac.id]
    assert result["status"] == "SUCCESS" and result["states"]["thermostatMode"] == "cool"


def test_several_devices_and_commands_at_once(home, token, account, connect, store):
    lights = [store.devices.create(account.user.id, "light", f"Lamp {n}") for n in range(3)]
    connect(account, lights, delay=0.1)
    body = execute(
        (
            [d.id for d in lights],
            [
                {"command": "OnOff", "params": {"on": True}},
                {"command": "BrightnessAbsolute", "params": {"brightness": 55}},
            ],
        )
    )
    results = home.results(body, token)
    assert [results[d.id]["status"] for d in lights] == ["SUCCESS"] * 3
    assert all(results[d.id]["states"]["brightness"] == 55 for d in lights)

    def sent():
        rows = store.messages.query(device_id=lights[0].id, kind="request", limit=5)
        return len([r for r in rows if r["origin"] == "google"]) == 2

    eventually(sent)


def test_a_refusal_is_action_not_available(home, token, account, connect, store, light):
    online = connect(account, [light])

    def refuse(device_id, value, instance):
        raise Refused("overheated")

    online.client.on("setPowerState", refuse)
    body = execute(([light.id], [{"command": "OnOff", "params": {"on": True}}]))
    assert home.results(body, token)[light.id]["errorCode"] == "actionNotAvailable"


def test_unlock_asks_for_an_acknowledgement(home, token, account, connect, devices, store):
    lock = devices["lock"]
    online = connect(account, [lock])
    bare = execute(([lock.id], [{"command": "LockUnlock", "params": {"lock": False}}]))
    result = home.results(bare, token)[lock.id]
    expected = sample("execute.challenge.response")["payload"]["commands"][0]
    assert {k: v for k, v in result.items() if k != "ids"} == {
        k: v for k, v in expected.items() if k != "ids"
    }
    assert online.virtual[lock.id].state.get("lockState") != "UNLOCKED"
    acked = home.call(from_sample("execute.unlock.request", **{"123": lock.id}), token)
    assert acked["payload"]["commands"][0]["status"] == "SUCCESS"
    assert acked["payload"]["commands"][0]["states"]["isLocked"] is False
    shadowed(store, lock.id, {"lockState": "UNLOCKED"})


def test_opening_a_garage_door_asks_for_an_acknowledgement(home, token, account, connect, devices):
    door = devices["garage_door"]
    online = connect(account, [door])
    opening = {"command": "OpenClose", "params": {"openPercent": 100}}
    result = home.results(execute(([door.id], [opening])), token)[door.id]
    assert result["errorCode"] == "challengeNeeded"
    assert result["challengeNeeded"] == {"type": "ackNeeded"}
    assert online.virtual[door.id].state.get("mode") is None
    acked = home.results(execute(([door.id], [{**opening, "challenge": {"ack": True}}])), token)
    assert acked[door.id]["status"] == "SUCCESS" and acked[door.id]["states"]["openPercent"] == 100
    assert online.virtual[door.id].state["mode"] == "Open"


def test_safety_sensors_are_queried_as_sensor_states(home, token, account, connect, store, devices):
    alarms = [devices[k] for k in ("smoke_sensor", "co_sensor", "leak_sensor")]
    online = connect(account, alarms)
    online.client.send_event(alarms[0].id, "setSmokeState", {"state": "detected"})
    online.client.send_event(alarms[1].id, "setCarbonMonoxideState", {"state": "clear"})
    online.client.send_event(alarms[2].id, "setLeakState", {"state": "detected"})
    for alarm, name in zip(alarms, ("smokeState", "carbonMonoxideState", "leakState"), strict=True):
        shadowed(store, alarm.id, {name: "clear" if name == "carbonMonoxideState" else "detected"})
    found = home.devices(query(*(a.id for a in alarms)), token)
    assert [found[a.id]["currentSensorStateData"] for a in alarms] == [
        [{"name": "SmokeLevel", "currentSensorState": "smoke detected"}],
        [{"name": "CarbonMonoxideLevel", "currentSensorState": "no carbon monoxide detected"}],
        [{"name": "WaterLeak", "currentSensorState": "leak"}],
    ]


def test_bad_tokens_get_auth_failure_with_401(home, token):
    expected = sample("error.auth-failure")["payload"]
    for bad in (None, "", "not-a-token", token + "x"):
        answer = home.call(intent("SYNC"), bad, status=401)
        assert answer["payload"] == expected


def test_malformed_requests_answer_protocol_error(home, token):
    assert home.call(b"{oops", token, status=400)["payload"] == {"errorCode": "protocolError"}
    broken = {"requestId": "r1", "inputs": [{"intent": 5}]}
    answer = home.call(broken, token)
    assert answer == {"requestId": "r1", "payload": {"errorCode": "protocolError"}}
    two = {"requestId": "r2", "inputs": [{"intent": "action.devices.SYNC"}] * 2}
    assert home.call(two, token)["payload"] == {"errorCode": "protocolError"}
    unknown = home.call(intent("IDENTIFY"), token)
    assert unknown["payload"]["errorCode"] == "notSupported"
    too_many = query(*[f"d{n}" for n in range(301)])
    assert home.call(too_many, token)["payload"] == {"errorCode": "protocolError"}
    on = {"command": "OnOff", "params": {"on": True}}
    wide = execute(*[([f"d{n}" for n in range(100)], [on, on])] * 2)  # 400 commands
    assert home.call(wide, token)["payload"] == {"status": "ERROR", "errorCode": "protocolError"}


def test_disconnect_ends_the_grant_and_the_link(home, token, store, account, synced):
    assert store.links("google").get(account.user.id) == {"agentUserId": synced}
    assert home.call(from_sample("disconnect.request"), token) == {}
    assert store.links("google").get(account.user.id) is None
    home.call(intent("SYNC"), token, status=401)
    assert home.call(from_sample("disconnect.request"), token) == {}  # again: still fine


def test_states_schema_refuses_what_google_would():
    assert state_errors({"on": True, "online": True, "brightness": 30}) == []
    assert state_errors({"on": "yes"}) != []
    assert state_errors({"brightness": 101}) != []
    assert state_errors({"powerState": "On"}) != []
    assert state_errors({"color": {"spectrumRgb": 1, "temperatureK": 2700}}) != []


def test_a_doors_openness_is_what_it_said_last():
    from adapters.google import traits

    def door(mode: str, mode_at: float, position: float, position_at: float) -> dict:
        shadow = {
            "mode": {"value": mode, "sampled_at": mode_at},
            "rangeValue:Door.Position": {"value": position, "sampled_at": position_at},
        }
        return traits.states("garage_door", shadow)

    assert door("Open", 2, 30, 1) == {"openPercent": 100}  # it opened after it stood at 30
    assert door("Close", 1, 30, 2) == {"openPercent": 30}
    assert door("Stop", 2, 30, 1) == {"openPercent": 30}  # stopped: the position says where
    assert traits.states("garage_door", {"mode": {"value": "Close", "sampled_at": 1}}) == {
        "openPercent": 0
    }
