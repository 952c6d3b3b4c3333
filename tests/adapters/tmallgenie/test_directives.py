"""Tmall Genie v1 and v2 directives: the composed samples, controls, queries, errors."""

import time

import pytest
from genie_helpers import CONTROL, DISCOVERY, QUERY, error_code, from_sample, sample, v1, v2
from servers import shadowed

from bridge.client import Refused


def test_discovery_sample_v1(genie, token, ids, pair):
    answer = genie.send(from_sample("discovery.request", token, ids))
    theirs = sample("discovery.response")
    assert answer["header"]["name"] == theirs["header"]["name"]
    devices = {d["deviceId"]: d for d in answer["payload"]["devices"]}
    light = devices[pair[0].id]
    assert set(theirs["payload"]["devices"][0]) - {"extensions"} <= set(light)
    assert (light["deviceType"], light["zone"], light["deviceName"]) == ("light", "客厅", "吸顶灯")
    assert {"TurnOn", "TurnOff", "SetBrightness", "Query", "QueryPowerState"} <= set(
        light["actions"]
    )
    assert devices[pair[1].id]["deviceType"] == "outlet"
    assert all(isinstance(p["value"], str) for d in devices.values() for p in d["properties"])


def test_discovery_v2_has_status(genie, token, pair, account, connect, store):
    online = connect(account, [pair[0]])
    online.client.send_event(pair[0].id, "setBrightness", {"brightness": 30})
    shadowed(store, pair[0].id, {"brightness": 30})
    body = v2("DiscoveryDevices", token, [], namespace=DISCOVERY)
    answer = genie.send(body)
    light = next(d for d in answer["payload"]["devices"] if d["deviceId"] == pair[0].id)
    assert light["status"] == {"brightness": 30}
    assert "actions" not in light


def test_turn_on_sample(genie, token, ids, pair, account, connect):
    online = connect(account, [pair[0]])
    answer = genie.send(from_sample("turnon.request", token, ids))
    expected = from_sample("turnon.response", None, ids)
    assert answer["header"]["name"] == expected["header"]["name"] == "TurnOnResponse"
    assert answer["payload"] == {"deviceId": pair[0].id}
    assert online.virtual[pair[0].id].state["powerState"] == "On"


def test_query_sample(genie, token, ids, pair, account, connect):
    connect(account, [pair[0]])
    genie.send(from_sample("turnon.request", token, ids))
    answer = genie.send(from_sample("query.request", token, ids))
    theirs = sample("query.response")
    assert answer["header"]["name"] == theirs["header"]["name"]
    assert answer["properties"] == [{"name": "powerstate", "value": "on"}]
    assert answer["payload"] == {"deviceId": pair[0].id}


def test_offline_sample(genie, token, ids, pair):
    started = time.monotonic()
    answer = genie.send(from_sample("turnon.request", token, ids))
    expected = from_sample("error.offline", None, ids)
    assert answer["header"]["name"] == "ErrorResponse"
    assert answer["payload"] == expected["payload"]
    assert time.monotonic() - started < 1.0


def test_v2_control_sample_partial_success(genie, token, ids, pair, account, connect):
    online = connect(account, [pair[0]])  # the outlet stays offline
    answer = genie.send(from_sample("v2.control.request", token, ids))
    expected = from_sample("v2.control.response", None, ids)
    assert answer["header"]["name"] == "CorrectResponse"
    assert answer["payload"] == expected["payload"]
    assert online.virtual[pair[0].id].state["powerState"] == "On"


V1_CONTROLS = [
    ("SetBrightness", "55", "brightness", 55),
    ("SetColor", "Blue", "color", {"r": 0, "g": 0, "b": 255}),
    ("SetColorTemperature", "3000", "colorTemperature", 3000),
    ("TurnOff", "off", "powerState", "Off"),
]


@pytest.mark.parametrize("name, value, prop, expected", V1_CONTROLS)
def test_v1_controls(genie, token, pair, account, connect, name, value, prop, expected):
    online = connect(account, [pair[0]])
    answer = genie.send(v1(CONTROL, name, token, pair[0].id, value))
    assert answer["header"]["name"] == f"{name}Response"
    assert online.virtual[pair[0].id].state[prop] == expected


def test_v1_adjust_and_climate(genie, token, store, account, connect):
    ac = store.devices.create(account.user.id, "air_conditioner", "空调")
    fan = store.devices.create(account.user.id, "fan", "风扇")
    online = connect(account, [ac, fan])
    genie.send(v1(CONTROL, "SetTemperature", token, ac.id, "24"))
    genie.send(v1(CONTROL, "AdjustDownTemperature", token, ac.id, "2"))
    genie.send(v1(CONTROL, "SetMode", token, ac.id, "cold"))
    assert online.virtual[ac.id].state["targetTemperature"] == 22
    assert online.virtual[ac.id].state["thermostatMode"] == "COOL"
    genie.send(v1(CONTROL, "SetWindSpeed", token, fan.id, "2"))
    genie.send(v1(CONTROL, "AdjustUpWindSpeed", token, fan.id, ""))
    assert online.virtual[fan.id].state["rangeValue"] == 3
    answer = genie.send(v1(QUERY, "QueryTemperature", token, ac.id))
    assert answer["properties"] == [{"name": "temperature", "value": "22"}]


def test_curtains_open_close_pause(genie, token, store, account, connect):
    curtain = store.devices.create(account.user.id, "blinds", "窗帘")
    online = connect(account, [curtain])
    genie.send(v1(CONTROL, "Open", token, curtain.id))
    assert online.virtual[curtain.id].state["rangeValue"] == 100
    genie.send(v1(CONTROL, "Close", token, curtain.id))
    assert online.virtual[curtain.id].state["rangeValue"] == 0
    assert genie.send(v1(CONTROL, "Pause", token, curtain.id))["header"]["name"] == "PauseResponse"
    genie.send(v2("thing.attribute.set", token, [curtain.id], {"motorControl": 1}))
    assert online.virtual[curtain.id].state["rangeValue"] == 100


def test_v2_set_adjust_get(genie, token, pair, account, connect):
    online = connect(account, [pair[0]])
    light = pair[0].id
    answer = genie.send(
        v2(
            "thing.attribute.set",
            token,
            [light],
            {"powerstate": 1, "brightness": 60, "color": 16711680},
        )
    )
    assert answer["payload"]["deviceResponseList"][0]["errorCode"] == "SUCCESS"
    state = online.virtual[light].state
    assert (state["powerState"], state["brightness"], state["color"]) == (
        "On",
        60,
        {"r": 255, "g": 0, "b": 0},
    )
    genie.send(v2("thing.attribute.adjust", token, [light], {"brightness": -20}))
    assert online.virtual[light].state["brightness"] == 40
    answer = genie.send(v2("thing.attribute.get", token, [light], namespace=QUERY))
    [entry] = answer["payload"]["deviceResponseList"]
    assert entry["status"] == {"powerstate": 1, "brightness": 40, "color": 16711680}


def test_errors(genie, token, pair, account, connect, store, make_account):
    connect(account, [pair[0]])
    light = pair[0].id
    stranger = make_account()
    theirs = store.devices.create(stranger.user.id, "light", "别人的灯")
    assert error_code(genie.send(v1(CONTROL, "TurnOn", token, "0" * 24))) == "DEVICE_IS_NOT_EXIST"
    assert error_code(genie.send(v1(CONTROL, "TurnOn", token, theirs.id))) == "DEVICE_IS_NOT_EXIST"
    assert (
        error_code(genie.send(v1(CONTROL, "SetWindSpeed", token, light, "2")))
        == "DEVICE_NOT_SUPPORT_FUNCTION"
    )
    assert (
        error_code(genie.send(v1(CONTROL, "SetBrightness", token, light, "300")))
        == "INVALIDATE_PARAMS"
    )
    assert (
        error_code(genie.send(v1(CONTROL, "SetColor", token, light, "Plaid")))
        == "INVALIDATE_PARAMS"
    )
    assert (
        error_code(genie.send(v1(CONTROL, "TurnOn", "bad-token", light)))
        == "ACCESS_TOKEN_INVALIDATE"
    )
    wrong_version = v1(CONTROL, "TurnOn", token, light)
    wrong_version["header"]["payLoadVersion"] = "1"
    assert error_code(genie.send(wrong_version)) == "INVALIDATE_PARAMS"
    malformed = genie.send(b"{oops")
    assert malformed["header"]["name"] == "ErrorResponse"
    assert malformed["payload"]["errorCode"] == "INVALIDATE_PARAMS"
    answer = genie.send(v2("thing.attribute.set", token, [light, "0" * 24], {"powerstate": 1}))
    assert [e["errorCode"] for e in answer["payload"]["deviceResponseList"]] == [
        "SUCCESS",
        "DEVICE_IS_NOT_EXIST",
    ]


def test_refusal(genie, token, pair, account, connect):
    online = connect(account, [pair[0]])

    def refuse(device_id, value, instance):
        raise Refused("overheated")

    online.client.on("setPowerState", refuse)
    answer = genie.send(v1(CONTROL, "TurnOn", token, pair[0].id))
    assert error_code(answer) == "INVALIDATE_CONTROL_ORDER"
    assert answer["payload"]["message"] == "overheated"
