"""DuerOS directives as typed models: every field a handler reads, with its type."""

from __future__ import annotations

from msgspec import Struct

from bridge.plugin import Number, Text, Token


class Valued(Struct, frozen=True):
    """DuerOS's `{"value": ..., "scale": ...}` (fan speeds may carry a `level`)."""

    value: Number | Text | None = None
    scale: Text | None = None
    level: Text | None = None


class Hsb(Struct, frozen=True):
    hue: Number
    saturation: Number
    brightness: Number


class Appliance(Struct, frozen=True):
    applianceId: Text | None = None
    attributeName: Text | None = None


class Payload(Struct, frozen=True):
    accessToken: Token | None = None
    openUid: Text | None = None
    appliance: Appliance | None = None
    brightness: Valued | None = None
    deltaPercentage: Valued | None = None
    color: Hsb | None = None
    colorTemperatureInKelvin: Number | None = None
    targetTemperature: Valued | None = None
    deltaValue: Valued | None = None
    fanSpeed: Valued | None = None
    mode: Valued | None = None
    lockState: Text | Valued | None = None
    """Baidu's reference sends a plain string ("LOCKED"); older samples an object."""
    percentage: Valued | None = None


class Header(Struct, frozen=True):
    namespace: Text
    name: Text
    messageId: Text = ""
    payloadVersion: Text = "1"


class Envelope(Struct, frozen=True):
    header: Header
    payload: Payload = Payload()


class HeaderSalvage(Struct):
    messageId: Text = ""


class Salvage(Struct):
    """What an error envelope can still echo from a body that failed to parse."""

    header: HeaderSalvage | None = None
