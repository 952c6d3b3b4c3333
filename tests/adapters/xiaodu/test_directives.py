"""DuerOS directives: the composed samples and every control, query and error."""

import time

import pytest
from conftest import ALEXA_DEADLINE as DEADLINE
from servers import shadowed
from xiaodu_helpers import (
    CONTROL,
    QUERY,
    attributes,
    from_sample,
    request,
    same_shape,
    sample,
)

from bridge.client import Refused

OPEN_UID = "9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c"


@pytest.fixture
def home(store, account):
    make, uid = store.devices.create, account.user.id
    return {
        "light": make(uid, "light", "Kitchen light", "Kitchen"),
        "ac": make(uid, "air_conditioner", "Bedroom AC", "Bedroom"),
        "fan": make(uid, "fan", "Ceiling fan", "Kitchen"),
        "blinds": make(uid, "blinds", "Curtains"),
        "lock": make(uid, "lock", "Front door"),
        "sensor": make(uid, "temperature_sensor", "Hall sensor"),
    }


def test_discover_sample(duer, token, home, store, account):
    answer = duer.send(from_sample("discover.request", token))
    same_shape(answer, sample("discover.response"))
    found = {a["applianceId"]: a for a in answer["payload"]["discoveredAppliances"]}
    assert home["sensor"].id not in found  # DuerOS has no type for a pure sensor
    light = found[home["light"].id]
    assert light["applianceTypes"] == ["LIGHT"] and light["friendlyName"] == "Kitchen light"
    assert {
        "turnOn",
        "turnOff",
        "setBrightnessPercentage",
        "setColor",
        "setColorTemperature",
        "getTurnOnState",
    } <= set(light["actions"])
    assert "setTemperature" not in light["actions"]
    assert {a["name"] for a in light["attributes"]} >= {"name", "connectivity"}
    assert found[home["ac"].id]["applianceTypes"] == ["AIR_CONDITION"]
    assert found[home["blinds"].id]["applianceTypes"] == ["CURTAIN"]
    assert light["isReachable"] is False
    groups = {g["groupName"]: set(g["applianceIds"]) for g in answer["payload"]["discoveredGroups"]}
    assert groups["Kitchen"] == {home["light"].id, home["fan"].id}
    link = store.links("xiaodu").get(account.user.id)
    assert link == {"openUid": OPEN_UID}


def test_discovery_never_answers_with_an_error(duer):
    answer = duer.send(from_sample("discover.request", "not-a-token"))
    assert answer["header"]["name"] == "DiscoverAppliancesResponse"
    assert answer["payload"]["discoveredAppliances"] == []


def test_turn_on_and_brightness_samples(duer, token, home, account, connect):
    online = connect(account, [home["light"]])
    answer = duer.send(from_sample("turnon.request", token, home["light"].id))
    same_shape(answer, sample("turnon.response"))
    assert attributes(answer)["turnOnState"] == "ON"
    assert attributes(answer)["connectivity"] == "REACHABLE"
    answer = duer.send(from_sample("setbrightness.request", token, home["light"].id))
    assert answer["header"]["name"] == "SetBrightnessPercentageConfirmation"
    assert attributes(answer)["brightness"] == 75
    assert online.virtual[home["light"].id].state["brightness"] == 75


def test_report_state_sample(duer, token, home, account, connect, store):
    online = connect(account, [home["light"]])
    online.client.send_event(home["light"].id, "setBrightness", {"brightness": 40})
    shadowed(store, home["light"].id, {"brightness": 40})
    answer = duer.send(from_sample("reportstate.request", token, home["light"].id))
    same_shape(answer, sample("reportstate.response"))
    assert attributes(answer)["brightness"] == 40
    assert len(answer["payload"]["attributes"]) <= 10


def test_a_sockets_power_is_its_power_level_attribute(duer, token, store, account, connect):
    plug = store.devices.create(account.user.id, "plug", "Heater socket")
    smoke = store.devices.create(account.user.id, "smoke_sensor", "Hall alarm")
    online = connect(account, [plug])
    online.client.send_event(plug.id, "powerUsage", {"power": 1250.5, "wattHours": 20.0})
    shadowed(store, plug.id, {"power": 1250.5})
    answer = duer.send(from_sample("reportstate.request", token, plug.id))
    same_shape(answer, sample("reportstate.response"))
    [level] = [a for a in answer["payload"]["attributes"] if a["name"] == "powerLevel"]
    assert (level["value"], level["scale"]) == (1250.5, "W")
    found = duer.send(from_sample("discover.request", token))["payload"]["discoveredAppliances"]
    listed = {a["applianceId"] for a in found}
    assert plug.id in listed and smoke.id not in listed  # DuerOS has no type for an alarm


def test_offline_sample(duer, token, home):
    started = time.monotonic()
    answer = duer.send(from_sample("turnon.request", token, home["light"].id))
    assert answer == {
        **sample("error.target-offline"),
        "header": {
            **sample("error.target-offline")["header"],
            "messageId": answer["header"]["messageId"],
        },
    }
    assert time.monotonic() - started < 1.0


def test_timeout_sample(duer, token, home, account, connect):
    connect(account, [home["light"]], delay=3)
    started = time.monotonic()
    answer = duer.send(from_sample("turnon.request", token, home["light"].id))
    elapsed = time.monotonic() - started
    theirs = sample("error.unable-to-set-value.timeout")
    assert answer["header"]["name"] == theirs["header"]["name"]
    assert answer["payload"]["errorInfo"]["code"] == "DEVICE_RESPONSE_TIMEOUT"
    assert DEADLINE <= elapsed < DEADLINE + 0.5


CONTROLS = [
    ("light", "TurnOffRequest", {}, "turnOnState", "OFF"),
    (
        "light",
        "SetColorRequest",
        {"color": {"hue": 120.0, "saturation": 1.0, "brightness": 1.0}},
        "color",
        {"hue": 120.0, "saturation": 1.0, "brightness": 1.0},
    ),
    (
        "light",
        "SetColorTemperatureRequest",
        {"colorTemperatureInKelvin": 3000},
        "colorTemperatureInKelvin",
        3000,
    ),
    (
        "ac",
        "SetTemperatureRequest",
        {"targetTemperature": {"value": 24, "scale": "CELSIUS"}},
        "targetTemperature",
        24,
    ),
    ("ac", "SetModeRequest", {"mode": {"value": "COOL"}}, "mode", "COOL"),
    ("fan", "SetFanSpeedRequest", {"fanSpeed": {"level": "high"}}, "fanSpeed", 4),
    ("fan", "SetFanSpeedRequest", {"fanSpeed": {"value": 2}}, "fanSpeed", 2),
    ("blinds", "TurnOnRequest", {}, "percentage", 100),
    ("lock", "SetLockStateRequest", {"lockState": {"value": "LOCKED"}}, "lockState", "LOCKED"),
    # Baidu's reference sends the lock state as a plain string
    ("lock", "SetLockStateRequest", {"lockState": "UNLOCKED"}, "lockState", "UNLOCKED"),
]


@pytest.mark.parametrize("key, name, extra, attribute, expected", CONTROLS)
def test_controls_confirm_the_new_state(
    duer, token, home, account, connect, key, name, extra, attribute, expected
):
    connect(account, [home[key]])
    answer = duer.send(request(CONTROL, name, token, home[key].id, **extra))
    assert answer["header"]["name"] == name.replace("Request", "Confirmation")
    assert attributes(answer)[attribute] == expected


def test_increments(duer, token, home, account, connect):
    connect(account, [home["light"], home["ac"], home["fan"]])
    light, ac, fan = home["light"].id, home["ac"].id, home["fan"].id
    duer.send(
        request(CONTROL, "SetBrightnessPercentageRequest", token, light, brightness={"value": 50})
    )
    answer = duer.send(
        request(
            CONTROL,
            "IncrementBrightnessPercentageRequest",
            token,
            light,
            deltaPercentage={"value": 20},
        )
    )
    assert attributes(answer)["brightness"] == 70
    duer.send(request(CONTROL, "SetTemperatureRequest", token, ac, targetTemperature={"value": 22}))
    answer = duer.send(request(CONTROL, "DecrementTemperatureRequest", token, ac))
    assert attributes(answer)["targetTemperature"] == 21
    duer.send(request(CONTROL, "SetFanSpeedRequest", token, fan, fanSpeed={"value": 2}))
    answer = duer.send(request(CONTROL, "IncrementFanSpeedRequest", token, fan))
    assert attributes(answer)["fanSpeed"] == 3


def test_queries_answer_from_the_shadow(duer, token, home, account, connect, store):
    online = connect(account, [home["light"], home["ac"]])
    duer.send(request(CONTROL, "TurnOnRequest", token, home["light"].id))
    answer = duer.send(request(QUERY, "GetTurnOnStateRequest", token, home["light"].id))
    assert answer["header"] == {
        **answer["header"],
        "namespace": QUERY,
        "name": "GetTurnOnStateResponse",
    }
    assert attributes(answer) == {"turnOnState": "ON"}
    duer.send(
        request(
            CONTROL, "SetTemperatureRequest", token, home["ac"].id, targetTemperature={"value": 25}
        )
    )
    answer = duer.send(request(QUERY, "GetTargetTemperatureRequest", token, home["ac"].id))
    assert answer["payload"]["targetTemperature"] == {"value": 25, "scale": "CELSIUS"}
    online.client.send_event(
        home["ac"].id,
        "currentTemperature",
        {"temperature": 27.5, "humidity": 40},
        cause="PERIODIC_POLL",
    )
    shadowed(store, home["ac"].id, {"temperature": 27.5, "humidity": 40})
    answer = duer.send(request(QUERY, "GetTemperatureReadingRequest", token, home["ac"].id))
    assert answer["payload"]["temperatureReading"] == {"value": 27.5, "scale": "CELSIUS"}
    answer = duer.send(request(QUERY, "GetHumidityRequest", token, home["ac"].id))
    assert attributes(answer) == {"humidity": 40}


def test_errors(duer, token, home, account, connect, store, make_account):
    connect(account, [home["light"], home["ac"]])
    light = home["light"].id

    def error(body):
        answer = duer.send(body)
        assert answer["header"]["namespace"] == CONTROL
        return answer["header"]["name"], answer["payload"]

    stranger = make_account()
    theirs = store.devices.create(stranger.user.id, "light", "Theirs")
    assert error(request(CONTROL, "TurnOnRequest", token, "0" * 24))[0] == "UnsupportedTargetError"
    assert error(request(CONTROL, "TurnOnRequest", token, theirs.id))[0] == "UnsupportedTargetError"
    assert (
        error(request(CONTROL, "SetLockStateRequest", token, light, lockState={"value": "LOCKED"}))[
            0
        ]
        == "UnsupportedOperationError"
    )
    name, payload = error(
        request(
            CONTROL, "SetTemperatureRequest", token, home["ac"].id, targetTemperature={"value": 40}
        )
    )
    assert name == "ValueOutOfRangeError"
    assert payload == {"minimumValue": 16.0, "maximumValue": 30.0}
    assert (
        error(request(CONTROL, "TurnOnRequest", "nonsense", light))[0] == "InvalidAccessTokenError"
    )
    expired = store.tokens.issue(account.user.id, "xiaodu", ttl=-1)
    assert error(request(CONTROL, "TurnOnRequest", expired, light))[0] == "ExpiredAccessTokenError"
    assert error(b"{not json")[0] == "UnexpectedInformationReceivedError"
    assert error(b'{"header": {}}')[0] == "UnexpectedInformationReceivedError"
    name, payload = error(request(CONTROL, "SetBrightnessPercentageRequest", token, light))
    assert name == "UnexpectedInformationReceivedError"
    assert payload["faultingParameter"] == "brightness.value"


def test_refusal(duer, token, home, account, connect):
    online = connect(account, [home["lock"]])

    def jammed(device_id, value, instance):
        raise Refused("bolt jammed")

    online.client.on("setLockState", jammed)
    answer = duer.send(
        request(
            CONTROL, "SetLockStateRequest", token, home["lock"].id, lockState={"value": "LOCKED"}
        )
    )
    assert answer["header"]["name"] == "UnableToSetValueError"
    assert answer["payload"]["errorInfo"]["description"] == "bolt jammed"


def test_authorization_header_is_accepted_as_fallback(duer, token, home):
    body = request(CONTROL, "TurnOnRequest", None, home["light"].id)
    import requests as http

    reply = http.post(
        duer.url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    assert reply["header"]["name"] == "TargetOfflineError"  # authenticated, device offline


def test_curtains_move_pause_and_continue(duer, token, home, account, connect, store):
    online = connect(account, [home["blinds"]])
    blinds = home["blinds"].id
    answer = duer.send(
        request(CONTROL, "SetPercentageRequest", token, blinds, percentage={"value": 40})
    )
    assert attributes(answer)["percentage"] == 40
    received = []
    online.client.on("setMode", lambda d, value, i: received.append(value) or value)
    duer.send(request(CONTROL, "TurnOffRequest", token, blinds))
    online.client.send_event(blinds, "setMode", {"mode": "Close"}, instance_id="Blind.Movement")
    shadowed(store, blinds, {"mode:Blind.Movement": "Close"})
    assert (
        duer.send(request(CONTROL, "PauseRequest", token, blinds))["header"]["name"]
        == "PauseConfirmation"
    )
    duer.send(request(CONTROL, "ContinueRequest", token, blinds))
    assert received == [{"mode": "Stop"}, {"mode": "Close"}]


def test_an_increment_on_a_light_that_is_off_counts_from_zero_and_turns_it_on(
    duer, token, home, account, connect
):
    """As on Alexa (Amazon's BrightnessController test plan): the rule is the core's."""
    connect(account, [home["light"]])

    def control(name: str, **extra) -> dict:
        return attributes(duer.send(request(CONTROL, name, token, home["light"].id, **extra)))

    control("SetBrightnessPercentageRequest", brightness={"value": 80})
    control("TurnOffRequest")
    by = {"deltaPercentage": {"value": 20}}
    assert control("DecrementBrightnessPercentageRequest", **by)["turnOnState"] == "OFF"
    up = control("IncrementBrightnessPercentageRequest", **by)
    assert up["brightness"] == 20 and up["turnOnState"] == "ON"
