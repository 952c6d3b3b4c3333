"""Alexa interfaces built from a device's catalog capabilities.

One class per interface; each knows its discovery entry, how to read its
properties from the device shadow, and which shadow names it reports, so
discovery, Response context, StateReport and ChangeReport all come from the
same place.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from bridge.plugin import catalog, units

Shadow = dict[str, dict[str, Any]]
UNCERTAINTY_MS = 500


@dataclass
class Interface:
    interface: ClassVar[str]
    properties: ClassVar[tuple[tuple[str, str], ...]] = ()
    """(Alexa property name, shadow name) pairs."""
    cap: catalog.Capability | None = None
    instance: str | None = None
    retrievable: bool = True

    def discovery(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "type": "AlexaInterface",
            "interface": self.interface,
            "version": "3",
        }
        if self.instance:
            entry["instance"] = self.instance
        names = [name for name, _ in self.properties]
        entry["properties"] = {
            "supported": [{"name": n} for n in names],
            "proactivelyReported": True,
            "retrievable": self.retrievable,
        }
        entry.update(self.extra_discovery())
        return entry

    def extra_discovery(self) -> dict[str, Any]:
        return {}

    def shadow_names(self) -> list[str]:
        return [self._key(shadow) for _, shadow in self.properties]

    def _key(self, shadow: str) -> str:
        return f"{shadow}:{self.instance}" if self.instance else shadow

    def read(self, shadow: Shadow, only: set[str] | None = None) -> list[dict[str, Any]]:
        """Alexa properties from the shadow (only the given shadow names, if given)."""
        out = []
        for name, shadow_name in self.properties:
            key = self._key(shadow_name)
            sample = shadow.get(key)
            if sample is None or (only is not None and key not in only):
                continue
            prop = {
                "namespace": self.interface,
                "name": name,
                "value": self.to_alexa(name, sample["value"]),
                "timeOfSample": sample["sampled_at"],
                "uncertaintyInMilliseconds": UNCERTAINTY_MS,
            }
            if self.instance:
                prop["instance"] = self.instance
            out.append(prop)
        return out

    def to_alexa(self, name: str, value: Any) -> Any:
        return value

    def device_mode(self, value: str) -> str | None:
        """A ModeController's value as the device's mode; None when it is not one of its."""
        return None


class Power(Interface):
    interface = "Alexa.PowerController"
    properties = (("powerState", "powerState"),)

    def to_alexa(self, name: str, value: Any) -> Any:
        return "ON" if value == "On" else "OFF"


class Brightness(Interface):
    interface = "Alexa.BrightnessController"
    properties = (("brightness", "brightness"),)


class Percentage(Interface):
    interface = "Alexa.PercentageController"
    properties = (("percentage", "percentage"),)


class Color(Interface):
    interface = "Alexa.ColorController"
    properties = (("color", "color"),)

    def to_alexa(self, name: str, value: Any) -> Any:
        return units.hsb(value)


class ColorTemperature(Interface):
    interface = "Alexa.ColorTemperatureController"
    properties = (("colorTemperatureInKelvin", "colorTemperature"),)


@dataclass
class Thermostat(Interface):
    interface = "Alexa.ThermostatController"
    properties = (("targetSetpoint", "targetTemperature"), ("thermostatMode", "thermostatMode"))
    modes: tuple[str, ...] = ()

    def extra_discovery(self) -> dict[str, Any]:
        return {
            "configuration": {
                "supportedModes": [m for m in self.modes if m != "OFF"],
                "supportsScheduling": False,
            }
        }

    def to_alexa(self, name: str, value: Any) -> Any:
        return {"value": value, "scale": "CELSIUS"} if name == "targetSetpoint" else value


class TemperatureSensor(Interface):
    interface = "Alexa.TemperatureSensor"
    properties = (("temperature", "temperature"),)

    def to_alexa(self, name: str, value: Any) -> Any:
        return {"value": value, "scale": "CELSIUS"}


class Lock(Interface):
    interface = "Alexa.LockController"
    properties = (("lockState", "lockState"),)


class Range(Interface):
    interface = "Alexa.RangeController"
    properties = (("rangeValue", "rangeValue"),)
    FRIENDLY: ClassVar[dict[str, list[dict[str, Any]]]] = {
        "Fan.Speed": [{"@type": "asset", "value": {"assetId": "Alexa.Setting.FanSpeed"}}],
        "Blind.Lift": [{"@type": "asset", "value": {"assetId": "Alexa.Setting.Opening"}}],
    }

    def extra_discovery(self) -> dict[str, Any]:
        low, high = self.cap.range if self.cap and self.cap.range else (0, 100)
        names = self.FRIENDLY.get(
            self.instance or "",
            [{"@type": "text", "value": {"text": self.instance or "Range", "locale": "en-US"}}],
        )
        out: dict[str, Any] = {
            "capabilityResources": {"friendlyNames": names},
            "configuration": {
                "supportedRange": {"minimumValue": low, "maximumValue": high, "precision": 1},
                "unitOfMeasure": "Alexa.Unit.Percent",
            },
        }
        if self.instance == "Blind.Lift":
            out["semantics"] = {
                "actionMappings": [
                    {
                        "@type": "ActionsToDirective",
                        "actions": ["Alexa.Actions.Open"],
                        "directive": {"name": "SetRangeValue", "payload": {"rangeValue": high}},
                    },
                    {
                        "@type": "ActionsToDirective",
                        "actions": ["Alexa.Actions.Close"],
                        "directive": {"name": "SetRangeValue", "payload": {"rangeValue": low}},
                    },
                ]
            }
        else:
            del out["configuration"]["unitOfMeasure"]
        return out


class Mode(Interface):
    interface = "Alexa.ModeController"
    properties = (("mode", "mode"),)

    def extra_discovery(self) -> dict[str, Any]:
        modes = self.cap.modes if self.cap else ()
        return {
            "capabilityResources": {
                "friendlyNames": [
                    {
                        "@type": "text",
                        "value": {
                            "text": (self.instance or "Mode").split(".")[-1],
                            "locale": "en-US",
                        },
                    }
                ]
            },
            "configuration": {
                "ordered": False,
                "supportedModes": [
                    {
                        "value": f"{self.instance}.{m}",
                        "modeResources": {
                            "friendlyNames": [
                                {"@type": "text", "value": {"text": m, "locale": "en-US"}}
                            ]
                        },
                    }
                    for m in modes
                ],
            },
        }

    def to_alexa(self, name: str, value: Any) -> Any:
        return f"{self.instance}.{value}"

    def device_mode(self, value: str) -> str | None:
        prefix = f"{self.instance}."
        return value[len(prefix) :] if value.startswith(prefix) else None


class Door(Interface):
    """A garage door or gate as Amazon's garage-door guidance has it: a ModeController
    `GarageDoor.Position` with Up and Down, and Open/Close/Raise/Lower mapped onto them.
    Alexa asks the user for their voice PIN before it sends an opening."""

    interface = "Alexa.ModeController"
    properties = (("mode", "mode"),)
    MODES: ClassVar[dict[str, str]] = {"Open": "Position.Up", "Close": "Position.Down"}

    def _key(self, shadow: str) -> str:
        return shadow  # the door's mode has no instance in the device's vocabulary

    def read(self, shadow: Shadow, only: set[str] | None = None) -> list[dict[str, Any]]:
        sample = shadow.get("mode")
        if sample is None or sample["value"] not in self.MODES:
            return []  # stopped half-way: neither Up nor Down, so nothing to say
        return super().read(shadow, only)

    def to_alexa(self, name: str, value: Any) -> Any:
        return self.MODES[value]

    def device_mode(self, value: str) -> str | None:
        return next((ours for ours, theirs in self.MODES.items() if theirs == value), None)

    def extra_discovery(self) -> dict[str, Any]:
        def names(*assets: str) -> list[dict[str, Any]]:
            return [{"@type": "asset", "value": {"assetId": a}} for a in assets]

        def to(mode: str) -> dict[str, Any]:
            return {"name": "SetMode", "payload": {"mode": mode}}

        up, down = self.MODES["Open"], self.MODES["Close"]
        return {
            "capabilityResources": {"friendlyNames": names("Alexa.Setting.Mode")},
            "configuration": {
                "ordered": False,
                "supportedModes": [
                    {"value": up, "modeResources": {"friendlyNames": names("Alexa.Value.Open")}},
                    {
                        "value": down,
                        "modeResources": {"friendlyNames": names("Alexa.Value.Close")},
                    },
                ],
            },
            "semantics": {
                "actionMappings": [
                    {
                        "@type": "ActionsToDirective",
                        "actions": ["Alexa.Actions.Open", "Alexa.Actions.Raise"],
                        "directive": to(up),
                    },
                    {
                        "@type": "ActionsToDirective",
                        "actions": ["Alexa.Actions.Close", "Alexa.Actions.Lower"],
                        "directive": to(down),
                    },
                ],
                "stateMappings": [
                    {"@type": "StatesToValue", "states": ["Alexa.States.Open"], "value": up},
                    {"@type": "StatesToValue", "states": ["Alexa.States.Closed"], "value": down},
                ],
            },
        }


class ContactSensor(Interface):
    interface = "Alexa.ContactSensor"
    properties = (("detectionState", "contactState"),)

    def to_alexa(self, name: str, value: Any) -> Any:
        return "DETECTED" if value == "open" else "NOT_DETECTED"


class MotionSensor(Interface):
    interface = "Alexa.MotionSensor"
    properties = (("detectionState", "motion"),)

    def to_alexa(self, name: str, value: Any) -> Any:
        return "DETECTED" if value == "detected" else "NOT_DETECTED"


class Doorbell(Interface):
    interface = "Alexa.DoorbellEventSource"

    def discovery(self) -> dict[str, Any]:
        return {
            "type": "AlexaInterface",
            "interface": self.interface,
            "version": "3",
            "proactivelyReported": True,
        }


class Scene(Interface):
    interface = "Alexa.SceneController"

    def discovery(self) -> dict[str, Any]:
        return {
            "type": "AlexaInterface",
            "interface": self.interface,
            "version": "3",
            "supportsDeactivation": True,
            "proactivelyReported": False,
        }


@dataclass
class Endpoint:
    """A device as Alexa sees it."""

    interfaces: list[Interface] = field(default_factory=list)

    def find(self, interface: str, instance: str | None = None) -> Interface | None:
        return next(
            (
                i
                for i in self.interfaces
                if i.interface == interface and (i.instance or None) == (instance or None)
            ),
            None,
        )

    def read(self, shadow: Shadow, only: set[str] | None = None) -> list[dict[str, Any]]:
        return [p for i in self.interfaces for p in i.read(shadow, only)]


SIMPLE: dict[str, Callable[[catalog.Capability], Interface]] = {
    "powerState": lambda c: Power(c),
    "brightness": lambda c: Brightness(c),
    "percentage": lambda c: Percentage(c),
    "color": lambda c: Color(c),
    "colorTemperature": lambda c: ColorTemperature(c),
    "currentTemperature": lambda c: TemperatureSensor(c),
    "lockState": lambda c: Lock(c),
    "rangeValue": lambda c: Range(c, c.instance),
    "mode": lambda c: Mode(c, c.instance) if c.instance else Door(c, "GarageDoor.Position"),
    "contactState": lambda c: ContactSensor(c),
    "motion": lambda c: MotionSensor(c),
    "doorbell": lambda c: Doorbell(c),
    "scene": lambda c: Scene(c),
}


@functools.cache
def endpoint_for(type_name: str) -> Endpoint:
    """The Alexa interfaces of a device type, from its catalog capabilities (fixed, so cached)."""
    caps = catalog.TYPES[type_name].capabilities
    endpoint = Endpoint()
    thermostat = [c for c in caps if c.name in ("targetTemperature", "thermostatMode")]
    for cap in caps:
        if cap.instance == "Door.Position":
            continue  # Amazon's guidance gives a garage door Open and Close, not a percent
        if cap.name in SIMPLE:
            endpoint.interfaces.append(SIMPLE[cap.name](cap))
    if thermostat:
        mode = next((c for c in thermostat if c.name == "thermostatMode"), None)
        endpoint.interfaces.append(Thermostat(thermostat[0], modes=mode.modes if mode else ()))
    return endpoint
