"""AliGenie directives as typed models: every field a handler reads, with its type and cap."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from bridge.plugin import Number, Text, Token

MAX_DEVICES = 50
"""Devices one v2 directive may name (after removing repeats); more is INVALIDATE_PARAMS."""
MAX_PARAMS = 16
"""Attributes one v2 set or adjust may carry."""

Value = Number | Text


class Header(Struct, frozen=True):
    namespace: Text
    name: Text
    payLoadVersion: Literal[1, 2]
    messageId: Text = ""


class Payload(Struct, frozen=True):
    accessToken: Token | None = None
    deviceId: Text | None = None
    deviceType: Text | None = None
    attribute: Text | None = None
    value: Value | None = None
    deviceIds: Annotated[list[Text], Meta(max_length=4 * MAX_DEVICES)] | None = None
    params: Annotated[dict[Text, Value], Meta(max_length=MAX_PARAMS)] | None = None


class Envelope(Struct, frozen=True):
    header: Header
    payload: Payload


class HeaderSalvage(Struct):
    namespace: Any = ""
    messageId: Any = ""
    payLoadVersion: Any = 1


class Salvage(Struct):
    """What an error reply can still echo from a directive that failed to parse."""

    header: HeaderSalvage | None = None
