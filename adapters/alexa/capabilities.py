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


class Power(Interface):
    interface = "Alexa.PowerController"
    properties = (("powerState", "powerState"),)

    def to_alexa(self, name: str, value: Any) -> Any:
        return "ON" if value == "On" else "OFF"


class Brightness(Interface):
    interface = "Alexa.BrightnessController"
    properties = (("brightness", "brightness"),)


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
    "color": lambda c: Color(c),
    "colorTemperature": lambda c: ColorTemperature(c),
    "currentTemperature": lambda c: TemperatureSensor(c),
    "lockState": lambda c: Lock(c),
    "rangeValue": lambda c: Range(c, c.instance),
    "mode": lambda c: Mode(c, c.instance),
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
        if cap.name in SIMPLE:
            endpoint.interfaces.append(SIMPLE[cap.name](cap))
    if thermostat:
        mode = next((c for c in thermostat if c.name == "thermostatMode"), None)
        endpoint.interfaces.append(Thermostat(thermostat[0], modes=mode.modes if mode else ()))
    return endpoint
