"""The OpenAPI 3.1 description of /api/v1: every route, and the shape of every answer."""

from __future__ import annotations

import functools
from typing import Any

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": PROBLEM}},
    }


ERRORS = {
    "401": _problem("missing, invalid or expired token"),
    "429": _problem("rate limited (see Retry-After)"),
}


def _op(
    summary: str,
    ok: dict[str, Any],
    *,
    errors: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    params: list[dict] | None = None,
    secured: bool = True,
    accepted: dict[str, Any] | None = None,
) -> dict[str, Any]:
    responses = {"200": ok, **({"202": accepted} if accepted else {}), **ERRORS, **(errors or {})}
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    op["security"] = [{"bearer": []}] if secured else [{"basic": []}]
    return op


def _query(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": {"type": kind}}


DEVICE_ID = {
    "name": "device_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
}


@functools.cache
def document() -> dict[str, Any]:
    ref = "#/components/schemas/"
    return {
        "openapi": "3.1.0",
        "info": {"title": "Voice bridge integration API", "version": "1"},
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                    },
                },
                "Device": {
                    "type": "object",
                    "required": ["id", "name", "type", "online"],
                    "properties": {
                        "id": {"type": "string"},
                        "name": {"type": "string"},
                        "type": {"type": "string"},
                        "room": {"type": ["string", "null"]},
                        "online": {"type": "boolean"},
                        "capabilities": {"type": "array"},
                        "state": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "object",
                                "required": ["value", "sampled_at"],
                            },
                        },
                    },
                },
                "Message": {
                    "type": "object",
                    "required": ["id", "at", "direction", "kind", "outcome"],
                    "properties": {
                        "id": {"type": "integer"},
                        "at": {"type": "number"},
                        "device_id": {"type": ["string", "null"]},
                        "direction": {"type": "string"},
                        "kind": {"type": "string"},
                        "action": {"type": ["string", "null"]},
                        "outcome": {"type": "string"},
                        "latency_ms": {"type": ["number", "null"]},
                        "origin": {"type": ["string", "null"]},
                        "detail": {"type": ["string", "null"]},
                        "journey": {"type": ["string", "null"]},
                        "via": {"type": ["string", "null"]},
                        "directive": {"type": ["string", "null"]},
                        "reply": {"type": ["string", "null"]},
                        "received_at": {"type": ["number", "null"]},
                        "served_ms": {"type": ["number", "null"]},
                        "member": {"type": ["integer", "null"]},
                    },
                },
                "Hop": {
                    "type": "object",
                    "required": ["at", "hop", "outcome", "after_ms"],
                    "properties": {
                        "at": {"type": "number"},
                        "hop": {"type": "string"},
                        "platform": {"type": ["string", "null"]},
                        "device_id": {"type": ["string", "null"]},
                        "action": {"type": ["string", "null"]},
                        "outcome": {"type": "string"},
                        "detail": {"type": ["string", "null"]},
                        "via": {"type": ["string", "null"]},
                        "message_id": {"type": ["integer", "null"]},
                        "member": {"type": ["integer", "null"]},
                        "after_ms": {"type": ["number", "null"]},
                    },
                },
                "Window": {
                    "type": "object",
                    "required": ["requests", "succeeded", "success_rate"],
                    "properties": {
                        "requests": {"type": "integer"},
                        "succeeded": {"type": "integer"},
                        "success_rate": {"type": ["number", "null"]},
                        "p50_ms": {"type": ["number", "null"]},
                        "p99_ms": {"type": ["number", "null"]},
                    },
                },
            },
        },
        "paths": {
            "/api/v1/token": {
                "post": _op(
                    "Exchange an integration key (HTTP Basic key_id:secret) for a bearer token",
                    _json(
                        {
                            "type": "object",
                            "required": ["access_token", "token_type", "expires_in"],
                            "properties": {
                                "access_token": {"type": "string"},
                                "token_type": {"const": "Bearer"},
                                "expires_in": {"type": "integer"},
                            },
                        },
                        "a bearer token",
                    ),
                    secured=False,
                )
            },
            "/api/v1/devices": {
                "get": _op(
                    "Devices the token may see",
                    _json(
                        {
                            "type": "object",
                            "required": ["devices"],
                            "properties": {
                                "devices": {"type": "array", "items": {"$ref": ref + "Device"}}
                            },
                        },
                        "the devices",
                    ),
                )
            },
            "/api/v1/devices/{device_id}": {
                "get": _op(
                    "One device: capabilities, online, shadow with time of sample",
                    _json({"$ref": ref + "Device"}, "the device"),
                    params=[DEVICE_ID],
                    errors={"404": _problem("unknown or outside the key's scope")},
                )
            },
            "/api/v1/devices/{device_id}/energy": {
                "get": _op(
                    "A meter's or a plug's energy by interval (Wh), from its readings",
                    _json(
                        {
                            "type": "object",
                            "required": ["device", "unit", "resolution", "intervals"],
                            "properties": {
                                "device": {"type": "string"},
                                "unit": {"const": "Wh"},
                                "resolution": {"type": "integer"},
                                "intervals": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["start", "end", "wattHours", "readings"],
                                        "properties": {
                                            "start": {"type": "number"},
                                            "end": {"type": "number"},
                                            "wattHours": {"type": "number"},
                                            "readings": {"type": "integer"},
                                        },
                                    },
                                },
                            },
                        },
                        "the energy of each interval (readings 0: nothing known of it)",
                    ),
                    params=[
                        DEVICE_ID,
                        _query("since", "number"),
                        _query("until", "number"),
                        _query("resolution", "integer"),
                    ],
                    errors={
                        "404": _problem("unknown, outside the key's scope, or measures no energy"),
                        "422": _problem("a bad range or resolution, or over 50,000 readings in it"),
                    },
                )
            },
            "/api/v1/devices/{device_id}/commands": {
                "post": _op(
                    "Send a command and wait for the device's answer (at most 8 s)",
                    _json(
                        {
                            "type": "object",
                            "required": ["device", "action", "value"],
                            "properties": {
                                "device": {"type": "string"},
                                "action": {"type": "string"},
                                "value": {"type": "object"},
                                "message": {"type": "string"},
                                "latency_ms": {"type": "number"},
                            },
                        },
                        "the device answered",
                    ),
                    accepted=_json(
                        {
                            "type": "object",
                            "required": ["device", "action", "outcome", "command"],
                            "properties": {
                                "device": {"type": "string"},
                                "action": {"type": "string"},
                                "outcome": {"type": "string", "enum": ["pending"]},
                                "command": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        },
                        "accepted: the device gets it when it next listens (GET /commands/{id})",
                    ),
                    params=[DEVICE_ID],
                    body={
                        "type": "object",
                        "required": ["action"],
                        "properties": {
                            "action": {"type": "string"},
                            "value": {"type": "object"},
                            "instance": {"type": "string"},
                            "timeout": {"type": "number", "maximum": 8},
                        },
                    },
                    errors={
                        "403": _problem("the key may only read"),
                        "404": _problem("unknown or outside the key's scope"),
                        "409": _problem("the device is offline"),
                        "413": _problem("body too large"),
                        "422": _problem("refused by the device or invalid for it"),
                        "504": _problem("device unresponsive"),
                    },
                )
            },
            "/api/v1/messages/{message_id}/journey": {
                "get": _op(
                    "Every hop of the command or event a message belongs to, and what went wrong",
                    _json(
                        {
                            "type": "object",
                            "required": ["journey", "hops", "explanation"],
                            "properties": {
                                "journey": {"type": "string"},
                                "hops": {"type": "array", "items": {"$ref": ref + "Hop"}},
                                "explanation": {"type": ["string", "null"]},
                            },
                        },
                        "the journey",
                    ),
                    params=[
                        {
                            "name": "message_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                        }
                    ],
                    errors={"404": _problem("unknown, another account's, or of no journey")},
                )
            },
            "/api/v1/commands/{command_id}": {
                "get": _op(
                    "A command accepted as pending: its state (pending, sent, delivered, ...)",
                    _json(
                        {
                            "type": "object",
                            "required": ["id", "device", "action", "state"],
                            "properties": {
                                "id": {"type": "string"},
                                "device": {"type": "string"},
                                "action": {"type": "string"},
                                "value": {"type": "object"},
                                "state": {
                                    "type": "string",
                                    "enum": [
                                        "pending",
                                        "sent",
                                        "delivered",
                                        "failed",
                                        "expired",
                                        "replaced",
                                    ],
                                },
                                "detail": {"type": ["string", "null"]},
                                "created_at": {"type": "number"},
                                "expires_at": {"type": "number"},
                            },
                        },
                        "the command",
                    ),
                    params=[
                        {
                            "name": "command_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "maxLength": 64},
                        }
                    ],
                    errors={"404": _problem("unknown, or another account's")},
                )
            },
            "/api/v1/messages": {
                "get": _op(
                    "Message history, newest first, with cursor pagination",
                    _json(
                        {
                            "type": "object",
                            "required": ["messages", "next_cursor"],
                            "properties": {
                                "messages": {"type": "array", "items": {"$ref": ref + "Message"}},
                                "next_cursor": {"type": ["integer", "null"]},
                            },
                        },
                        "a page of history",
                    ),
                    params=[
                        _query("device"),
                        _query("key"),
                        _query("since", "number"),
                        _query("until", "number"),
                        _query("outcome"),
                        _query("kind"),
                        _query("limit", "integer"),
                        _query("cursor", "integer"),
                    ],
                    errors={"422": _problem("a bad filter")},
                )
            },
            "/api/v1/keys/{key_id}/status": {
                "get": _op(
                    "A key's integration status",
                    _json(
                        {
                            "type": "object",
                            "required": ["key", "last_hour", "last_day", "last_errors"],
                            "properties": {
                                "key": {"type": "object"},
                                "last_hour": {"$ref": ref + "Window"},
                                "last_day": {"$ref": ref + "Window"},
                                "last_errors": {"type": "array"},
                            },
                        },
                        "the status",
                    ),
                    params=[
                        {
                            "name": "key_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    errors={"404": _problem("no such key for this account")},
                )
            },
            "/api/v1/stream": {
                "get": _op(
                    "New messages in the token's scope, as server-sent events",
                    {
                        "description": "an event stream",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    errors={
                        "429": _problem(
                            "rate limited, or the account holds its most open streams"
                            " (too_many_streams; see Retry-After)"
                        )
                    },
                )
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "the OpenAPI document")},
                }
            },
        },
    }
