import pytest

from bridge import catalog
from bridge.model import InvalidCommand, Unsupported

REQUIRED = {
    "light": {"powerState", "brightness", "color", "colorTemperature"},
    "dimmer": {"powerState", "brightness"},
    "switch": {"powerState"},
    "plug": {"powerState", "powerUsage"},
    "energy_meter": {"powerUsage"},
    "thermostat": {"powerState", "targetTemperature", "thermostatMode", "currentTemperature"},
    "air_conditioner": {
        "powerState",
        "targetTemperature",
        "thermostatMode",
        "currentTemperature",
        "rangeValue",
    },
    "lock": {"lockState"},
    "blinds": {"rangeValue", "mode"},
    "fan": {"powerState", "rangeValue", "percentage"},
    "temperature_sensor": {"currentTemperature"},
    "contact_sensor": {"contactState"},
    "motion_sensor": {"motion"},
    "doorbell": {"doorbell"},
    "smoke_sensor": {"smokeState"},
    "co_sensor": {"carbonMonoxideState"},
    "leak_sensor": {"leakState"},
    "garage_door": {"mode", "rangeValue"},
    "gate": {"mode", "rangeValue"},
    "button": {"smartButton"},
}


def test_the_new_types_take_and_say_what_their_sinric_counterparts_do():
    assert catalog.validate("garage_door", "setMode", {"mode": "Open"}, None).instance is None
    with pytest.raises(Unsupported, match=r"takes an instance: Door\.Position"):
        catalog.validate("gate", "setRangeValue", {"rangeValue": 50}, None)
    catalog.validate("fan", "adjustPercentage", {"percentage": -20}, None)
    with pytest.raises(InvalidCommand, match="between 0 and 100"):
        catalog.validate("fan", "setPercentage", {"percentage": 140}, None)
    reading = {"startTime": 1, "power": 230.5, "wattHours": 3.2, "voltage": 230, "factor": -1}
    assert catalog.state_from("plug", "powerUsage", reading, None) == {
        "power": 230.5,
        "wattHours": 3.2,
    }
    with pytest.raises(catalog.InvalidState):
        catalog.state_from("energy_meter", "powerUsage", {"wattHours": -5}, None)
    assert catalog.state_from("leak_sensor", "setLeakState", {"state": "detected"}, None) == {
        "leakState": "detected"
    }
    with pytest.raises(catalog.InvalidState):
        catalog.state_from("smoke_sensor", "setSmokeState", {"state": "smoky"}, None)
    press = {"state": "doublePress"}
    assert catalog.state_from("button", "setSmartButtonState", press, None) == {}
    with pytest.raises(catalog.InvalidState):
        catalog.state_from("button", "setSmartButtonState", {"state": "tap"}, None)


def test_a_humidity_of_minus_one_is_sinrics_not_measured_not_a_bad_reading():
    # the Sinric SDKs' temperature sensor sends humidity -1 when it has no hygrometer
    reading = {"temperature": 21.5, "humidity": -1}
    assert catalog.state_from("temperature_sensor", "currentTemperature", reading, None) == {
        "temperature": 21.5
    }
    with pytest.raises(catalog.InvalidState):
        catalog.state_from("temperature_sensor", "currentTemperature", {"humidity": -2}, None)


def test_a_fan_off_stepped_up_in_percent_is_set_and_switched_on():
    shadow = {"powerState": "Off", "percentage": 60}
    rewrite = catalog.absolute("fan", "adjustPercentage", {"percentage": 30}, None, lambda: shadow)
    assert rewrite == catalog.Rewrite("setPercentage", {"percentage": 30}, catalog.POWER_ON)


@pytest.mark.parametrize("name, caps", REQUIRED.items())
def test_every_required_type_has_its_capabilities(name, caps):
    assert {c.name for c in catalog.device_type(name).capabilities} == caps


def test_unknown_type_is_a_clear_error():
    with pytest.raises(InvalidCommand, match="unknown device type 'toaster'"):
        catalog.device_type("toaster")


@pytest.mark.parametrize(
    "type_name, action, value, instance",
    [
        ("light", "setPowerState", {"state": "On"}, None),
        ("light", "setBrightness", {"brightness": 0}, None),
        ("light", "adjustBrightness", {"brightnessDelta": -20}, None),
        ("light", "setColor", {"color": {"r": 255, "g": 0, "b": 10}}, None),
        ("light", "setColorTemperature", {"colorTemperature": 2700}, None),
        ("light", "increaseColorTemperature", {}, None),
        ("thermostat", "targetTemperature", {"temperature": 21.5}, None),
        ("thermostat", "setThermostatMode", {"thermostatMode": "ECO"}, None),
        ("lock", "setLockState", {"state": "LOCKED"}, None),
        ("blinds", "setRangeValue", {"rangeValue": 40}, "Blind.Lift"),
        ("blinds", "setMode", {"mode": "Stop"}, "Blind.Movement"),
        ("fan", "setRangeValue", {"rangeValue": 3}, "Fan.Speed"),
    ],
)
def test_valid_commands_pass(type_name, action, value, instance):
    assert catalog.validate(type_name, action, value, instance).handles(action, instance)


@pytest.mark.parametrize(
    "type_name, action, value, instance, error",
    [
        ("light", "setPowerState", {"state": "on"}, None, "must be one of On, Off"),
        ("light", "setBrightness", {"brightness": 101}, None, "between 0 and 100"),
        ("light", "setBrightness", {"brightness": 5.5}, None, "whole number"),
        ("light", "setBrightness", {"brightness": True}, None, "must be a number"),
        ("light", "setBrightness", {}, None, "is required"),
        ("light", "setColor", {"color": {"r": 1, "g": 2}}, None, "r, g and b"),
        ("light", "setColor", {"color": {"r": 1, "g": 2, "b": 256}}, None, "between 0 and 255"),
        ("air_conditioner", "targetTemperature", {"temperature": 40}, None, "between 16 and 30"),
        ("fan", "setRangeValue", {"rangeValue": 9}, "Fan.Speed", "between 1 and 5"),
        ("light", "setBrightness", [], None, "JSON object"),
    ],
)
def test_invalid_values_are_refused_with_a_reason(type_name, action, value, instance, error):
    with pytest.raises(InvalidCommand, match=error):
        catalog.validate(type_name, action, value, instance)


def test_out_of_range_carries_the_valid_range():
    with pytest.raises(InvalidCommand) as info:
        catalog.validate("thermostat", "targetTemperature", {"temperature": 50}, None)
    assert info.value.valid_range == (5, 35)


@pytest.mark.parametrize(
    "type_name, action, instance",
    [
        ("switch", "setBrightness", None),
        ("temperature_sensor", "setPowerState", None),
        ("blinds", "setRangeValue", None),  # the instance is part of the capability
        ("fan", "setRangeValue", "Blind.Lift"),
        ("doorbell", "DoorbellPress", None),  # an event, not a command
    ],
)
def test_actions_outside_the_capabilities_are_unsupported(type_name, action, instance):
    with pytest.raises(Unsupported):
        catalog.validate(type_name, action, {}, instance)


def test_state_from_maps_value_keys_to_shadow_properties():
    assert catalog.state_from("light", "setPowerState", {"state": "On"}, None) == {
        "powerState": "On"
    }
    assert catalog.state_from("lock", "setLockState", {"state": "JAMMED"}, None) == {
        "lockState": "JAMMED"
    }
    assert catalog.state_from(
        "thermostat", "currentTemperature", {"temperature": 20.5, "humidity": 40}, None
    ) == {"temperature": 20.5, "humidity": 40}
    assert catalog.state_from("light", "adjustBrightness", {"brightness": 70}, None) == {
        "brightness": 70
    }
    assert catalog.state_from("switch", "unknownAction", {"state": "On"}, None) == {}


def test_a_missing_instance_is_named_in_the_refusal():
    with pytest.raises(Unsupported, match=r"it takes an instance: Blind\.Lift"):
        catalog.validate("blinds", "setRangeValue", {"rangeValue": 5}, None)


def bright(n: int, then=None) -> catalog.Rewrite:
    return catalog.Rewrite("setBrightness", {"brightness": n}, then)


def kelvin(n: int) -> catalog.Rewrite:
    return catalog.Rewrite("setColorTemperature", {"colorTemperature": n})


ON = catalog.POWER_ON
OFF_AT_100 = {"powerState": "Off", "brightness": 100}


@pytest.mark.parametrize(
    ("action", "value", "shadow", "expected"),
    [
        ("adjustBrightness", {"brightnessDelta": 25}, {"brightness": 40}, bright(65)),
        ("adjustBrightness", {"brightnessDelta": 30}, {"brightness": 90}, bright(100)),
        ("adjustBrightness", {"brightnessDelta": -50}, {"brightness": 20}, bright(0)),
        ("increaseColorTemperature", {}, {"colorTemperature": 2700}, kelvin(4000)),
        ("increaseColorTemperature", {}, {"colorTemperature": 3000}, kelvin(4000)),
        ("increaseColorTemperature", {}, {"colorTemperature": 7000}, kelvin(7000)),
        ("decreaseColorTemperature", {}, {"colorTemperature": 4000}, kelvin(2700)),
        ("decreaseColorTemperature", {}, {"colorTemperature": 2300}, kelvin(2200)),
        ("decreaseColorTemperature", {}, {"colorTemperature": 2200}, kelvin(2200)),
        # A light that has not said its tone is taken to be mid-range (4600 K).
        ("increaseColorTemperature", {}, {}, kelvin(5500)),
        ("decreaseColorTemperature", {}, {"brightness": 40}, kelvin(4000)),
        # Amazon's BrightnessController test plan: an off light counts from 0.
        ("adjustBrightness", {"brightnessDelta": 25}, OFF_AT_100, bright(25, then=ON)),
        ("adjustBrightness", {"brightnessDelta": -25}, OFF_AT_100, catalog.Rewrite(None, {})),
        ("adjustBrightness", {"brightnessDelta": 25}, {"powerState": "Off"}, bright(25, ON)),
        ("adjustBrightness", {"brightnessDelta": 25}, {"powerState": "On"}, None),
    ],
)
def test_relative_commands_become_absolute_from_the_shadow(action, value, shadow, expected):
    """Alexa's named tones (2200 warm ... 7000 cool) are the steps; ranges clamp."""
    found = catalog.absolute("light", action, value, None, lambda: shadow)
    assert found == expected
    if found is not None and found.action is not None:  # what is sent is a valid command
        catalog.validate("light", found.action, found.value, None)


@pytest.mark.parametrize(
    ("action", "shadow"),
    [
        ("adjustBrightness", {}),  # the shadow knows nothing yet: sent as asked
        ("adjustBrightness", {"brightness": True}),
        ("adjustBrightness", {"brightness": "40"}),
        ("setBrightness", {"brightness": 40}),  # already absolute
    ],
)
def test_commands_stay_as_asked_when_the_shadow_cannot_help(action, shadow):
    value = {"brightnessDelta": 10} if action == "adjustBrightness" else {"brightness": 5}
    assert catalog.absolute("light", action, value, None, lambda: shadow) is None


def test_the_shadow_is_read_only_for_relative_commands():
    def shadow():
        raise AssertionError("read for an absolute command")

    assert catalog.absolute("light", "setPowerState", {"state": "On"}, None, shadow) is None
    assert catalog.absolute("nosuchtype", "adjustBrightness", {}, None, shadow) is None
