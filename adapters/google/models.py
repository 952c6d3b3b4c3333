"""Google's fulfillment requests as typed models: every field a handler reads, bounded."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from bridge.plugin import Scalar, Text

MAX_DEVICES = 300
"""Devices one QUERY or EXECUTE may name (Google's own SYNC caps a user's devices there)."""
Key = Annotated[str, Meta(max_length=64)]
Params = dict[Key, Scalar | dict[Key, Scalar | dict[Key, Scalar]]]
"""A command's params: scalars, or objects of them two deep (a colour's spectrumHSV)."""


class DeviceRef(Struct, frozen=True):
    id: Text


class Challenge(Struct, frozen=True):
    ack: bool | None = None
    pin: Annotated[str, Meta(max_length=64)] | None = None


class Execution(Struct, frozen=True):
    command: Text
    params: Params = {}
    challenge: Challenge | None = None


class CommandGroup(Struct, frozen=True):
    devices: Annotated[list[DeviceRef], Meta(max_length=MAX_DEVICES)]
    execution: Annotated[list[Execution], Meta(max_length=10)]


class Payload(Struct, frozen=True):
    devices: Annotated[list[DeviceRef], Meta(max_length=MAX_DEVICES)] = []
    commands: Annotated[list[CommandGroup], Meta(max_length=MAX_DEVICES)] = []


class Input(Struct, frozen=True):
    intent: Text
    payload: Payload = Payload()


class Request(Struct, frozen=True):
    requestId: Annotated[str, Meta(max_length=256)]
    inputs: Annotated[list[Input], Meta(min_length=1, max_length=1)]


class Salvage(Struct, frozen=True):
    """What an error reply can still echo from a request that is not a Request."""

    requestId: Annotated[str, Meta(max_length=256)] | None = None
