"""A device as an Alexa discovery endpoint."""

from __future__ import annotations

from typing import Any

from adapters.alexa.capabilities import endpoint_for
from adapters.alexa.coverage import listed
from bridge.plugin import Device, catalog

CATEGORIES = {
    "light": "LIGHT",
    "dimmer": "LIGHT",
    "switch": "SWITCH",
    "plug": "SMARTPLUG",
    "thermostat": "THERMOSTAT",
    "air_conditioner": "THERMOSTAT",
    "lock": "SMARTLOCK",
    "blinds": "INTERIOR_BLIND",
    "fan": "FAN",
    "temperature_sensor": "TEMPERATURE_SENSOR",
    "contact_sensor": "CONTACT_SENSOR",
    "motion_sensor": "MOTION_SENSOR",
    "doorbell": "DOORBELL",
    "garage_door": "GARAGE_DOOR",
    "gate": "GARAGE_DOOR",
    "scene": "SCENE_TRIGGER",
}
MANUFACTURER = "Voice Bridge"


def endpoint(device: Device) -> dict[str, Any] | None:
    """The device as Alexa lists it; None for a type Alexa has no interface for."""
    if not listed(device.type):
        return None
    label = catalog.TYPES[device.type].label
    where = f" in {device.room}" if device.room else ""
    capabilities = [{"type": "AlexaInterface", "interface": "Alexa", "version": "3"}]
    capabilities += [i.discovery() for i in endpoint_for(device.type).interfaces]
    capabilities.append(
        {
            "type": "AlexaInterface",
            "interface": "Alexa.EndpointHealth",
            "version": "3",
            "properties": {
                "supported": [{"name": "connectivity"}],
                "proactivelyReported": True,
                "retrievable": True,
            },
        }
    )
    return {
        "endpointId": device.id,
        "manufacturerName": MANUFACTURER,
        "friendlyName": device.name[:128],
        "description": f"{label}{where} via {MANUFACTURER}"[:128],
        "displayCategories": [CATEGORIES.get(device.type, "OTHER")],
        "additionalAttributes": {"manufacturer": MANUFACTURER, "model": device.type},
        "cookie": {},
        "capabilities": capabilities,
    }
