"""A throwaway voice adapter, registered by entry point without touching the core.

Its "platform" speaks a tiny JSON dialect, which keeps the tests and the
benchmark about the contract, not about any real platform:
    {"token": "...", "op": "discover"}
    {"token": "...", "op": "command", "device": "...", "action": "...", "value": {...}}
Errors come back as {"error": <core code>, "message": ...} with status 200, the
way voice platforms expect errors in their own envelope.
"""

from __future__ import annotations

from bridge.plugin import (
    Adapter,
    AuthError,
    BridgeError,
    Command,
    PluginSettings,
    StateReport,
    User,
    VoiceReply,
    VoiceRequest,
)


class EchoSettings(PluginSettings, frozen=True):
    report_url: str = ""
    """Where reports are POSTed (none: this adapter takes no reports)."""
    something: str = ""
    """A setting the contract's test sets."""


class EchoAdapter(Adapter):
    name = "echo"
    settings_model = EchoSettings

    def handle(self, request: VoiceRequest) -> VoiceReply:
        try:
            body = request.json()
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            return VoiceReply({"error": "malformed", "message": "body is not a JSON object"})
        try:
            user = self.context.authenticate(body.get("token"), request.journey)
            if body.get("op") == "explode":  # a bug in an adapter: the core's last resort
                raise RuntimeError("the echo adapter failed on purpose")
            if body.get("op") == "discover":
                return VoiceReply({"devices": [self._entry(d) for d in self.context.devices(user)]})
            if body.get("op") == "command":
                command = Command(
                    device_id=str(body.get("device", "")),
                    action=str(body.get("action", "")),
                    value=body.get("value", {}),
                    instance_id=body.get("instance"),
                    origin=self.name,
                    journey=request.journey.id if request.journey else None,
                )
                result = self.context.send(user, command, body.get("deadline"))
                return VoiceReply({"ok": True, "value": result.value})
            return VoiceReply({"error": "unsupported", "message": "unknown op"})
        except AuthError as exc:
            return VoiceReply({"error": exc.code, "message": exc.message}, status=401)
        except BridgeError as exc:
            return VoiceReply({"error": exc.code, "message": exc.message})

    def _entry(self, device) -> dict:
        return {
            "id": device.id,
            "type": device.type,
            "name": device.name,
            "room": device.room,
            "online": self.context.online(device),
            "state": {k: v["value"] for k, v in self.context.state(device).items()},
        }

    def blueprint(self):
        """A route of the adapter's own, besides its webhook (the contract's test calls it)."""
        from flask import Blueprint, jsonify

        routes = Blueprint("echo", __name__)
        routes.add_url_rule("/echo/ping", "ping", lambda: jsonify(pong=self.name))
        return routes

    def reports_enabled(self) -> bool:
        return bool(self.context.settings.report_url)

    def takes_reports(self, link: dict) -> bool:
        return True

    def state_report(self, user: User, message: StateReport) -> None:
        """This toy platform only models device state."""
        reply = self.context.http.post(
            self.context.settings.report_url,
            json={
                "user": user.name,
                "device": message.device_id,
                "action": message.event,
                "cause": message.cause,
                "properties": message.properties,
            },
            timeout=5,
        )
        reply.raise_for_status()
