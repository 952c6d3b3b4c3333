"""Device types as Tmall Genie sees them: categories, properties, actions, value codecs.

v1 speaks strings ("on", "80", "Red"), v2 numbers (1, 80, 16711680); one table
serves both through the codecs below.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from bridge.plugin import catalog

COLORS = {
    "Red": (255, 0, 0),
    "Orange": (255, 128, 0),
    "Yellow": (255, 255, 0),
    "Green": (0, 255, 0),
    "Cyan": (0, 255, 255),
    "Blue": (0, 0, 255),
    "Purple": (128, 0, 255),
    "Pink": (255, 105, 180),
    "White": (255, 255, 255),
}
MODES = {"COOL": "cold", "HEAT": "heat", "AUTO": "auto", "ECO": "energy", "OFF": "off"}
TYPES = {
    "light": "light",
    "dimmer": "light",
    "switch": "switch",
    "plug": "outlet",
    "thermostat": "aircondition",
    "air_conditioner": "aircondition",
    "blinds": "curtain",
    "fan": "fan",
    "temperature_sensor": "sensor",
    "contact_sensor": "sensor",
    "motion_sensor": "sensor",
}
"""Locks, doorbells and scenes have no Tmall Genie control directives, so they stay out."""


@dataclass(frozen=True)
class Prop:
    name: str  # Tmall Genie's property name
    shadow: str  # the shadow name it reads

    def v1(self, raw: Any) -> str:
        if self.name == "powerstate":
            return "on" if raw == "On" else "off"
        if self.name == "color":
            rgb = (raw["r"], raw["g"], raw["b"])
            return min(
                COLORS, key=lambda n: sum((a - b) ** 2 for a, b in zip(COLORS[n], rgb, strict=True))
            )
        if self.name == "mode":
            return MODES.get(raw, str(raw).lower())
        if self.name == "curtainPosition":
            return str(raw)
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        return str(raw)

    def v2(self, raw: Any) -> Any:
        if self.name == "powerstate":
            return 1 if raw == "On" else 0
        if self.name == "color":
            return (raw["r"] << 16) | (raw["g"] << 8) | raw["b"]
        if self.name == "mode":
            return MODES.get(raw, str(raw).lower())
        if self.name in ("contactState", "motion"):
            return 1 if raw in ("open", "detected") else 0
        return raw


@dataclass(frozen=True)
class Profile:
    device_type: str
    props: tuple[Prop, ...]
    actions: tuple[str, ...]  # v1 directive names, queries included

    def prop(self, name: str) -> Prop | None:
        return next((p for p in self.props if p.name == name), None)


def _parts(cap: catalog.Capability) -> tuple[tuple[Prop, ...], tuple[str, ...]]:
    if cap.name == "powerState":
        return (Prop("powerstate", "powerState"),), ("TurnOn", "TurnOff", "QueryPowerState")
    if cap.name == "brightness":
        return (Prop("brightness", "brightness"),), (
            "SetBrightness",
            "AdjustUpBrightness",
            "AdjustDownBrightness",
            "QueryBrightness",
        )
    if cap.name == "color":
        return (Prop("color", "color"),), ("SetColor", "QueryColor")
    if cap.name == "colorTemperature":
        return (Prop("colorTemperature", "colorTemperature"),), ("SetColorTemperature",)
    if cap.name == "targetTemperature":
        return (Prop("temperature", "targetTemperature"),), (
            "SetTemperature",
            "AdjustUpTemperature",
            "AdjustDownTemperature",
            "QueryTemperature",
        )
    if cap.name == "thermostatMode":
        return (Prop("mode", "thermostatMode"),), ("SetMode", "QueryMode")
    if cap.name == "currentTemperature":
        return (Prop("temperature", "temperature"), Prop("humidity", "humidity")), (
            "QueryTemperature",
            "QueryHumidity",
        )
    if cap.name == "rangeValue" and cap.instance == "Fan.Speed":
        return (Prop("windspeed", "rangeValue:Fan.Speed"),), (
            "SetWindSpeed",
            "AdjustUpWindSpeed",
            "AdjustDownWindSpeed",
            "QueryWindSpeed",
        )
    if cap.name == "rangeValue" and cap.instance == "Blind.Lift":
        return (Prop("curtainPosition", "rangeValue:Blind.Lift"),), (
            "TurnOn",
            "TurnOff",
            "Open",
            "Close",
        )
    if cap.name == "mode" and cap.instance == "Blind.Movement":
        return (), ("Pause",)
    if cap.name == "contactState":
        return (Prop("contactState", "contactState"),), ()
    if cap.name == "motion":
        return (Prop("motion", "motion"),), ()
    return (), ()


@functools.cache
def profile(type_name: str) -> Profile | None:
    if type_name not in TYPES:
        return None
    props: dict[str, Prop] = {}
    actions: dict[str, None] = {}
    for cap in catalog.TYPES[type_name].capabilities:
        more_props, more_actions = _parts(cap)
        for prop in more_props:
            props.setdefault(prop.name, prop)  # a thermostat's temperature is its target
        actions.update(dict.fromkeys(more_actions))
    actions["Query"] = None
    return Profile(TYPES[type_name], tuple(props.values()), tuple(actions))


def state(profile: Profile, shadow: dict[str, dict[str, Any]], version: int) -> dict[str, Any]:
    """{property: value} from the shadow, in the protocol generation's own encoding."""
    out = {}
    for prop in profile.props:
        if prop.shadow in shadow:
            raw = shadow[prop.shadow]["value"]
            out[prop.name] = prop.v2(raw) if version == 2 else prop.v1(raw)
    return out
