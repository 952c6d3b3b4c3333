"""The one table between the catalog and Tuya's standard function codes.

Each catalog type is registered under a TuyaLink product of its own
(`BRIDGE_TUYA_PRODUCT_<TYPE>`); the product's thing model must define the
functions below, with these codes, types and ranges, so that Tuya's apps draw
their standard panels. Tuya's units differ from the catalog's: brightness and
white tone run 10-1000 and 0-1000, colour is hue 0-360 with saturation and
value 0-1000, and temperatures are tenths of a degree Celsius.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.plugin import catalog, units


class BadValue(ValueError):
    """A value Tuya sent that the function does not take (type or range)."""


@dataclass(frozen=True)
class Function:
    """One Tuya function: its code, the shadow property it mirrors, and how to convert.

    `action` and `field` name the bridge command a Tuya property-set becomes
    (None: the function is reported only). `unit` is for the documentation. A
    function with an `event` mirrors no shadow property: each such event of the
    device is reported with the value of its field `prop` (a button's press).
    """

    code: str
    prop: str
    to_tuya: Callable[[Any], Any]
    from_tuya: Callable[[Any], Any]
    unit: str
    action: str | None = None
    field: str = ""
    instance: str | None = None
    event: str | None = None

    @property
    def shadow(self) -> str:
        return catalog.shadow_name(self.prop, self.instance)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadValue(f"expected true or false, not {value!r}")
    return value


def _int(value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise BadValue(f"expected a number, not {value!r}")
    if not lo <= value <= hi:
        raise BadValue(f"{value} is outside {lo}-{hi}")
    return round(value)


def _enum(choices: Mapping[str, str]) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """(bridge -> Tuya, Tuya -> bridge) for an enum: bridge value to Tuya's word."""
    back = {tuya: ours for ours, tuya in choices.items()}

    def from_tuya(value: Any) -> str:
        if not isinstance(value, str) or value not in back:
            raise BadValue(f"expected one of {', '.join(sorted(back))}, not {value!r}")
        return back[value]

    return (lambda value: choices[value]), from_tuya


def _flag(code: str, prop: str, on: str, off: str, action: str, field: str) -> Function:
    """A Tuya bool for a two-valued property: true is `on`."""
    return Function(
        code,
        prop,
        lambda value: value == on,
        lambda value: on if _bool(value) else off,
        f"bool (true: {on})",
        action,
        field,
    )


def _switch(code: str) -> Function:
    return _flag(code, "powerState", "On", "Off", "setPowerState", "state")


def _tenths(code: str, prop: str, lo: int, hi: int, action: str | None = None) -> Function:
    """A temperature in tenths of a degree Celsius."""
    return Function(
        code,
        prop,
        lambda celsius: round(celsius * 10),
        lambda value: _int(value, lo * 10, hi * 10) / 10,
        f"value {lo * 10}-{hi * 10}, 0.1 °C",
        action,
        "temperature",
    )


def _rgb_to_hsv(rgb: Mapping[str, int]) -> dict[str, int]:
    """Tuya's colour_data_v2: hue in degrees, saturation and value on 0-1000."""
    h, s, v = units.rgb_to_hsv(rgb)
    return {
        "h": round(h) % 360,
        "s": units.rescale(s, UNIT, MILLE),
        "v": units.rescale(v, UNIT, MILLE),
    }


def _hsv_to_rgb(value: Any) -> dict[str, int]:
    if not isinstance(value, dict) or set(value) != {"h", "s", "v"}:
        raise BadValue(f"expected {{h, s, v}}, not {value!r}")
    h, s, v = _int(value["h"], 0, 360), _int(value["s"], 0, 1000), _int(value["v"], 0, 1000)
    return units.hsv_to_rgb(h, s / 1000, v / 1000)  # exact: no rounding before the colour


KELVIN = (2200, 7000)
MILLE, UNIT = (0, 1000), (0, 1)

BRIGHTNESS = Function(
    "bright_value_v2",
    "brightness",
    lambda percent: max(10, units.rescale(percent, (0, 100), MILLE)),
    lambda value: max(1, units.rescale(_int(value, 10, 1000), MILLE, (0, 100))),
    "value 10-1000 (the catalog's percent x 10)",
    "setBrightness",
    "brightness",
)
WHITE_TONE = Function(
    "temp_value_v2",
    "colorTemperature",
    lambda kelvin: units.rescale(kelvin, KELVIN, MILLE),
    lambda value: units.rescale(_int(value, 0, 1000), MILLE, KELVIN),
    "value 0-1000, warm to cool (2200-7000 K)",
    "setColorTemperature",
    "colorTemperature",
)
COLOUR = Function(
    "colour_data_v2",
    "color",
    _rgb_to_hsv,
    _hsv_to_rgb,
    "json {h: 0-360, s: 0-1000, v: 0-1000}",
    "setColor",
    "color",
)
THERMOSTAT_MODES = {"AUTO": "auto", "COOL": "cold", "HEAT": "hot", "ECO": "eco", "OFF": "off"}
AC_MODES = {k: v for k, v in THERMOSTAT_MODES.items() if k != "OFF"}


def _mode(modes: Mapping[str, str]) -> Function:
    to_tuya, from_tuya = _enum(modes)
    return Function(
        "mode",
        "thermostatMode",
        to_tuya,
        from_tuya,
        "enum " + ", ".join(modes.values()),
        "setThermostatMode",
        "thermostatMode",
    )


def _climate(lo: int, hi: int, modes: Mapping[str, str]) -> tuple[Function, ...]:
    return (
        _switch("switch"),
        _tenths("temp_set", "targetTemperature", lo, hi, "targetTemperature"),
        _tenths("temp_current", "temperature", -40, 100),
        _mode(modes),
    )


_LOCK_TO, _LOCK_FROM = _enum({"LOCKED": "locked", "UNLOCKED": "unlocked", "JAMMED": "jammed"})
_BLIND_TO, _BLIND_FROM = _enum({"Open": "open", "Close": "close", "Stop": "stop"})
_PIR_TO, _PIR_FROM = _enum({"detected": "pir", "notDetected": "none"})
_DOOR_TO, _DOOR_FROM = _enum({"open": "open", "closed": "closed"})
_ALARM_TO, _ALARM_FROM = _enum({"detected": "alarm", "clear": "normal"})


def _alarm(code: str, prop: str) -> Function:
    return Function(code, prop, _ALARM_TO, _ALARM_FROM, "enum alarm, normal")


METERING = (
    Function(
        "cur_power",
        "power",
        lambda watts: round(watts * 10),
        lambda value: _int(value, 0, 10_000_000) / 10,
        "value, 0.1 W",
    ),
    Function(
        "add_ele",
        "wattHours",
        round,  # thousandths of a kWh are watt-hours
        lambda value: _int(value, 0, 1_000_000_000),
        "value, 0.001 kWh (the energy since the last report)",
    ),
)
DOOR = (_flag("switch_1", "mode", "Open", "Close", "setMode", "mode"),)
_PRESS_TO, _PRESS_FROM = _enum(
    {"singlePress": "single_click", "doublePress": "double_click", "longPress": "long_press"}
)
PRESS = Function(
    "switch1_value",
    "state",
    _PRESS_TO,
    _PRESS_FROM,
    "enum single_click, double_click, long_press (reported at each press)",
    event="setSmartButtonState",
)

FUNCTIONS: dict[str, tuple[Function, ...]] = {
    "light": (_switch("switch_led"), BRIGHTNESS, WHITE_TONE, COLOUR),
    "dimmer": (_switch("switch_led"), BRIGHTNESS),
    "switch": (_switch("switch_1"),),
    "plug": (_switch("switch_1"), *METERING),
    "energy_meter": METERING,
    "smoke_sensor": (_alarm("smoke_sensor_status", "smokeState"),),
    "co_sensor": (_alarm("co_status", "carbonMonoxideState"),),
    "leak_sensor": (_alarm("watersensor_state", "leakState"),),
    "garage_door": DOOR,
    "button": (PRESS,),
    "thermostat": _climate(5, 35, THERMOSTAT_MODES),
    "air_conditioner": _climate(16, 30, AC_MODES),
    "lock": (
        Function(
            "lock_motor_state",
            "lockState",
            _LOCK_TO,
            _LOCK_FROM,
            "enum locked, unlocked, jammed",
            "setLockState",
            "state",
        ),
    ),
    "blinds": (
        Function(
            "percent_control",
            "rangeValue",
            round,
            lambda value: _int(value, 0, 100),
            "value 0-100 %",
            "setRangeValue",
            "rangeValue",
            "Blind.Lift",
        ),
        Function(
            "control",
            "mode",
            _BLIND_TO,
            _BLIND_FROM,
            "enum open, stop, close",
            "setMode",
            "mode",
            "Blind.Movement",
        ),
    ),
    "fan": (
        _switch("switch"),
        Function(
            "fan_speed_percent",
            "rangeValue",
            lambda speed: speed * 20,
            lambda value: max(1, round(_int(value, 1, 100) / 20)),
            "value 1-100 % (the catalog's speeds 1-5 x 20)",
            "setRangeValue",
            "rangeValue",
            "Fan.Speed",
        ),
    ),
    "temperature_sensor": (
        _tenths("va_temperature", "temperature", -40, 100),
        Function(
            "va_humidity",
            "humidity",
            round,
            lambda value: _int(value, 0, 100),
            "value 0-100 %",
        ),
    ),
    "contact_sensor": (
        Function("doorcontact_state", "contactState", _DOOR_TO, _DOOR_FROM, "enum open, closed"),
    ),
    "motion_sensor": (Function("pir_state", "motion", _PIR_TO, _PIR_FROM, "enum pir, none"),),
}
"""Types not listed (doorbell, scene, gate) have no Tuya product: they are not
registered (`coverage` says why)."""


def functions(type_name: str) -> tuple[Function, ...]:
    return FUNCTIONS.get(type_name, ())


def function(type_name: str, code: str) -> Function | None:
    """A type's function by its Tuya code."""
    return next((f for f in functions(type_name) if f.code == code), None)


def properties(type_name: str, state: Mapping[str, Any], only: Any = None) -> dict[str, Any]:
    """Tuya property values for shadow values (`{shadow name: value}`), those in `only`
    when given; values the shadow does not have, or cannot convert, are left out."""
    return _converted(
        (f, state[f.shadow])
        for f in functions(type_name)
        if not f.event and f.shadow in state and (only is None or f.shadow in only)
    )


def event_properties(type_name: str, event: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """Tuya property values for an event that leaves no state (a press): `{}` for others."""
    return _converted(
        (f, value[f.prop]) for f in functions(type_name) if f.event == event and f.prop in value
    )


def _converted(found: Iterable[tuple[Function, Any]]) -> dict[str, Any]:
    """Each function's code with its value in Tuya's terms; a value that does not convert is
    left out."""
    out = {}
    for function, value in found:
        try:
            out[function.code] = function.to_tuya(value)
        except (KeyError, TypeError, ValueError):
            continue
    return out


def command(type_name: str, code: str, value: Any) -> tuple[str, dict[str, Any], str | None]:
    """The bridge command for a Tuya property-set: (action, value, instance).

    Raises BadValue for a code the type does not take or a value out of range.
    """
    found = function(type_name, code)
    if found is None:
        raise BadValue(f"a {type_name} has no function {code!r}")
    if found.action is None:
        raise BadValue(f"{code} is reported only")
    return found.action, {found.field: found.from_tuya(value)}, found.instance
