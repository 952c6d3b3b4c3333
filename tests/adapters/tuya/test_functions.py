"""The catalog-to-Tuya table: codes, units and ranges, both ways."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.tuya.functions import FUNCTIONS, BadValue, command, event_properties, properties
from bridge import catalog


def test_every_mapped_type_is_a_catalog_type_and_every_function_mirrors_its_shadow():
    for type_name, functions in FUNCTIONS.items():
        shadows, events = set(), {}
        for cap in catalog.TYPES[type_name].capabilities:
            shadows.update(catalog.shadow_name(p, cap.instance) for p in cap.state)
            events.update({e: {f.name for f in cap.reported} for e in cap.events})
        for function in functions:
            if function.event:  # mirrors an event's field, not a property
                assert function.prop in events[function.event], (type_name, function.code)
                continue
            assert function.shadow in shadows, (type_name, function.code)
            if function.action:
                assert catalog.TYPES[type_name].capability_for(function.action, function.instance)
        assert len({f.code for f in functions}) == len(functions)


def test_a_light_reports_in_tuyas_units():
    state = {
        "powerState": "On",
        "brightness": 55,
        "colorTemperature": 4600,
        "color": {"r": 255, "g": 0, "b": 0},
    }
    assert properties("light", state) == {
        "switch_led": True,
        "bright_value_v2": 550,
        "temp_value_v2": 500,
        "colour_data_v2": {"h": 0, "s": 1000, "v": 1000},
    }
    assert properties("light", {**state, "brightness": 0}, only=("brightness",)) == {
        "bright_value_v2": 10  # Tuya's least brightness
    }


def test_temperatures_are_tenths_and_modes_are_tuyas_words():
    state = {"targetTemperature": 21.5, "temperature": 19.2, "thermostatMode": "COOL"}
    assert properties("thermostat", state) == {"temp_set": 215, "temp_current": 192, "mode": "cold"}
    assert command("thermostat", "temp_set", 215) == (
        "targetTemperature",
        {"temperature": 21.5},
        None,
    )
    assert command("thermostat", "mode", "hot") == (
        "setThermostatMode",
        {"thermostatMode": "HEAT"},
        None,
    )


def test_a_press_is_reported_as_tuyas_wireless_switch_value_and_is_no_state():
    press = {"state": "doublePress"}
    assert event_properties("button", "setSmartButtonState", press) == {
        "switch1_value": "double_click"
    }
    assert event_properties("button", "setSmartButtonState", {"state": "tap"}) == {}
    assert event_properties("light", "setSmartButtonState", press) == {}
    assert properties("button", {"state": "singlePress"}) == {}  # never from the shadow
    with pytest.raises(BadValue, match="reported only"):
        command("button", "switch1_value", "single_click")


def test_blinds_and_fans_use_instances():
    assert command("blinds", "control", "stop") == ("setMode", {"mode": "Stop"}, "Blind.Movement")
    assert command("blinds", "percent_control", 30) == (
        "setRangeValue",
        {"rangeValue": 30},
        "Blind.Lift",
    )
    assert command("fan", "fan_speed_percent", 60) == (
        "setRangeValue",
        {"rangeValue": 3},
        "Fan.Speed",
    )


@pytest.mark.parametrize(
    ("type_name", "code", "value"),
    [
        ("light", "switch_led", "true"),  # a string, not a boolean
        ("light", "bright_value_v2", 5),  # below Tuya's 10
        ("light", "bright_value_v2", 1001),
        ("light", "bright_value_v2", True),
        ("light", "colour_data_v2", {"h": 400, "s": 0, "v": 0}),
        ("light", "colour_data_v2", {"h": 1, "s": 1}),
        ("light", "switch_1", True),  # a plug's code
        ("thermostat", "temp_set", 500),  # 50 °C, above 35
        ("thermostat", "temp_current", 200),  # reported only
        ("thermostat", "mode", "turbo"),
        ("blinds", "control", "Open"),  # Tuya's words are lower case
        ("contact_sensor", "doorcontact_state", "open"),  # reported only
        ("doorbell", "switch_1", True),  # no Tuya product
    ],
)
def test_what_a_function_does_not_take_is_refused(type_name, code, value):
    with pytest.raises(BadValue):
        command(type_name, code, value)


@given(st.integers(0, 100))
def test_brightness_survives_the_round_trip(percent):
    tuya = properties("dimmer", {"brightness": percent})["bright_value_v2"]
    assert 10 <= tuya <= 1000
    assert command("dimmer", "bright_value_v2", tuya)[1]["brightness"] == max(1, percent)


@given(st.integers(2200, 7000))
def test_white_tone_survives_the_round_trip_within_five_kelvin(kelvin):
    tuya = properties("light", {"colorTemperature": kelvin})["temp_value_v2"]
    assert 0 <= tuya <= 1000
    assert abs(command("light", "temp_value_v2", tuya)[1]["colorTemperature"] - kelvin) <= 5


@given(st.fixed_dictionaries({c: st.integers(0, 255) for c in "rgb"}))
def test_colour_survives_the_round_trip_within_one_step(rgb):
    tuya = properties("light", {"color": rgb})["colour_data_v2"]
    back = command("light", "colour_data_v2", tuya)[1]["color"]
    assert all(abs(back[c] - rgb[c]) <= 2 for c in "rgb"), (rgb, tuya, back)
