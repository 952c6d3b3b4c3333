"""DuerOS control directives to device actions: one small function per action."""

from __future__ import annotations

import colorsys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.xiaodu.errors import DuerError, malformed
from bridge.model import Device


@dataclass(frozen=True)
class Action:
    name: str
    value: dict[str, Any]
    instance: str | None = None


Handler = Callable[[dict[str, Any], Device, str], Action]
CONTROLS: dict[str, Handler] = {}
FAN_LEVELS = {"min": 1, "low": 2, "middle": 3, "high": 4, "max": 5, "auto": 3}


def control(*actions: str) -> Callable[[Handler], Handler]:
    def decorate(fn: Handler) -> Handler:
        for action in actions:
            CONTROLS[action] = fn
        return fn

    return decorate


def _value(payload: dict[str, Any], key: str, field: str = "value", default: Any = None) -> Any:
    obj = payload.get(key)
    value = obj.get(field, default) if isinstance(obj, dict) else default
    if value is None or isinstance(value, bool):
        raise malformed(f"{key}.{field}")
    return value


def _number(payload: dict[str, Any], key: str, default: float | None = None) -> float:
    value = _value(payload, key, default=default)
    if not isinstance(value, int | float):
        raise malformed(f"{key}.value")
    return value


@control("turnOn", "turnOff")
def turn(p: dict[str, Any], device: Device, action: str = "turnOn") -> Action:
    on = action == "turnOn"
    if device.type == "blinds":
        return Action("setRangeValue", {"rangeValue": 100 if on else 0}, "Blind.Lift")
    return Action("setPowerState", {"state": "On" if on else "Off"})


@control("setBrightnessPercentage")
def set_brightness(p: dict[str, Any], device: Device, action: str = "") -> Action:
    return Action("setBrightness", {"brightness": round(_number(p, "brightness"))})


@control("incrementBrightnessPercentage", "decrementBrightnessPercentage")
def step_brightness(p: dict[str, Any], device: Device, action: str = "") -> Action:
    delta = round(_number(p, "deltaPercentage", 10))
    return Action(
        "adjustBrightness", {"brightnessDelta": delta if action.startswith("inc") else -delta}
    )


@control("setColor")
def set_color(p: dict[str, Any], device: Device, action: str = "") -> Action:
    hsb = p.get("color")
    if not isinstance(hsb, dict):
        raise malformed("color")
    try:
        r, g, b = colorsys.hsv_to_rgb(hsb["hue"] / 360, hsb["saturation"], hsb["brightness"])
    except (KeyError, TypeError):
        raise malformed("color") from None
    return Action(
        "setColor", {"color": {"r": round(r * 255), "g": round(g * 255), "b": round(b * 255)}}
    )


@control("setColorTemperature")
def set_color_temperature(p: dict[str, Any], device: Device, action: str = "") -> Action:
    kelvin = p.get("colorTemperatureInKelvin")
    if isinstance(kelvin, bool) or not isinstance(kelvin, int | float):
        raise malformed("colorTemperatureInKelvin")
    return Action("setColorTemperature", {"colorTemperature": round(kelvin)})


@control("incrementColorTemperature", "decrementColorTemperature")
def step_color_temperature(p: dict[str, Any], device: Device, action: str = "") -> Action:
    return Action(
        "increaseColorTemperature" if action.startswith("inc") else "decreaseColorTemperature", {}
    )


def _celsius(
    p: dict[str, Any], key: str, default: float | None = None, delta: bool = False
) -> float:
    value = _number(p, key, default)
    scale = p.get(key, {}).get("scale", "CELSIUS") if isinstance(p.get(key), dict) else "CELSIUS"
    if scale == "FAHRENHEIT":
        return round(value * 5 / 9 if delta else (value - 32) * 5 / 9, 1)
    return value


@control("setTemperature")
def set_temperature(p: dict[str, Any], device: Device, action: str = "") -> Action:
    return Action("targetTemperature", {"temperature": _celsius(p, "targetTemperature")})


@control("incrementTemperature", "decrementTemperature")
def step_temperature(p: dict[str, Any], device: Device, action: str = "") -> Action:
    delta = _celsius(p, "deltaValue", 1, delta=True)
    return Action(
        "adjustTargetTemperature", {"temperature": delta if action.startswith("inc") else -delta}
    )


@control("setFanSpeed")
def set_fan_speed(p: dict[str, Any], device: Device, action: str = "") -> Action:
    speed = p.get("fanSpeed")
    if isinstance(speed, dict) and "level" in speed:
        if speed["level"] not in FAN_LEVELS:
            raise malformed("fanSpeed.level")
        value = FAN_LEVELS[speed["level"]]
    else:
        value = round(_number(p, "fanSpeed"))
    return Action("setRangeValue", {"rangeValue": value}, "Fan.Speed")


@control("incrementFanSpeed", "decrementFanSpeed")
def step_fan_speed(p: dict[str, Any], device: Device, action: str = "") -> Action:
    delta = round(_number(p, "deltaValue", 1))
    return Action(
        "adjustRangeValue",
        {"rangeValueDelta": delta if action.startswith("inc") else -delta},
        "Fan.Speed",
    )


@control("setMode", "unSetMode")
def set_mode(p: dict[str, Any], device: Device, action: str = "") -> Action:
    mode = "AUTO" if action == "unSetMode" else _value(p, "mode")
    return Action("setThermostatMode", {"thermostatMode": str(mode).upper()})


@control("setLockState")
def set_lock(p: dict[str, Any], device: Device, action: str = "") -> Action:
    return Action("setLockState", {"state": str(_value(p, "lockState")).upper()})


@control("pause")
def pause(p: dict[str, Any], device: Device, action: str = "") -> Action:
    return Action("setMode", {"mode": "Stop"}, "Blind.Movement")


@control("continue")
def resume(p: dict[str, Any], device: Device, action: str = "") -> Action:
    """Curtains carry on toward where they were going (opening, unless we know better)."""
    return Action("setMode", {"mode": p.get("_lastMovement") or "Open"}, "Blind.Movement")


@control("setPercentage")
def set_percentage(p: dict[str, Any], device: Device, action: str = "") -> Action:
    return Action("setRangeValue", {"rangeValue": round(_number(p, "percentage"))}, "Blind.Lift")


def action_for(request_name: str) -> str:
    """`SetBrightnessPercentageRequest` -> `setBrightnessPercentage` (and DuerOS's unSetMode)."""
    base = request_name.removesuffix("Request")
    if base == "UnsetMode":
        return "unSetMode"
    return base[:1].lower() + base[1:]


def command_for(action: str, payload: dict[str, Any], device: Device) -> Action:
    handler = CONTROLS.get(action)
    if handler is None:
        raise DuerError("UnsupportedOperationError")
    return handler(payload, device, action)
