"""The integrators' REST API: scoped keys, devices, commands, history, status, stream."""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context

from bridge import catalog, journeys
from bridge.api.openapi import document
from bridge.devices.energy import intervals as energy_intervals
from bridge.http import bodies, live
from bridge.http.bodies import CommandBody, EnergyQuery, MessagesQuery
from bridge.http.problems import from_error, problem
from bridge.model import BridgeError, Command, Device, NoSuchDevice, Outcome, User
from bridge.store.keys import Key, NoSuchKey
from bridge.store.readings import MAX_READINGS

api = Blueprint("api", __name__, url_prefix="/api/v1")
OPEN = {"api.token", "api.openapi"}
STREAM_SECONDS = 3600
MAX_ENERGY_SPAN = 366 * 86_400


def _bridge():
    return current_app.extensions["bridge"]


@api.before_request
def _authenticate():
    bridge = _bridge()
    if (request.content_length or 0) > bridge.settings.api_max_body:
        return problem(413, "too_large", f"bodies are at most {bridge.settings.api_max_body} bytes")
    if request.endpoint in OPEN:
        return None
    auth = request.headers.get("Authorization", "")
    try:
        g.key = bridge.store.keys.resolve(auth[7:] if auth.startswith("Bearer ") else None)
    except BridgeError as exc:
        return from_error(exc)
    if time.time() - (g.key.last_used_at or 0) > 60:  # "last used", at most one write a minute
        bridge.store.keys.touch(g.key.id)
    wait = bridge.api_budget.take(g.key.id)
    if wait:
        reply = problem(429, "rate_limited", "too many requests for this key")
        reply.headers["Retry-After"] = str(math.ceil(wait))
        return reply
    return None


@api.errorhandler(BridgeError)
def _bridge_error(exc: BridgeError):
    return from_error(exc)


@api.get("/openapi.json")
def openapi():
    return jsonify(document())


@api.post("/token")
def token():
    """Client-credentials style: HTTP Basic key_id:secret for a short-lived bearer token."""
    bridge = _bridge()
    auth = request.headers.get("Authorization", "")
    try:
        key_id, secret = base64.b64decode(auth[6:]).decode().split(":", 1)
        assert auth.startswith("Basic ")
    except (ValueError, AssertionError):
        return problem(401, "invalid_client", "send the key as HTTP Basic key_id:secret")
    key = bridge.store.keys.check_secret(key_id, secret)
    if key is None:
        return problem(401, "invalid_client", "unknown, disabled or wrong key")
    ttl = bridge.settings.api_token_ttl
    return jsonify(
        access_token=bridge.store.keys.issue_token(key, ttl),
        token_type="Bearer",
        expires_in=int(ttl),
    )


def _holder() -> User:
    """The person the key acts for: its reach is theirs (a household member's key reaches
    what their role does, and no more)."""
    user = _bridge().store.users.by_id(g.key.user_id)
    if user is None:
        raise NoSuchDevice("the key's account is gone")
    return user


def _visible() -> list[Device]:
    key: Key = g.key
    return [d for d in _bridge().devices.list(_holder()) if key.covers(d)]


def _device(device_id: str) -> Device:
    """A device the key may see; anything else is 404, whether it exists or not."""
    device = _bridge().devices.get(_holder(), device_id)
    if not g.key.covers(device):
        raise NoSuchDevice(f"no device {device_id}")
    return device


def _device_json(device: Device, full: bool = False) -> dict[str, Any]:
    bridge = _bridge()
    out = {
        "id": device.id,
        "name": device.name,
        "type": device.type,
        "room": device.room,
        "online": bridge.devices.online(device),
    }
    if full:
        out["capabilities"] = catalog.TYPES[device.type].to_json()
        out["state"] = bridge.store.shadow.get(device.id)
    return out


@api.get("/devices")
def devices():
    return jsonify(devices=[_device_json(d) for d in _visible()])


@api.get("/devices/<device_id>")
def device(device_id: str):
    return jsonify(_device_json(_device(device_id), full=True))


@api.get("/devices/<device_id>/energy")
def energy(device_id: str):
    """A meter's (or a plug's) energy by interval, from the readings the history keeps."""
    target = _device(device_id)
    if catalog.METERED not in {c.name for c in catalog.TYPES[target.type].capabilities}:
        return problem(404, "not_found", f"a {target.type} measures no energy")
    query = bodies.parse_query(request.args, EnergyQuery)
    until = query.until if query.until is not None else time.time()
    since = query.since if query.since is not None else until - 86_400
    if not 0 < until - since <= MAX_ENERGY_SPAN:
        return problem(422, "invalid_value", "since must be before until, at most 366 days")
    readings = _bridge().store.readings.between(device_id, since, until)
    if len(readings) > MAX_READINGS:
        return problem(422, "invalid_value", f"over {MAX_READINGS} readings: ask for less time")
    try:
        found = energy_intervals(readings, since, until, query.resolution)
    except ValueError as exc:
        return problem(422, "invalid_value", str(exc))
    return jsonify(
        device=device_id,
        unit="Wh",
        resolution=query.resolution,
        intervals=[
            {"start": i.start, "end": i.end, "wattHours": i.watt_hours, "readings": i.readings}
            for i in found
        ],
    )


@api.post("/devices/<device_id>/commands")
def command(device_id: str):
    key: Key = g.key
    target = _device(device_id)
    if not key.may_send():
        return problem(403, "forbidden", "this key may only read")
    body = bodies.parse(request.get_data(), CommandBody)
    user = _bridge().store.users.by_id(key.user_id)
    cmd = Command(
        target.id, body.action, body.value, body.instance, key.origin, journey=journeys.new()
    )
    try:
        result = _bridge().devices.send(user, cmd, body.timeout)
    except BridgeError as exc:
        if exc.code == "timeout":
            return problem(504, "timeout", "device unresponsive")
        raise
    if result.outcome is Outcome.PENDING:
        return jsonify(bodies.accepted(result)), 202
    return jsonify(
        device=target.id,
        action=cmd.action,
        outcome="answered",
        value=result.value,
        message=result.message,
        latency_ms=round(result.latency_ms, 1),
    )


@api.get("/commands/<command_id>")
def accepted_command(command_id: str):
    """How a command accepted as pending is doing (pending, sent, delivered, failed...)."""
    found = _bridge().store.pending.get(command_id[:64])
    if found is None:
        return problem(404, "not_found", f"no command {command_id[:64]}")
    try:
        _device(found.device_id)  # another account's, or outside the key's scope: 404 alike
    except NoSuchDevice:
        return problem(404, "not_found", f"no command {command_id[:64]}")
    return jsonify(
        id=found.id,
        device=found.device_id,
        action=found.action,
        value=found.value,
        state=found.state,
        detail=found.detail,
        created_at=found.created_at,
        expires_at=found.expires_at,
    )


def _messages(**query: Any) -> list[dict[str, Any]]:
    """The key's user's history, limited to the devices the key covers; newest first."""
    key: Key = g.key
    return _bridge().history(key.user_id, device_ids=[d.id for d in _visible()], **query)


@api.get("/messages")
def messages():
    query = bodies.parse_query(request.args, MessagesQuery)
    rows = _messages(
        before=query.cursor,
        limit=query.limit + 1,
        device_id=query.device or None,
        origin=f"api:{query.key}" if query.key else None,
        outcome=query.outcome or None,
        kind=query.kind or None,
        since=query.since,
        until=query.until,
    )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return jsonify(messages=rows, next_cursor=rows[-1]["id"] if more and rows else None)


@api.get("/messages/<message_id>/journey")
def journey(message_id: str):
    key: Key = g.key
    bridge = _bridge()
    if not (message_id.isascii() and message_id.isdigit() and len(message_id) <= 18):
        return problem(404, "not_found", "no such message")
    found = bridge.store.messages.journey_of(key.user_id, int(message_id))
    journey = bridge.journey(key.user_id, found, [d.id for d in _visible()]) if found else None
    # none, or the message is of a device out of the key's scope
    if journey is None or not any(h.get("message_id") == int(message_id) for h in journey["hops"]):
        return problem(404, "not_found", "no such message, or it belongs to no journey")
    return jsonify(journey)


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


@api.get("/keys/<key_id>/status")
def key_status(key_id: str):
    """A key reads its own counters only; any other id, missing or not, is the same 404."""
    bridge = _bridge()
    if key_id != g.key.id:
        raise NoSuchKey(f"no key {key_id[:40]}")
    key = bridge.store.keys.get(key_id)
    bridge.store.writer.flush()
    now = time.time()
    rows = bridge.store.messages.requests_of(key.origin, since=now - 86400)

    def window(seconds: float) -> dict[str, Any]:
        recent = [r for r in rows if r[0] >= now - seconds]
        ok = [r for r in recent if r[1] == "ok"]
        return {
            "requests": len(recent),
            "succeeded": len(ok),
            "success_rate": round(len(ok) / len(recent), 3) if recent else None,
            "p50_ms": _percentile([r[2] for r in ok if r[2] is not None], 0.5),
            "p99_ms": _percentile([r[2] for r in ok if r[2] is not None], 0.99),
        }

    errors = [{"at": r[0], "outcome": r[1], "detail": r[3]} for r in rows if r[1] != "ok"][:5]
    return jsonify(
        key=key.to_json(), last_hour=window(3600), last_day=window(86400), last_errors=errors
    )


@api.get("/stream")
def stream():
    """Server-sent events: every new message in the key's scope, as it is recorded."""
    key, bridge = g.key, _bridge()

    def visible() -> Callable[[dict[str, Any]], bool]:
        g.key = key
        scope = {d.id for d in _visible()}
        return lambda row: row["device_id"] is None or row["device_id"] in scope

    def fetch(after: int) -> list[dict]:
        g.key = key
        return _messages(after=after, limit=100, oldest_first=True)

    frames = bridge.streams.open(
        key.user_id,
        visible,
        fetch,
        STREAM_SECONDS,
        event="message",
        client=request.environ.get("gunicorn.socket"),
    )
    if frames is None:
        refused = problem(429, "too_many_streams", "this account holds its most open streams")
        refused.headers["Retry-After"] = str(int(live.KEEPALIVE))  # a closed one's place frees
        return refused
    return Response(
        stream_with_context(frames),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
