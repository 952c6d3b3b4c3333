"""DuerOS attributes and actions, from a device's catalog capabilities.

One table says, per capability, which attribute carries its state (name,
shadow name, scale, legal values) and which actions DuerOS may send for it;
discovery, confirmations, queries and change reports all read it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from bridge.plugin import catalog, units


@dataclass(frozen=True)
class Attribute:
    name: str
    shadow: str
    scale: str = ""
    legal: str = ""

    def value(self, raw: Any) -> Any:
        if self.name == "turnOnState":
            return "ON" if raw == "On" else "OFF"
        if self.name == "color":
            return units.hsb(raw)
        return raw


@dataclass(frozen=True)
class Profile:
    """A device type as DuerOS sees it."""

    appliance_type: str
    actions: tuple[str, ...]
    attributes: tuple[Attribute, ...]

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)


TYPES = {
    "light": "LIGHT",
    "dimmer": "LIGHT",
    "switch": "SWITCH",
    "plug": "SOCKET",
    "thermostat": "AIR_CONDITION",
    "air_conditioner": "AIR_CONDITION",
    "lock": "SWITCH",
    "blinds": "CURTAIN",
    "fan": "FAN",
    "doorbell": "DOOR_BELL",
    "scene": "SCENE_TRIGGER",
}
"""Pure sensors have no DuerOS type (it refuses devices without actions), so they stay out."""


def _range(cap: catalog.Capability) -> str:
    low, high = cap.range or (0, 100)
    return f"[{low:g}, {high:g}]"


def _for(cap: catalog.Capability, type_name: str) -> tuple[tuple[str, ...], tuple[Attribute, ...]]:
    name, instance = cap.name, cap.instance
    if name == "powerState":
        return ("turnOn", "turnOff", "getTurnOnState"), (
            Attribute("turnOnState", "powerState", legal="(ON, OFF)"),
        )
    if name == "brightness":
        return (
            "setBrightnessPercentage",
            "incrementBrightnessPercentage",
            "decrementBrightnessPercentage",
        ), (Attribute("brightness", "brightness", "%", "[0, 100]"),)
    if name == "color":
        return ("setColor",), (Attribute("color", "color", legal="OBJECT"),)
    if name == "colorTemperature":
        return ("setColorTemperature", "incrementColorTemperature", "decrementColorTemperature"), (
            Attribute("colorTemperatureInKelvin", "colorTemperature", "K", _range(cap)),
        )
    if name == "targetTemperature":
        return (
            "setTemperature",
            "incrementTemperature",
            "decrementTemperature",
            "getTargetTemperature",
        ), (Attribute("targetTemperature", "targetTemperature", "CELSIUS", _range(cap)),)
    if name == "thermostatMode":
        return ("setMode", "unSetMode"), (
            Attribute("mode", "thermostatMode", legal=f"({', '.join(cap.modes)})"),
        )
    if name == "currentTemperature":
        return ("getTemperatureReading", "getHumidity"), (
            Attribute("temperature", "temperature", "CELSIUS"),
            Attribute("humidity", "humidity", "%"),
        )
    if name == "lockState":
        return ("setLockState", "getLockState"), (
            Attribute("lockState", "lockState", legal="(LOCKED, UNLOCKED, JAMMED)"),
        )
    if name == "rangeValue" and instance == "Fan.Speed":
        return ("setFanSpeed", "incrementFanSpeed", "decrementFanSpeed", "getFanSpeed"), (
            Attribute("fanSpeed", "rangeValue:Fan.Speed", "", _range(cap)),
        )
    if name == "rangeValue" and instance == "Blind.Lift":
        return ("turnOn", "turnOff", "setPercentage"), (
            Attribute("percentage", "rangeValue:Blind.Lift", "%", "[0, 100]"),
        )
    if name == "mode" and instance == "Blind.Movement":
        return ("pause", "continue"), ()
    if name == catalog.METERED:  # DuerOS's attribute for watts; it has none for energy
        return (), (Attribute("powerLevel", "power", "W", "DOUBLE"),)
    if name == "scene":
        return ("turnOn",), ()
    return (), ()


@functools.cache
def profile(type_name: str) -> Profile | None:
    if type_name not in TYPES:
        return None
    actions: dict[str, None] = {}
    attributes: list[Attribute] = []
    for cap in catalog.TYPES[type_name].capabilities:
        more_actions, more_attributes = _for(cap, type_name)
        actions.update(dict.fromkeys(more_actions))
        attributes.extend(more_attributes)
    return Profile(TYPES[type_name], tuple(actions), tuple(attributes))


def sample(attribute: Attribute, entry: dict[str, Any]) -> dict[str, Any]:
    out = {
        "name": attribute.name,
        "value": attribute.value(entry["value"]),
        "scale": attribute.scale,
        "timestampOfSample": int(entry["sampled_at"]),
        "uncertaintyInMilliseconds": 0,
    }
    if attribute.legal:
        out["legalValue"] = attribute.legal
    return out
