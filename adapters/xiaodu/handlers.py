"""DuerOS control directives to device actions: one small function per action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.xiaodu.errors import UNSUPPORTED_OPERATION, DuerError, malformed
from adapters.xiaodu.models import Payload, Valued
from bridge.plugin import Device, units


@dataclass(frozen=True)
class Action:
    name: str
    value: dict[str, Any]
    instance: str | None = None


Handler = Callable[[Payload, Device, str, str | None], Action]
"""(payload, device, action, last movement of curtains) -> the device action."""
CONTROLS: dict[str, Handler] = {}
FAN_LEVELS = {"min": 1, "low": 2, "middle": 3, "high": 4, "max": 5, "auto": 3}


def control(*actions: str) -> Callable[[Handler], Handler]:
    def decorate(fn: Handler) -> Handler:
        for action in actions:
            CONTROLS[action] = fn
        return fn

    return decorate


def _number(valued: Valued | None, key: str, default: float | None = None) -> float:
    value = valued.value if valued is not None else default
    if value is None or isinstance(value, str):
        raise malformed(f"{key}.value")
    return value


def _text(valued: Valued | None, key: str) -> str:
    value = valued.value if valued is not None else None
    if not isinstance(value, str):
        raise malformed(f"{key}.value")
    return value


@control("turnOn", "turnOff")
def turn(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    on = action == "turnOn"
    if device.type == "blinds":
        return Action("setRangeValue", {"rangeValue": 100 if on else 0}, "Blind.Lift")
    return Action("setPowerState", {"state": "On" if on else "Off"})


@control("setBrightnessPercentage")
def set_brightness(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    return Action("setBrightness", {"brightness": round(_number(p.brightness, "brightness"))})


@control("incrementBrightnessPercentage", "decrementBrightnessPercentage")
def step_brightness(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    delta = round(_number(p.deltaPercentage, "deltaPercentage", 10))
    return Action(
        "adjustBrightness", {"brightnessDelta": delta if action.startswith("inc") else -delta}
    )


@control("setColor")
def set_color(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    hsb = p.color
    if hsb is None:
        raise malformed("color")
    return Action("setColor", {"color": units.hsv_to_rgb(hsb.hue, hsb.saturation, hsb.brightness)})


@control("setColorTemperature")
def set_color_temperature(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    kelvin = p.colorTemperatureInKelvin
    if kelvin is None:
        raise malformed("colorTemperatureInKelvin")
    return Action("setColorTemperature", {"colorTemperature": round(kelvin)})


@control("incrementColorTemperature", "decrementColorTemperature")
def step_color_temperature(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    return Action(
        "increaseColorTemperature" if action.startswith("inc") else "decreaseColorTemperature", {}
    )


def _celsius(
    valued: Valued | None, key: str, default: float | None = None, delta: bool = False
) -> float:
    value = _number(valued, key, default)
    scale = (valued.scale if valued else None) or "CELSIUS"
    # DuerOS names CELSIUS and FAHRENHEIT; any other word is read as CELSIUS, as before.
    return units.to_celsius(
        value, "FAHRENHEIT" if scale == "FAHRENHEIT" else "CELSIUS", delta=delta
    )


@control("setTemperature")
def set_temperature(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    return Action(
        "targetTemperature", {"temperature": _celsius(p.targetTemperature, "targetTemperature")}
    )


@control("incrementTemperature", "decrementTemperature")
def step_temperature(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    delta = _celsius(p.deltaValue, "deltaValue", 1, delta=True)
    return Action(
        "adjustTargetTemperature", {"temperature": delta if action.startswith("inc") else -delta}
    )


@control("setFanSpeed")
def set_fan_speed(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    speed = p.fanSpeed
    if speed is not None and speed.level is not None:
        if speed.level not in FAN_LEVELS:
            raise malformed("fanSpeed.level")
        value = FAN_LEVELS[speed.level]
    else:
        value = round(_number(speed, "fanSpeed"))
    return Action("setRangeValue", {"rangeValue": value}, "Fan.Speed")


@control("incrementFanSpeed", "decrementFanSpeed")
def step_fan_speed(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    delta = round(_number(p.deltaValue, "deltaValue", 1))
    return Action(
        "adjustRangeValue",
        {"rangeValueDelta": delta if action.startswith("inc") else -delta},
        "Fan.Speed",
    )


@control("setMode", "unSetMode")
def set_mode(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    mode = "AUTO" if action == "unSetMode" else _text(p.mode, "mode")
    return Action("setThermostatMode", {"thermostatMode": mode.upper()})


@control("setLockState")
def set_lock(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    lock = p.lockState
    state = lock if isinstance(lock, str) else _text(lock, "lockState")
    return Action("setLockState", {"state": state.upper()})


@control("pause")
def pause(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    return Action("setMode", {"mode": "Stop"}, "Blind.Movement")


@control("continue")
def resume(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    """Curtains carry on toward where they were going (opening, unless we know better)."""
    return Action("setMode", {"mode": moving or "Open"}, "Blind.Movement")


@control("setPercentage")
def set_percentage(p: Payload, device: Device, action: str, moving: str | None) -> Action:
    return Action(
        "setRangeValue", {"rangeValue": round(_number(p.percentage, "percentage"))}, "Blind.Lift"
    )


def request_name(action: str) -> str:
    """`setBrightnessPercentage` -> `SetBrightnessPercentageRequest` (and `unSetMode`'s)."""
    return ("UnsetMode" if action == "unSetMode" else action[:1].upper() + action[1:]) + "Request"


def action_for(request_name: str) -> str:
    """`SetBrightnessPercentageRequest` -> `setBrightnessPercentage` (and DuerOS's unSetMode)."""
    base = request_name.removesuffix("Request")
    if base == "UnsetMode":
        return "unSetMode"
    return base[:1].lower() + base[1:]


def command_for(action: str, payload: Payload, device: Device, moving: str | None = None) -> Action:
    handler = CONTROLS.get(action)
    if handler is None:
        raise DuerError(UNSUPPORTED_OPERATION)
    return handler(payload, device, action, moving)
