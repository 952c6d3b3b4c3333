"""Google's device types and traits for each catalog type, both ways.

One table: what SYNC says a device is (type, traits, attributes), what
QUERY and Report State say it is in (Google's state names, from the
shadow), and which core command each EXECUTE command becomes. Names and
units follow Google's trait reference (developers.home.google.com/
cloud-to-cloud/traits); the sources of each are in tests/golden/google.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.google.errors import (
    DEVICE_TURNED_OFF,
    NOT_SUPPORTED,
    PROTOCOL_ERROR,
    VALUE_OUT_OF_RANGE,
    GoogleError,
)
from bridge.plugin import catalog, units

PREFIX_TYPE, PREFIX_TRAIT, PREFIX_COMMAND = (
    "action.devices.types.",
    "action.devices.traits.",
    "action.devices.commands.",
)
Step = tuple[str, dict[str, Any], str | None]
"""A core command: (action, value, instance)."""
Shadow = Mapping[str, Mapping[str, Any]]
"""The device's shadow: {name: {"value": ..., "sampled_at": ...}}."""

LIFT, SPEED, POSITION = "Blind.Lift", "Fan.Speed", "Door.Position"
SENSOR_STATES = {
    "smokeState": ("SmokeLevel", "smoke detected", "no smoke detected"),
    "carbonMonoxideState": (
        "CarbonMonoxideLevel",
        "carbon monoxide detected",
        "no carbon monoxide detected",
    ),
    "leakState": ("WaterLeak", "leak", "no leak"),
}
"""An alarm's shadow name: SensorState's sensor, and its states for detected and clear."""


def _range(type_name: str, capability: str) -> tuple[float, float]:
    for cap in catalog.device_type(type_name).capabilities:
        if cap.name == capability and cap.range:
            return cap.range
    raise KeyError(capability)


def _modes(type_name: str) -> tuple[str, ...]:
    for cap in catalog.device_type(type_name).capabilities:
        if cap.name == "thermostatMode":
            return cap.modes
    return ()


def _has(type_name: str, capability: str) -> bool:
    return any(c.name == capability for c in catalog.device_type(type_name).capabilities)


@dataclass(frozen=True)
class Shape:
    """What Google is told a catalog type is."""

    type: str
    traits: tuple[str, ...]
    attributes: dict[str, Any] = field(default_factory=dict)
    notifications: bool = False
    """The device sends notifications (a doorbell's ObjectDetection)."""


def _thermostat(type_name: str) -> dict[str, Any]:
    lo, hi = _range(type_name, "targetTemperature")
    modes = [m.lower() for m in _modes(type_name)]
    if _has(type_name, "powerState"):
        modes += ["off", "on"]
    return {
        "availableThermostatModes": list(dict.fromkeys(modes)),
        "thermostatTemperatureUnit": "C",
        "thermostatTemperatureRange": {"minThresholdCelsius": lo, "maxThresholdCelsius": hi},
    }


def _fan_speeds(type_name: str) -> dict[str, Any]:
    lo, hi = (int(v) for v in _range(type_name, "rangeValue"))
    return {
        "availableFanSpeeds": {
            "speeds": [
                {
                    "speed_name": f"speed_{n}",
                    "speed_values": [{"speed_synonym": [f"speed {n}", str(n)], "lang": "en"}],
                }
                for n in range(lo, hi + 1)
            ],
            "ordered": True,
        },
        "reversible": False,
        "supportsFanSpeedPercent": True,
    }


def _alarm(name: str) -> dict[str, Any]:
    sensor, detected, clear = SENSOR_STATES[name]
    states = {"availableStates": [detected, clear]}  # "unknown" is implied (trait page)
    return {"sensorStatesSupported": [{"name": sensor, "descriptiveCapabilities": states}]}


def _shapes() -> dict[str, Shape]:
    lo, hi = _range("light", "colorTemperature")
    color = {
        "colorModel": "rgb",
        "colorTemperatureRange": {"temperatureMinK": int(lo), "temperatureMaxK": int(hi)},
    }
    on_off, brightness = "OnOff", "Brightness"
    return {
        "light": Shape("LIGHT", (on_off, brightness, "ColorSetting"), color),
        "dimmer": Shape("SWITCH", (on_off, brightness)),
        "switch": Shape("SWITCH", (on_off,)),
        "plug": Shape("OUTLET", (on_off,)),
        "thermostat": Shape("THERMOSTAT", ("TemperatureSetting",), _thermostat("thermostat")),
        "air_conditioner": Shape(
            "AC_UNIT",
            (on_off, "TemperatureSetting", "FanSpeed"),
            {**_thermostat("air_conditioner"), **_fan_speeds("air_conditioner")},
        ),
        "lock": Shape("LOCK", ("LockUnlock",)),
        "blinds": Shape("BLINDS", ("OpenClose",), {"discreteOnlyOpenClose": False}),
        "fan": Shape("FAN", (on_off, "FanSpeed"), _fan_speeds("fan")),
        "temperature_sensor": Shape(
            "SENSOR",
            ("TemperatureControl", "HumiditySetting"),
            {
                "queryOnlyTemperatureControl": True,
                "temperatureUnitForUX": "C",
                "temperatureRange": {"minThresholdCelsius": -100, "maxThresholdCelsius": 150},
                "queryOnlyHumiditySetting": True,
            },
        ),
        "contact_sensor": Shape(
            "SENSOR", ("OpenClose",), {"queryOnlyOpenClose": True, "discreteOnlyOpenClose": True}
        ),
        "motion_sensor": Shape(
            "SENSOR",
            ("OccupancySensing",),
            {"occupancySensorConfiguration": [{"occupancySensorType": "PIR"}]},
        ),
        "doorbell": Shape("DOORBELL", ("ObjectDetection",), notifications=True),
        "smoke_sensor": Shape("SMOKE_DETECTOR", ("SensorState",), _alarm("smokeState")),
        "co_sensor": Shape(
            "CARBON_MONOXIDE_DETECTOR", ("SensorState",), _alarm("carbonMonoxideState")
        ),
        "leak_sensor": Shape("SENSOR", ("SensorState",), _alarm("leakState")),
        "garage_door": Shape("GARAGE", ("OpenClose",), {"discreteOnlyOpenClose": False}),
        "gate": Shape("GATE", ("OpenClose",), {"discreteOnlyOpenClose": False}),
        "scene": Shape("SCENE", ("Scene",), {"sceneReversible": True}),
    }


SHAPES = _shapes()
DOORS = ("garage_door", "gate")


def shape(type_name: str) -> Shape | None:
    return SHAPES.get(type_name)


# -- state: the shadow in Google's names ------------------------------------


def _value(shadow: Shadow, name: str) -> Any:
    sample = shadow.get(name)
    return sample.get("value") if isinstance(sample, Mapping) else None


def _newer(shadow: Shadow, a: str, b: str) -> str:
    at = {n: float((shadow.get(n) or {}).get("sampled_at") or 0) for n in (a, b)}
    return a if at[a] >= at[b] else b


def _rgb(color: Any) -> int | None:
    if isinstance(color, dict) and all(isinstance(color.get(k), int) for k in "rgb"):
        return units.rgb_to_int(color)
    return None


def _door(shadow: Shadow) -> float | None:
    """How open a door is: its position, or its last move when that came later."""
    position, name = _value(shadow, f"rangeValue:{POSITION}"), f"rangeValue:{POSITION}"
    moved = {"Open": 100, "Close": 0}.get(str(_value(shadow, "mode")))
    if isinstance(position, int | float) and (
        moved is None or _newer(shadow, name, "mode") == name
    ):
        return position
    return moved


def states(type_name: str, shadow: Shadow) -> dict[str, Any]:
    """The device's state in Google's names (without `online`): what QUERY and Report
    State carry. A value the shadow does not hold is left out, never guessed."""
    out: dict[str, Any] = {}
    power = _value(shadow, "powerState")
    if power in ("On", "Off") and type_name not in ("thermostat", "scene"):
        out["on"] = power == "On"
    if isinstance(b := _value(shadow, "brightness"), int | float):
        out["brightness"] = int(b)
    rgb, kelvin = _rgb(_value(shadow, "color")), _value(shadow, "colorTemperature")
    if rgb is not None and kelvin is not None:
        which = _newer(shadow, "color", "colorTemperature")
        rgb, kelvin = (rgb, None) if which == "color" else (None, kelvin)
    if rgb is not None:
        out["color"] = {"spectrumRgb": rgb}
    elif isinstance(kelvin, int | float):
        out["color"] = {"temperatureK": int(kelvin)}
    if type_name in ("thermostat", "air_conditioner"):
        mode = _value(shadow, "thermostatMode")
        if power == "Off":
            out["thermostatMode"] = "off"
        elif isinstance(mode, str):
            out["thermostatMode"] = mode.lower()
        for google, ours in (
            ("thermostatTemperatureSetpoint", "targetTemperature"),
            ("thermostatTemperatureAmbient", "temperature"),
            ("thermostatHumidityAmbient", "humidity"),
        ):
            if isinstance(v := _value(shadow, ours), int | float):
                out[google] = v
    elif type_name == "temperature_sensor":
        for google, ours in (
            ("temperatureAmbientCelsius", "temperature"),
            ("humidityAmbientPercent", "humidity"),
        ):
            if isinstance(v := _value(shadow, ours), int | float):
                out[google] = v
    if (lock := _value(shadow, "lockState")) in ("LOCKED", "UNLOCKED", "JAMMED"):
        out["isLocked"] = lock == "LOCKED"
        out["isJammed"] = lock == "JAMMED"
    if isinstance(lift := _value(shadow, f"rangeValue:{LIFT}"), int | float):
        out["openPercent"] = lift
    if type_name in DOORS and (door := _door(shadow)) is not None:
        out["openPercent"] = door
    alarms = [
        {"name": sensor, "currentSensorState": detected if value == "detected" else clear}
        for name, (sensor, detected, clear) in SENSOR_STATES.items()
        if (value := _value(shadow, name)) in catalog.ALARM
    ]
    if alarms:
        out["currentSensorStateData"] = alarms
    if (contact := _value(shadow, "contactState")) in ("open", "closed"):
        out["openPercent"] = 100 if contact == "open" else 0
    if (motion := _value(shadow, "motion")) in ("detected", "notDetected"):
        out["occupancy"] = "OCCUPIED" if motion == "detected" else "UNOCCUPIED"
    if isinstance(speed := _value(shadow, f"rangeValue:{SPEED}"), int | float):
        hi = _range(type_name, "rangeValue")[1]
        out["currentFanSpeedSetting"] = f"speed_{int(speed)}"
        out["currentFanSpeedPercent"] = round(speed * 100 / hi)
    percent = _value(shadow, "percentage")
    if isinstance(percent, int | float) and _newer(shadow, "percentage", f"rangeValue:{SPEED}") == (
        "percentage"
    ):  # the fan's percentage, when it said it after its named speed
        out["currentFanSpeedPercent"] = round(percent)
    return out


def opens(type_name: str, command: str, params: Mapping[str, Any]) -> bool:
    """Whether a command opens a garage door or a gate (which Google confirms first)."""
    if type_name not in DOORS or command not in ("OpenClose", "OpenCloseRelative"):
        return False
    moved = params.get("openPercent", params.get("openRelativePercent"))
    return not isinstance(moved, int | float) or moved > 0


def reported(type_name: str) -> set[str]:
    """The shadow names whose change Google needs to hear of, for a type."""
    names = set()
    for cap in catalog.device_type(type_name).capabilities:
        names |= set(cap.named_state())
    return names


# -- commands: EXECUTE's commands as core commands --------------------------


def _number(params: Mapping[str, Any], key: str) -> float:
    v = params.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise GoogleError(PROTOCOL_ERROR, f"params.{key} must be a number")
    return v


def _flag(params: Mapping[str, Any], key: str) -> bool:
    v = params.get(key)
    if not isinstance(v, bool):
        raise GoogleError(PROTOCOL_ERROR, f"params.{key} must be true or false")
    return v


def _on_off(type_name: str, params: Mapping[str, Any], shadow: Shadow) -> list[Step]:
    return [("setPowerState", {"state": "On" if _flag(params, "on") else "Off"}, None)]


def _brightness(type_name: str, params: Mapping[str, Any], shadow: Shadow) -> list[Step]:
    return [("setBrightness", {"brightness": round(_number(params, "brightness"))}, None)]


def _brightness_relative(type_name: str, params: Mapping[str, Any], shadow: Shadow) -> list[Step]:
    if "brightnessRelativePercent" in params:
        delta = _number(params, "brightnessRelativePercent")
    else:
        delta = _number(params, "brightnessRelativeWeight") * 10  # a weight step is 10%
    return [("adjustBrightness", {"brightnessDelta": round(max(-100, min(100, delta)))}, None)]


def _color(type_name: str, params: Mapping[str, Any], shadow: Shadow) -> list[Step]:
    color = params.get("color")
    if not isinstance(color, dict):
        raise GoogleError(PROTOCOL_ERROR, "params.color must be an object")
    if "temperature" in color:
        kelvin = _number(color, "temperature")
        return [("setColorTemperature", {"colorTemperature": round(kelvin)}, None)]
    if "spectrumRGB" in color:
        rgb = int(_number(color, "spectrumRGB"))
        if not 0 <= rgb <= 0xFFFFFF:
            raise GoogleError(VALUE_OUT_OF_RANGE, "spectrumRGB must be a 24-bit colour")
        return [("setColor", {"color": units.rgb_from_int(rgb)}, None)]
    hsv = color.get("spectrumHSV")
    if isinstance(hsv, dict):
        hue, sat, val = (_number(hsv, k) for k in ("hue", "saturation", "value"))
        if not (0 <= hue <= 360 and 0 <= sat <= 1 and 0 <= val <= 1):
            raise GoogleError(VALUE_OUT_OF_RANGE, "spectrumHSV is out of range")
        return [("setColor", {"color": units.hsv_to_rgb(hue, sat, val)}, None)]
    raise GoogleError(NOT_SUPPORTED, "only RGB, HSV and colour temperatures are supported")


def _powered_off(type_name: str, shadow: Shadow) -> bool:
    return _has(type_name, "powerState") and _value(shadow, "powerState") == "Off"


def _setpoint(type_name: str, params: Mapping[str, Any], shadow: Shadow) -> list[Step]:
    if _powered_off(type_name, shadow) or _value(shadow, "thermostatMode") == "OFF":
        raise GoogleError(DEVICE_TURNED_OFF, "the device is off")
    value = _number(params, "thermostatTemperatureSetpoint")
    return [("targetTemperature", {"temperature": value}, None)]


def _setpoint_relative(type_name: str, params: Mapping[str, Any], shadow: Shadow) -> list[Step]:
    if _powered_off(type_name, shadow):
        raise GoogleError(DEVICE_TURNED_OFF, "the device is off")
    if "thermostatTemperatureRelativeDegree" in params:
        delta = _number(params, "thermostatTemperatureRelativeDegree")
    else:
        delta = _number(params, "thermostatTemperatureRelativeWeight")  # a degree a step
    return [("adjustTargetTemperature", {"temperature": max(-50, min(50, delta))}, None)]


def _thermostat_mode(type_name: str, params: Mapping[str, Any], shadow: Shadow) -> list[Step]:
    mode = params.get("thermostatMode")
    modes = _modes(type_name)
    power = _has(type_name, "powerState")
    if mode == "on" and power:
        return [("setPowerState", {"state": "On"}, None)]
    if mode == "off":
        if "OFF" in modes:
            return [("setThermostatMode", {"thermostatMode": "OFF"}, None)]
        if power:
            return [("setPowerState", {"state": "Off"}, None)]
    if not isinstance(mode, str) or mode.upper() not in modes:
        raise GoogleError(NOT_SUPPORTED, f"thermostat mode {str(mode)[:20]!r} is not supported")
    steps: list[Step] = []
    if _powered_off(type_name, shadow):  # "set it to cool" turns it on, as a person means
        steps.append(("setPowerState", {"state": "On"}, None))
    return [*steps, ("setThermostatMode", {"thermostatMode": mode.upper()}, None)]


def _open_close(type_name: str, params: Mapping[str, Any], shadow: Shadow) -> list[Step]:
    if type_name in DOORS:  # fully open or shut is the door's own move; between, a position
        percent = round(_number(params, "openPercent"))
        if percent in (0, 100):
            return [("setMode", {"mode": "Open" if percent else "Close"}, None)]
        return [("setRangeValue", {"rangeValue": percent}, POSITION)]
    if type_name != "blinds":
        raise GoogleError(NOT_SUPPORTED, "the device only reports whether it is open")
    return [("setRangeValue", {"rangeValue": round(_number(params, "openPercent"))}, LIFT)]


def _open_close_relative(type_name: str, params: Mapping[str, Any], shadow: Shadow) -> list[Step]:
    if type_name not in ("blinds", *DOORS):
        raise GoogleError(NOT_SUPPORTED, "the device only reports whether it is open")
    delta = round(_number(params, "openRelativePercent"))
    instance = POSITION if type_name in DOORS else LIFT
    return [("adjustRangeValue", {"rangeValueDelta": max(-100, min(100, delta))}, instance)]


def _fan_speed(type_name: str, params: Mapping[str, Any], shadow: Shadow) -> list[Step]:
    lo, hi = (int(v) for v in _range(type_name, "rangeValue"))
    if "fanSpeedPercent" in params:
        percent = _number(params, "fanSpeedPercent")
        if not 0 <= percent <= 100:
            raise GoogleError(VALUE_OUT_OF_RANGE, "fanSpeedPercent must be 0 to 100")
        if _has(type_name, "percentage"):  # "set the fan to 40%", as the fan takes it
            return [("setPercentage", {"percentage": round(percent)}, None)]
        speed = max(lo, math.ceil(percent * hi / 100))
    else:
        name = params.get("fanSpeed")
        prefix = "speed_"
        if not (isinstance(name, str) and name.startswith(prefix) and name[6:].isdigit()):
            raise GoogleError(VALUE_OUT_OF_RANGE, "unknown fan speed")
        speed = int(name[len(prefix) :])
    return [("setRangeValue", {"rangeValue": speed}, SPEED)]


def _fan_relative(type_name: str, params: Mapping[str, Any], shadow: Shadow) -> list[Step]:
    hi = int(_range(type_name, "rangeValue")[1])
    if "fanSpeedRelativeWeight" in params:
        delta = round(_number(params, "fanSpeedRelativeWeight"))
    else:
        delta = round(_number(params, "fanSpeedRelativePercent") * hi / 100)
    return [("adjustRangeValue", {"rangeValueDelta": max(-hi, min(hi, delta))}, SPEED)]


def _lock(type_name: str, params: Mapping[str, Any], shadow: Shadow) -> list[Step]:
    return [("setLockState", {"state": "LOCKED" if _flag(params, "lock") else "UNLOCKED"}, None)]


def _scene(type_name: str, params: Mapping[str, Any], shadow: Shadow) -> list[Step]:
    deactivate = params.get("deactivate", False)
    if not isinstance(deactivate, bool):
        raise GoogleError(PROTOCOL_ERROR, "params.deactivate must be true or false")
    return [("setPowerState", {"state": "Off" if deactivate else "On"}, None)]


COMMANDS: dict[str, tuple[str, Callable[[str, Mapping[str, Any], Shadow], list[Step]]]] = {
    "OnOff": ("OnOff", _on_off),
    "BrightnessAbsolute": ("Brightness", _brightness),
    "BrightnessRelative": ("Brightness", _brightness_relative),
    "ColorAbsolute": ("ColorSetting", _color),
    "ThermostatTemperatureSetpoint": ("TemperatureSetting", _setpoint),
    "TemperatureRelative": ("TemperatureSetting", _setpoint_relative),
    "ThermostatSetMode": ("TemperatureSetting", _thermostat_mode),
    "OpenClose": ("OpenClose", _open_close),
    "OpenCloseRelative": ("OpenClose", _open_close_relative),
    "SetFanSpeed": ("FanSpeed", _fan_speed),
    "SetFanSpeedRelativeSpeed": ("FanSpeed", _fan_relative),
    "LockUnlock": ("LockUnlock", _lock),
    "ActivateScene": ("Scene", _scene),
}
"""Each EXECUTE command (without its prefix): the trait it belongs to, and its translation."""


def commands(type_name: str, command: str, params: Mapping[str, Any], shadow: Shadow) -> list[Step]:
    """The core commands one EXECUTE command is, for a device of the type.

    Raises GoogleError: notSupported for a command the device's traits do not
    have, valueOutOfRange or protocolError for parameters that do not fit.
    """
    found = shape(type_name)
    entry = COMMANDS.get(command.removeprefix(PREFIX_COMMAND))
    if found is None or entry is None or entry[0] not in found.traits:
        raise GoogleError(NOT_SUPPORTED, f"{command[:80]} is not supported by this device")
    return entry[1](type_name, params, shadow)
