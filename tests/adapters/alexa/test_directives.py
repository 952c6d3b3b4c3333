"""Alexa directives, answered as Smart Home Skill API v3 says, every reply schema-valid."""

import time

import pytest
from alexa_helpers import directive, error_type, prop
from conftest import ALEXA_DEADLINE
from servers import shadowed

from bridge.client import Refused


@pytest.fixture
def home(store, account):
    make = store.devices.create
    uid = account.user.id
    return {
        "light": make(uid, "light", "Kitchen light", "Kitchen"),
        "thermostat": make(uid, "thermostat", "Hall thermostat", "Hall"),
        "fan": make(uid, "fan", "Ceiling fan"),
        "blinds": make(uid, "blinds", "Bedroom blinds", "Bedroom"),
        "lock": make(uid, "lock", "Front door"),
        "contact": make(uid, "contact_sensor", "Back door sensor"),
        "doorbell": make(uid, "doorbell", "Doorbell"),
        "garage": make(uid, "garage_door", "Garage door"),
        "smoke": make(uid, "smoke_sensor", "Hall smoke alarm"),
    }


def test_discover_lists_every_device_with_its_interfaces(alexa, token, home):
    event = alexa.send(directive("Alexa.Discovery", "Discover", token))
    assert event["event"]["header"]["name"] == "Discover.Response"
    endpoints = {e["endpointId"]: e for e in event["event"]["payload"]["endpoints"]}
    # Alexa has no smoke alarm interface: the coverage page says so, and it is not listed
    assert set(endpoints) == {d.id for k, d in home.items() if k != "smoke"}

    def interfaces(key):
        return {
            (c["interface"], c.get("instance")) for c in endpoints[home[key].id]["capabilities"]
        }

    base = {("Alexa", None), ("Alexa.EndpointHealth", None)}
    assert interfaces("light") == base | {
        ("Alexa.PowerController", None),
        ("Alexa.BrightnessController", None),
        ("Alexa.ColorController", None),
        ("Alexa.ColorTemperatureController", None),
    }
    assert interfaces("thermostat") == base | {
        ("Alexa.PowerController", None),
        ("Alexa.ThermostatController", None),
        ("Alexa.TemperatureSensor", None),
    }
    assert interfaces("fan") == base | {
        ("Alexa.PowerController", None),
        ("Alexa.RangeController", "Fan.Speed"),
        ("Alexa.PercentageController", None),
    }
    assert interfaces("garage") == base | {("Alexa.ModeController", "GarageDoor.Position")}
    garage = endpoints[home["garage"].id]
    assert garage["displayCategories"] == ["GARAGE_DOOR"]
    door = next(c for c in garage["capabilities"] if c["interface"] == "Alexa.ModeController")
    mappings = {
        a: m["directive"]["payload"]["mode"]
        for m in door["semantics"]["actionMappings"]
        for a in m["actions"]
    }
    assert mappings == {
        "Alexa.Actions.Open": "Position.Up",
        "Alexa.Actions.Raise": "Position.Up",
        "Alexa.Actions.Close": "Position.Down",
        "Alexa.Actions.Lower": "Position.Down",
    }
    assert interfaces("blinds") == base | {
        ("Alexa.RangeController", "Blind.Lift"),
        ("Alexa.ModeController", "Blind.Movement"),
    }
    assert interfaces("doorbell") == base | {("Alexa.DoorbellEventSource", None)}
    light = endpoints[home["light"].id]
    assert light["displayCategories"] == ["LIGHT"] and light["friendlyName"] == "Kitchen light"
    assert "Kitchen" in light["description"]
    for cap in light["capabilities"]:
        if "properties" in cap:
            assert cap["properties"]["proactivelyReported"] and cap["properties"]["retrievable"]
    fan_speed = next(
        c for c in endpoints[home["fan"].id]["capabilities"] if c.get("instance") == "Fan.Speed"
    )
    assert fan_speed["configuration"]["supportedRange"] == {
        "minimumValue": 1,
        "maximumValue": 5,
        "precision": 1,
    }
    lift = next(
        c for c in endpoints[home["blinds"].id]["capabilities"] if c.get("instance") == "Blind.Lift"
    )
    assert {m["actions"][0] for m in lift["semantics"]["actionMappings"]} == {
        "Alexa.Actions.Open",
        "Alexa.Actions.Close",
    }


CONTROLS = [
    ("light", "Alexa.PowerController", "TurnOn", {}, None, "powerState", "ON"),
    ("light", "Alexa.PowerController", "TurnOff", {}, None, "powerState", "OFF"),
    (
        "light",
        "Alexa.BrightnessController",
        "SetBrightness",
        {"brightness": 42},
        None,
        "brightness",
        42,
    ),
    (
        "light",
        "Alexa.ColorController",
        "SetColor",
        {"color": {"hue": 0, "saturation": 1, "brightness": 1}},
        None,
        "color",
        {"hue": 0.0, "saturation": 1.0, "brightness": 1.0},
    ),
    (
        "light",
        "Alexa.ColorTemperatureController",
        "SetColorTemperature",
        {"colorTemperatureInKelvin": 4000},
        None,
        "colorTemperatureInKelvin",
        4000,
    ),
    (
        "thermostat",
        "Alexa.ThermostatController",
        "SetTargetTemperature",
        {"targetSetpoint": {"value": 71.6, "scale": "FAHRENHEIT"}},
        None,
        "targetSetpoint",
        {"value": 22.0, "scale": "CELSIUS"},
    ),
    (
        "thermostat",
        "Alexa.ThermostatController",
        "SetThermostatMode",
        {"thermostatMode": {"value": "ECO"}},
        None,
        "thermostatMode",
        "ECO",
    ),
    ("lock", "Alexa.LockController", "Lock", {}, None, "lockState", "LOCKED"),
    (
        "fan",
        "Alexa.RangeController",
        "SetRangeValue",
        {"rangeValue": 3},
        "Fan.Speed",
        "rangeValue",
        3,
    ),
    (
        "blinds",
        "Alexa.ModeController",
        "SetMode",
        {"mode": "Blind.Movement.Close"},
        "Blind.Movement",
        "mode",
        "Blind.Movement.Close",
    ),
    (
        "fan",
        "Alexa.PercentageController",
        "SetPercentage",
        {"percentage": 40},
        None,
        "percentage",
        40,
    ),
    (
        "garage",
        "Alexa.ModeController",
        "SetMode",
        {"mode": "Position.Up"},
        "GarageDoor.Position",
        "mode",
        "Position.Up",
    ),
]


@pytest.mark.parametrize("key, namespace, name, payload, instance, prop_name, expected", CONTROLS)
def test_controls_answer_with_the_confirmed_state(
    alexa,
    token,
    home,
    account,
    connect,
    key,
    namespace,
    name,
    payload,
    instance,
    prop_name,
    expected,
):
    connect(account, [home[key]])
    event = alexa.send(directive(namespace, name, token, home[key].id, payload, instance))
    assert event["event"]["header"]["name"] == "Response"
    assert event["event"]["endpoint"]["endpointId"] == home[key].id
    assert prop(event, namespace, prop_name, instance) == expected
    assert prop(event, "Alexa.EndpointHealth", "connectivity") == {"value": "OK"}
    for p in event["context"]["properties"]:
        assert p["timeOfSample"].endswith("Z")


def test_adjustments_report_where_the_device_ended_up(alexa, token, home, account, connect):
    connect(account, [home["light"], home["thermostat"]])
    light = home["light"].id
    alexa.send(
        directive("Alexa.BrightnessController", "SetBrightness", token, light, {"brightness": 90})
    )
    event = alexa.send(
        directive(
            "Alexa.BrightnessController", "AdjustBrightness", token, light, {"brightnessDelta": 25}
        )
    )
    assert prop(event, "Alexa.BrightnessController", "brightness") == 100
    stat = home["thermostat"].id
    alexa.send(
        directive(
            "Alexa.ThermostatController",
            "SetTargetTemperature",
            token,
            stat,
            {"targetSetpoint": {"value": 20, "scale": "CELSIUS"}},
        )
    )
    event = alexa.send(
        directive(
            "Alexa.ThermostatController",
            "AdjustTargetTemperature",
            token,
            stat,
            {"targetSetpointDelta": {"value": -2, "scale": "CELSIUS"}},
        )
    )
    assert prop(event, "Alexa.ThermostatController", "targetSetpoint") == {
        "value": 18,
        "scale": "CELSIUS",
    }


def test_report_state_is_the_shadow(alexa, token, home, account, connect, store):
    online = connect(account, [home["light"]])
    online.client.send_event(home["light"].id, "setBrightness", {"brightness": 33})
    shadowed(store, home["light"].id, {"brightness": 33})
    event = alexa.send(directive("Alexa", "ReportState", token, home["light"].id))
    assert event["event"]["header"]["name"] == "StateReport"
    assert prop(event, "Alexa.BrightnessController", "brightness") == 33


def test_offline_device_is_unreachable_at_once(alexa, token, home):
    started = time.monotonic()
    for body in (
        directive("Alexa.PowerController", "TurnOn", token, home["light"].id),
        directive("Alexa", "ReportState", token, home["light"].id),
    ):
        assert error_type(alexa.send(body)) == "ENDPOINT_UNREACHABLE"
    assert time.monotonic() - started < 1.0


def test_silent_device_is_unreachable_before_alexa_gives_up(alexa, token, home, account, connect):
    connect(account, [home["light"]], delay=3)
    started = time.monotonic()
    event = alexa.send(directive("Alexa.PowerController", "TurnOn", token, home["light"].id))
    elapsed = time.monotonic() - started
    assert error_type(event) == "ENDPOINT_UNREACHABLE"
    assert ALEXA_DEADLINE <= elapsed < ALEXA_DEADLINE + 0.5


def test_refusal_carries_the_device_message(alexa, token, home, account, connect):
    online = connect(account, [home["lock"]])

    def jammed(device_id, value, instance):
        raise Refused("the bolt is jammed")

    online.client.on("setLockState", jammed)
    event = alexa.send(directive("Alexa.LockController", "Lock", token, home["lock"].id))
    assert error_type(event) == "HARDWARE_MALFUNCTION"
    assert event["event"]["payload"]["message"] == "the bolt is jammed"


def test_unknown_and_foreign_endpoints(alexa, token, store, make_account):
    stranger = make_account()
    theirs = store.devices.create(stranger.user.id, "light", "Not yours")
    for endpoint in ("0" * 24, theirs.id):
        event = alexa.send(directive("Alexa.PowerController", "TurnOn", token, endpoint))
        assert error_type(event) == "NO_SUCH_ENDPOINT"


@pytest.mark.parametrize(
    "token_value, expected",
    [
        (None, "INVALID_AUTHORIZATION_CREDENTIAL"),
        ("nonsense", "INVALID_AUTHORIZATION_CREDENTIAL"),
        ("expired", "EXPIRED_AUTHORIZATION_CREDENTIAL"),
    ],
)
def test_bad_tokens(alexa, store, account, home, token_value, expected):
    if token_value == "expired":
        token_value = store.tokens.issue(account.user.id, "alexa", ttl=-1)
    event = alexa.send(directive("Alexa.PowerController", "TurnOn", token_value, home["light"].id))
    assert error_type(event) == expected
    discover = alexa.send(directive("Alexa.Discovery", "Discover", token_value))
    assert error_type(discover) == expected


def test_bad_values(alexa, token, home, account, connect):
    connect(account, [home["light"], home["thermostat"]])
    light, stat = home["light"].id, home["thermostat"].id
    event = alexa.send(
        directive("Alexa.BrightnessController", "SetBrightness", token, light, {"brightness": 150})
    )
    assert error_type(event) == "VALUE_OUT_OF_RANGE"
    assert event["event"]["payload"]["validRange"] == {"minimumValue": 0, "maximumValue": 100}
    event = alexa.send(
        directive(
            "Alexa.BrightnessController", "SetBrightness", token, light, {"brightness": "bright"}
        )
    )
    assert error_type(event) == "INVALID_VALUE"
    event = alexa.send(
        directive(
            "Alexa.ThermostatController",
            "SetTargetTemperature",
            token,
            stat,
            {"targetSetpoint": {"value": 60, "scale": "CELSIUS"}},
        )
    )
    assert error_type(event) == "TEMPERATURE_VALUE_OUT_OF_RANGE"
    assert event["event"]["payload"]["validRange"]["maximumValue"] == {
        "value": 35,
        "scale": "CELSIUS",
    }


def test_invalid_directives(alexa, token, home):
    light = home["light"].id
    assert (
        error_type(alexa.send(directive("Alexa.Cooking", "SetCookingMode", token, light)))
        == "INVALID_DIRECTIVE"
    )
    assert (
        error_type(alexa.send(directive("Alexa.LockController", "Lock", token, light)))
        == "INVALID_DIRECTIVE"
    )  # a light has no lock
    old = directive("Alexa.PowerController", "TurnOn", token, light)
    old["directive"]["header"]["payloadVersion"] = "2"
    assert error_type(alexa.send(old)) == "INVALID_DIRECTIVE"
    assert (
        error_type(alexa.send(b"{not json", {"Content-Type": "application/json"}))
        == "INVALID_DIRECTIVE"
    )
    assert (
        error_type(alexa.send(b"[]", {"Content-Type": "application/json"})) == "INVALID_DIRECTIVE"
    )


def test_scenes_start_and_say_so(alexa, token, store, account, connect):
    movie = store.devices.create(account.user.id, "scene", "Movie night")
    online = connect(account, [movie])
    received = []
    online.client.on("setPowerState", lambda d, value, i: received.append(value) or value)
    found = alexa.send(directive("Alexa.Discovery", "Discover", token))
    [endpoint] = [e for e in found["event"]["payload"]["endpoints"] if e["endpointId"] == movie.id]
    assert endpoint["displayCategories"] == ["SCENE_TRIGGER"]
    for name, started in (("Activate", "ActivationStarted"), ("Deactivate", "DeactivationStarted")):
        event = alexa.send(directive("Alexa.SceneController", name, token, movie.id))
        assert event["event"]["header"]["name"] == started
        assert event["event"]["payload"]["cause"]["type"] == "VOICE_INTERACTION"
    assert received == [{"state": "On"}, {"state": "Off"}]


@pytest.mark.parametrize("with_target", [False, True], ids=["dual", "triple"])
def test_dual_and_triple_setpoints_are_refused_in_the_thermostat_namespace(
    alexa, token, home, account, connect, with_target
):
    """Never success for values that were not applied: the device takes one setpoint."""
    online = connect(account, [home["thermostat"]])
    received = []
    online.client.on("targetTemperature", lambda d, v, i: received.append(v) or v)
    setpoints = {
        "lowerSetpoint": {"value": 18, "scale": "CELSIUS"},
        "upperSetpoint": {"value": 24, "scale": "CELSIUS"},
    }
    if with_target:
        setpoints["targetSetpoint"] = {"value": 21, "scale": "CELSIUS"}
    event = alexa.send(
        directive(
            "Alexa.ThermostatController",
            "SetTargetTemperature",
            token,
            home["thermostat"].id,
            setpoints,
        )
    )
    assert event["event"]["header"]["namespace"] == "Alexa.ThermostatController"
    assert error_type(event) == "DUAL_SETPOINTS_UNSUPPORTED"
    assert received == []
