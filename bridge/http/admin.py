"""The admin endpoint the `bridge` CLI uses to reach live devices.

Only loopback callers (not behind a proxy) or holders of BRIDGE_ADMIN_TOKEN
get in: it can command any account's devices.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from bridge import journeys
from bridge.http import bodies
from bridge.http.access import trusted
from bridge.http.bodies import AdminCommand
from bridge.http.problems import from_error, problem
from bridge.model import BridgeError, Command, NoSuchDevice, Outcome

admin = Blueprint("admin", __name__, url_prefix="/admin/api")


@admin.before_request
def _guard():
    if not trusted(current_app.extensions["bridge"].settings.admin_token):
        return problem(403, "forbidden", "admin calls come from loopback or carry the admin token")
    return None


@admin.post("/send")
def send():
    bridge = current_app.extensions["bridge"]
    try:
        body = bodies.parse(request.get_data(), AdminCommand)
        device = bridge.store.devices.get(body.device) if body.device else None
        if device is None:
            raise NoSuchDevice(f"no device {body.device}")
        user = bridge.store.users.by_id(device.user_id)
        command = Command(
            device.id, body.action, body.value, body.instance, origin="cli", journey=journeys.new()
        )
        result = bridge.devices.send(user, command, body.timeout)
    except BridgeError as exc:
        return from_error(exc)
    if result.outcome is Outcome.PENDING:  # accepted: the device gets it when it listens
        return jsonify(bodies.accepted(result)), 202
    return jsonify(
        device=device.id,
        action=command.action,
        outcome="answered",
        success=True,
        message=result.message,
        value=result.value,
        latency_ms=round(result.latency_ms, 1),
    )


@admin.get("/devices/<device_id>")
def device_state(device_id: str):
    bridge = current_app.extensions["bridge"]
    device = bridge.store.devices.get(device_id)
    if device is None:
        return from_error(NoSuchDevice(f"no device {device_id}"))
    return jsonify(
        id=device.id,
        type=device.type,
        name=device.name,
        room=device.room,
        online=bridge.devices.online(device),
        state=bridge.store.shadow.get(device.id),
    )
