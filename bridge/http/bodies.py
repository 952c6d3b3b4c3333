"""Request bodies of the bridge's own HTTP API (the REST API and the admin endpoint), typed."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from bridge.http import boundary
from bridge.model import InvalidCommand, Result

Name = Annotated[str, Meta(min_length=1, max_length=64)]
Seconds = Annotated[float, Meta(gt=0, le=8)]


class CommandBody(Struct, frozen=True, forbid_unknown_fields=True):
    """`{"action": ..., "value": {...}, "instance": ..., "timeout": seconds}`."""

    action: Name
    value: boundary.Value = {}
    instance: Name | None = None
    timeout: Seconds | None = None


class AdminCommand(CommandBody, frozen=True, forbid_unknown_fields=True):
    device: Annotated[str, Meta(min_length=1, max_length=64)] = ""


def parse(body: bytes, model: type[boundary.T]) -> boundary.T:
    """The body as the model, or InvalidCommand (422) saying what is wrong."""
    try:
        return boundary.decode(body, model)
    except boundary.Malformed as exc:
        raise InvalidCommand(str(exc)) from None


Cursor = Annotated[int, Meta(ge=0, le=2**63 - 1)]
Time = Annotated[float, Meta(ge=0, le=1e11)]
Filter = Annotated[str, Meta(max_length=64)]


class MessagesQuery(Struct, frozen=True, forbid_unknown_fields=True):
    """`GET /api/v1/messages` query parameters."""

    limit: Annotated[int, Meta(ge=1, le=500)] = 50
    cursor: Cursor | None = None
    since: Time | None = None
    until: Time | None = None
    device: Filter = ""
    key: Filter = ""
    outcome: Filter = ""
    kind: Filter = ""


class EnergyQuery(Struct, frozen=True, forbid_unknown_fields=True):
    """`GET /api/v1/devices/<id>/energy` query parameters (the last day, hourly, unless
    told; at most 1,000 intervals, at most 366 days back)."""

    since: Time | None = None
    until: Time | None = None
    resolution: Annotated[int, Meta(ge=60, le=86_400)] = 3600


def parse_query(multi: Any, model: type[boundary.T]) -> boundary.T:
    """Query parameters (strings) to the model, numbers converted; InvalidCommand if not."""
    try:
        return boundary.from_params(multi, model, from_strings=True)
    except boundary.Malformed as exc:
        raise InvalidCommand(str(exc)) from None


def accepted(result: Result) -> dict[str, Any]:
    """The answer (202) to a command accepted as pending: its id, to ask after it later."""
    return {
        "device": result.command.device_id,
        "action": result.command.action,
        "outcome": "pending",
        "command": result.ref,
        "message": result.message,
    }
