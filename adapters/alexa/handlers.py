"""Control directives to device commands: one small function per directive.

A handler turns the directive's payload into the device action it means; it
never builds a reply (the dispatcher answers with the device-confirmed state)
and never builds error JSON (it raises, and one catch site answers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.alexa.capabilities import Door, Endpoint
from adapters.alexa.directive import Directive, Temperature
from adapters.alexa.errors import DualSetpointsUnsupported, InvalidValue, TemperatureOutOfRange
from bridge.plugin import Registry, units


@dataclass(frozen=True)
class Action:
    """A device action in the core's vocabulary."""

    name: str
    value: dict[str, Any]
    instance: str | None = None


Handler = Callable[[Directive, Endpoint], Action]
ACTIONS: Registry[Handler] = Registry()
"""Each control directive's translation, by Alexa's (namespace, name)."""


def register(namespace: str, *names: str) -> Callable[[Handler], Handler]:
    return ACTIONS.register(*((namespace, name) for name in names))


def _number(value: float | None, key: str) -> float:
    if value is None:
        raise InvalidValue(f"{key} is required")
    return value


@register("Alexa.PowerController", "TurnOn", "TurnOff")
def power(d: Directive, e: Endpoint) -> Action:
    return Action("setPowerState", {"state": "On" if d.name == "TurnOn" else "Off"})


@register("Alexa.BrightnessController", "SetBrightness", "AdjustBrightness")
def brightness(d: Directive, e: Endpoint) -> Action:
    if d.name == "SetBrightness":
        return Action("setBrightness", {"brightness": _number(d.payload.brightness, "brightness")})
    delta = _number(d.payload.brightnessDelta, "brightnessDelta")
    return Action("adjustBrightness", {"brightnessDelta": delta})


@register("Alexa.PercentageController", "SetPercentage", "AdjustPercentage")
def percentage(d: Directive, e: Endpoint) -> Action:
    if d.name == "SetPercentage":
        return Action("setPercentage", {"percentage": _number(d.payload.percentage, "percentage")})
    delta = _number(d.payload.percentageDelta, "percentageDelta")
    return Action("adjustPercentage", {"percentage": delta})


@register("Alexa.ColorController", "SetColor")
def color(d: Directive, e: Endpoint) -> Action:
    hsb = d.payload.color
    if hsb is None:
        raise InvalidValue("color must be an object with hue, saturation and brightness")
    hue, sat, bri = hsb.hue, hsb.saturation, hsb.brightness
    if not (0 <= hue <= 360 and 0 <= sat <= 1 and 0 <= bri <= 1):
        raise InvalidValue("hue is 0-360, saturation and brightness 0-1")
    return Action("setColor", {"color": units.hsv_to_rgb(hue, sat, bri)})


@register(
    "Alexa.ColorTemperatureController",
    "SetColorTemperature",
    "IncreaseColorTemperature",
    "DecreaseColorTemperature",
)
def color_temperature(d: Directive, e: Endpoint) -> Action:
    if d.name == "SetColorTemperature":
        kelvin = _number(d.payload.colorTemperatureInKelvin, "colorTemperatureInKelvin")
        return Action("setColorTemperature", {"colorTemperature": kelvin})
    action = "increase" if d.name.startswith("Increase") else "decrease"
    return Action(f"{action}ColorTemperature", {})


def _celsius(setpoint: Temperature | None, *, delta: bool = False) -> float:
    if setpoint is None:
        raise InvalidValue("a temperature is an object with value and scale")
    try:
        return units.to_celsius(setpoint.value, setpoint.scale, delta=delta)
    except ValueError:
        raise InvalidValue("scale is CELSIUS, FAHRENHEIT or KELVIN") from None


@register(
    "Alexa.ThermostatController",
    "SetTargetTemperature",
    "AdjustTargetTemperature",
    "SetThermostatMode",
)
def thermostat(d: Directive, e: Endpoint) -> Action:
    if d.name == "SetThermostatMode":
        mode = d.payload.thermostatMode
        return Action("setThermostatMode", {"thermostatMode": mode.value if mode else None})
    if d.name == "AdjustTargetTemperature":
        delta = _celsius(d.payload.targetSetpointDelta, delta=True)
        return Action("adjustTargetTemperature", {"temperature": delta})
    if d.payload.lowerSetpoint is not None or d.payload.upperSetpoint is not None:
        raise DualSetpointsUnsupported("this thermostat takes a single target temperature")
    target = _celsius(d.payload.targetSetpoint)
    stat = e.find("Alexa.ThermostatController")
    if stat and stat.cap and stat.cap.range:
        low, high = stat.cap.range
        if not low <= target <= high:
            raise TemperatureOutOfRange(
                f"the target must be between {low:g} and {high:g} C",
                validRange={
                    "minimumValue": {"value": low, "scale": "CELSIUS"},
                    "maximumValue": {"value": high, "scale": "CELSIUS"},
                },
            )
    return Action("targetTemperature", {"temperature": target})


@register("Alexa.LockController", "Lock", "Unlock")
def lock(d: Directive, e: Endpoint) -> Action:
    return Action("setLockState", {"state": "LOCKED" if d.name == "Lock" else "UNLOCKED"})


@register("Alexa.RangeController", "SetRangeValue", "AdjustRangeValue")
def range_value(d: Directive, e: Endpoint) -> Action:
    if d.name == "SetRangeValue":
        value = _number(d.payload.rangeValue, "rangeValue")
        return Action("setRangeValue", {"rangeValue": value}, d.instance)
    delta = _number(d.payload.rangeValueDelta, "rangeValueDelta")
    return Action("adjustRangeValue", {"rangeValueDelta": delta}, d.instance)


@register("Alexa.ModeController", "SetMode")
def mode(d: Directive, e: Endpoint) -> Action:
    value = d.payload.mode
    found = e.find("Alexa.ModeController", d.instance)
    ours = found.device_mode(value) if found is not None and value is not None else None
    if found is None or ours is None:
        raise InvalidValue(f"mode must be one of this instance's modes ({d.instance}...)")
    return Action("setMode", {"mode": ours}, None if isinstance(found, Door) else d.instance)


@register("Alexa.SceneController", "Activate", "Deactivate")
def scene(d: Directive, e: Endpoint) -> Action:
    return Action("setPowerState", {"state": "On" if d.name == "Activate" else "Off"})


@register("Alexa.ToggleController", "TurnOn", "TurnOff")
def toggle(d: Directive, e: Endpoint) -> Action:
    return Action("setToggleState", {"state": "On" if d.name == "TurnOn" else "Off"}, d.instance)
