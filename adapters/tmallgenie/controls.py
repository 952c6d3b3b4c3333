"""Tmall Genie directives to device actions: v1 names and v2 params, one table each."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from adapters.tmallgenie.errors import DEVICE_NOT_SUPPORT_FUNCTION, INVALIDATE_PARAMS, GenieError
from adapters.tmallgenie.profiles import COLORS, MODES
from bridge.plugin import LIMIT, Device, units

Action = tuple[str, dict[str, Any], str | None]  # (core action, value, instance)
UNMODE = {v: k for k, v in MODES.items()}


def _number(value: Any, default: float | None = None) -> float:
    """AliGenie sends numbers as JSON numbers or as strings ("50"); both mean a number."""
    if value in (None, "") and default is not None:
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GenieError(INVALIDATE_PARAMS, f"not a number: {str(value)[:32]!r}") from None
    if not math.isfinite(number) or abs(number) > LIMIT:
        raise GenieError(INVALIDATE_PARAMS, "the number is out of range")
    return int(number) if number.is_integer() else number


def _power(device: Device, on: bool) -> Action:
    if device.type == "blinds":
        return "setRangeValue", {"rangeValue": 100 if on else 0}, "Blind.Lift"
    return "setPowerState", {"state": "On" if on else "Off"}, None


def _color(name: Any) -> Action:
    if name not in COLORS:
        raise GenieError(INVALIDATE_PARAMS, f"unknown color {name!r}")
    r, g, b = COLORS[name]
    return "setColor", {"color": {"r": r, "g": g, "b": b}}, None


def _mode(value: Any) -> Action:
    mode = UNMODE.get(str(value), str(value).upper())
    return "setThermostatMode", {"thermostatMode": mode}, None


def _step(sign: int) -> Callable[[float], float]:
    return lambda amount: sign * abs(amount)


V1: dict[str, Callable[[Device, Any], Action]] = {
    "TurnOn": lambda d, v: _power(d, True),
    "Open": lambda d, v: _power(d, True),
    "TurnOff": lambda d, v: _power(d, False),
    "Close": lambda d, v: _power(d, False),
    "Pause": lambda d, v: ("setMode", {"mode": "Stop"}, "Blind.Movement"),
    "SetBrightness": lambda d, v: ("setBrightness", {"brightness": _number(v)}, None),
    "AdjustUpBrightness": lambda d, v: (
        "adjustBrightness",
        {"brightnessDelta": _step(1)(_number(v, 10))},
        None,
    ),
    "AdjustDownBrightness": lambda d, v: (
        "adjustBrightness",
        {"brightnessDelta": _step(-1)(_number(v, 10))},
        None,
    ),
    "SetColor": lambda d, v: _color(v),
    "SetColorTemperature": lambda d, v: (
        "setColorTemperature",
        {"colorTemperature": _number(v)},
        None,
    ),
    "SetTemperature": lambda d, v: ("targetTemperature", {"temperature": _number(v)}, None),
    "AdjustUpTemperature": lambda d, v: (
        "adjustTargetTemperature",
        {"temperature": _step(1)(_number(v, 1))},
        None,
    ),
    "AdjustDownTemperature": lambda d, v: (
        "adjustTargetTemperature",
        {"temperature": _step(-1)(_number(v, 1))},
        None,
    ),
    "SetMode": lambda d, v: _mode(v),
    "SetWindSpeed": lambda d, v: ("setRangeValue", {"rangeValue": _number(v)}, "Fan.Speed"),
    "AdjustUpWindSpeed": lambda d, v: (
        "adjustRangeValue",
        {"rangeValueDelta": _step(1)(_number(v, 1))},
        "Fan.Speed",
    ),
    "AdjustDownWindSpeed": lambda d, v: (
        "adjustRangeValue",
        {"rangeValueDelta": _step(-1)(_number(v, 1))},
        "Fan.Speed",
    ),
}


def _rgb(value: Any) -> Action:
    return ("setColor", {"color": units.rgb_from_int(int(_number(value)))}, None)


def _motor(device: Device, value: Any) -> Action:
    code = int(_number(value))
    if code == 0:
        return "setMode", {"mode": "Stop"}, "Blind.Movement"
    if code in (1, 2):
        return _power(device, code == 1)
    raise GenieError(INVALIDATE_PARAMS, "motorControl is 0, 1 or 2")


V2_SET: dict[str, Callable[[Device, Any], Action]] = {
    "powerstate": lambda d, v: _power(d, bool(int(_number(v)))),
    "brightness": lambda d, v: ("setBrightness", {"brightness": _number(v)}, None),
    "color": lambda d, v: _rgb(v),
    "colorTemperature": lambda d, v: (
        "setColorTemperature",
        {"colorTemperature": _number(v)},
        None,
    ),
    "temperature": lambda d, v: ("targetTemperature", {"temperature": _number(v)}, None),
    "mode": lambda d, v: _mode(v),
    "windspeed": lambda d, v: ("setRangeValue", {"rangeValue": _number(v)}, "Fan.Speed"),
    "motorControl": _motor,
    "curtainPosition": lambda d, v: ("setRangeValue", {"rangeValue": _number(v)}, "Blind.Lift"),
}
V2_ADJUST: dict[str, Callable[[Device, Any], Action]] = {
    "brightness": lambda d, v: ("adjustBrightness", {"brightnessDelta": _number(v)}, None),
    "temperature": lambda d, v: ("adjustTargetTemperature", {"temperature": _number(v)}, None),
    "windspeed": lambda d, v: ("adjustRangeValue", {"rangeValueDelta": _number(v)}, "Fan.Speed"),
    "colorTemperature": lambda d, v: (
        "increaseColorTemperature" if _number(v) > 0 else "decreaseColorTemperature",
        {},
        None,
    ),
}


def v1_action(name: str, device: Device, value: Any) -> Action:
    handler = V1.get(name)
    if handler is None:
        raise GenieError(DEVICE_NOT_SUPPORT_FUNCTION)
    return handler(device, value)


def v2_actions(name: str, device: Device, params: dict[str, Any] | None) -> list[Action]:
    table = V2_ADJUST if name == "thing.attribute.adjust" else V2_SET
    if not params:
        raise GenieError(INVALIDATE_PARAMS, "params must be a non-empty object")
    actions = []
    for key, value in params.items():
        if key not in table:
            raise GenieError(DEVICE_NOT_SUPPORT_FUNCTION, f"{key} is not supported")
        actions.append(table[key](device, value))
    return actions
