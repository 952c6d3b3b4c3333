"""The admin endpoint the `bridge` CLI uses to reach live devices.

Only loopback callers (not behind a proxy) or holders of BRIDGE_ADMIN_TOKEN
get in: it can command any account's devices.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from bridge.access import trusted
from bridge.model import BridgeError, Command, InvalidCommand, NoSuchDevice
from bridge.problems import from_error, problem

admin = Blueprint("admin", __name__, url_prefix="/admin/api")


@admin.before_request
def _guard():
    if not trusted(current_app.extensions["bridge"].settings.admin_token):
        return problem(403, "forbidden", "admin calls come from loopback or carry the admin token")
    return None


@admin.post("/send")
def send():
    bridge = current_app.extensions["bridge"]
    body = request.get_json(silent=True)
    try:
        if not isinstance(body, dict) or not isinstance(body.get("device"), str):
            raise InvalidCommand("body must be a JSON object with device, action and value")
        device = bridge.store.devices.get(body["device"])
        if device is None:
            raise NoSuchDevice(f"no device {body['device']}")
        user = bridge.store.users.by_id(device.user_id)
        command = Command(
            device_id=device.id,
            action=str(body.get("action", "")),
            value=body.get("value", {}),
            instance_id=body.get("instance") or None,
            origin="cli",
        )
        timeout = body.get("timeout")
        result = bridge.devices.send(
            user, command, float(timeout) if isinstance(timeout, int | float) else None
        )
    except BridgeError as exc:
        return from_error(exc)
    return jsonify(
        device=device.id,
        action=command.action,
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
        online=bridge.hub.online(device.id),
        state=bridge.store.shadow.get(device.id),
    )
