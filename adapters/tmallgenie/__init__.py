"""Tmall Genie (AliGenie smart home), protocol v1 and v2, with reports through TOP."""

from __future__ import annotations

from typing import Any, ClassVar

from adapters.tmallgenie.controls import v1_action, v2_actions
from adapters.tmallgenie.errors import GenieError, from_core
from adapters.tmallgenie.models import (
    MAX_DEVICES,
    Envelope,
    Header,
    HeaderSalvage,
    Payload,
    Salvage,
)
from adapters.tmallgenie.profiles import profile, state
from adapters.tmallgenie.reports import PENDING_TTL, Reports, pending_key
from adapters.tmallgenie.settings import GenieSettings
from bridge.plugin import (
    Adapter,
    AdapterContext,
    BridgeError,
    Command,
    Device,
    InvalidCommand,
    Outcome,
    StateChange,
    User,
    VoiceReply,
    VoiceRequest,
    boundary,
    journeys,
)

DISCOVERY = "AliGenie.Iot.Device.Discovery"
CONTROL = "AliGenie.Iot.Device.Control"
QUERY = "AliGenie.Iot.Device.Query"
MAX_LISTED = 300
"""Devices one discovery answer lists at most (as for Alexa and XiaoDu)."""
REFUSALS = {"INVALIDATE_PARAMS", "DEVICE_NOT_SUPPORT_FUNCTION"}
"""Errors that mean the directive itself was not taken: it changes nothing."""
QUERIES = {
    "QueryPowerState": "powerstate",
    "QueryBrightness": "brightness",
    "QueryTemperature": "temperature",
    "QueryHumidity": "humidity",
    "QueryColor": "color",
    "QueryMode": "mode",
    "QueryWindSpeed": "windspeed",
}


def _echo(header: Header) -> dict[str, Any]:
    """The header fields a reply copies."""
    return {
        "namespace": header.namespace,
        "name": header.name,
        "messageId": header.messageId,
        "payLoadVersion": header.payLoadVersion,
    }


def _salvaged(doc: Any) -> dict[str, Any]:
    """From a directive that did not parse, the header fields that are still usable."""
    try:
        header = boundary.convert(doc, Salvage).header or HeaderSalvage()
    except boundary.Malformed:
        return {}
    fields = {
        "namespace": header.namespace if header.namespace in (DISCOVERY, CONTROL, QUERY) else "",
        "messageId": header.messageId if isinstance(header.messageId, str) else "",
        "payLoadVersion": header.payLoadVersion
        if isinstance(header.payLoadVersion, int | str) and len(str(header.payLoadVersion)) < 8
        else 1,
    }
    fields["messageId"] = fields["messageId"][:256]
    return fields


class TmallGenieAdapter(Adapter):
    name = "tmallgenie"
    title = "Tmall Genie"
    settings_model = GenieSettings
    aka = ("tmall", "aligenie", "taobao")
    report_attempts: ClassVar[int | None] = 5
    report_retry_min: ClassVar[float] = 1.0

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        self.deadline = context.settings.deadline
        self.reports = Reports(context)

    # -- directives ---------------------------------------------------------

    def handle(self, request: VoiceRequest) -> VoiceReply:
        try:
            doc = boundary.loads(request.body)
        except boundary.Malformed as exc:
            return self.refuse(str(exc))
        try:
            directive = boundary.convert(doc, Envelope)
        except boundary.Malformed as exc:
            return VoiceReply(
                self._error(_salvaged(doc), GenieError("INVALIDATE_PARAMS", str(exc)), None)
            )
        header, payload = _echo(directive.header), directive.payload
        device_id = payload.deviceId
        journeys.directive(str(header.get("name", "")))
        try:
            return VoiceReply(self._dispatch(directive, header, request))
        except BridgeError as exc:
            return VoiceReply(self._error(header, from_core(exc), device_id))
        except GenieError as exc:
            return VoiceReply(self._error(header, exc, device_id))

    def internal_error(self) -> VoiceReply:
        return VoiceReply(self._error({}, GenieError("SERVICE_ERROR", "the bridge failed"), None))

    def reply_error(self, reply: VoiceReply) -> str | None:
        body = reply.body if isinstance(reply.body, dict) else {}
        payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
        if body.get("header", {}).get("name") == "ErrorResponse":
            return str(payload.get("errorCode"))
        failed = [
            str(d.get("errorCode"))
            for d in payload.get("deviceResponseList") or ()
            if isinstance(d, dict) and d.get("errorCode") != "SUCCESS"
        ]
        return ", ".join(dict.fromkeys(failed)) or super().reply_error(reply)

    def refuse(self, reason: str, status: int = 400) -> VoiceReply:
        return VoiceReply(self._error({}, GenieError("INVALIDATE_PARAMS", reason), None))

    def _reply(self, header: dict, name: str, payload: dict, **extra: Any) -> dict:
        """Copy namespace, messageId and payLoadVersion; change only the name."""
        return {**extra, "header": {**header, "name": name}, "payload": payload}

    def _error(self, header: dict, error: GenieError, device_id: Any) -> dict:
        header = {
            "namespace": header.get("namespace") or CONTROL,
            "messageId": header.get("messageId", ""),
            "payLoadVersion": header.get("payLoadVersion", 1),
        }
        payload = {"errorCode": error.code, "message": error.message}
        if isinstance(device_id, str):
            payload = {"deviceId": device_id, **payload}
        return self._reply(header, "ErrorResponse", payload)

    def _dispatch(self, directive: Envelope, header: dict, request: VoiceRequest) -> dict:
        payload, version = directive.payload, directive.header.payLoadVersion
        token = (
            payload.accessToken
            or request.headers.get("Authorization", "").removeprefix("Bearer ")[:2048]
            or None
        )
        user = self.context.authenticate(token)
        namespace, name = directive.header.namespace, directive.header.name
        try:
            if namespace == DISCOVERY:
                reply = self._reply(
                    header, "DiscoveryDevicesResponse", {"devices": self._discover(user, version)}
                )
            elif version == 2:
                reply = self._v2(header, name, payload, user)
            else:
                reply = self._v1(header, namespace, name, payload, user)
        except (BridgeError, GenieError) as exc:
            refused = isinstance(exc, InvalidCommand) or (
                isinstance(exc, GenieError) and exc.code in REFUSALS
            )
            if not refused:  # understood; the device could not do it
                self._remember(user, token, version)
            raise
        self._remember(user, token, version)  # a refused directive changes nothing
        return reply

    def _v1(self, header: dict, namespace: str, name: str, payload: Payload, user: User) -> dict:
        device = self._device(user, payload.deviceId)
        shape = profile(device.type)
        if name not in shape.actions:
            raise GenieError("DEVICE_NOT_SUPPORT_FUNCTION")
        if namespace == QUERY:
            return self._query(header, name, device)
        action, value, instance = v1_action(name, device, payload.value)
        self._send(user, device, action, value, instance, name, header)
        return self._reply(header, f"{name}Response", {"deviceId": device.id})

    def _device(self, user: User, device_id: str | None) -> Device:
        if device_id is None:
            raise GenieError("INVALIDATE_PARAMS", "deviceId is required")
        device = self.context.device(user, device_id)
        if profile(device.type) is None:
            raise GenieError("DEVICE_NOT_SUPPORT_FUNCTION")
        return device

    def _send(
        self,
        user: User,
        device: Device,
        action: str,
        value: dict,
        instance: str | None,
        name: str,
        header: dict,
    ) -> None:
        """Answer within the deadline; a slower device's result follows as a late report."""
        command = Command(device.id, action, value, instance, self.name)
        result = self.context.send_pending(user, command, self.deadline)
        if result.outcome is Outcome.PENDING:
            asked = {
                "name": name,
                "message_id": header.get("messageId"),
                "version": header.get("payLoadVersion"),
            }
            self.context.facts.put(pending_key(device.id, action), asked, PENDING_TTL)

    def _query(self, header: dict, name: str, device: Device) -> dict:
        if not self.context.online(device):
            raise GenieError("IOT_DEVICE_OFFLINE")
        current = state(profile(device.type), self.context.state(device), 1)
        if name != "Query":
            current = {k: v for k, v in current.items() if k == QUERIES.get(name)}
        properties = [{"name": k, "value": v} for k, v in current.items()]
        if name == "Query":
            properties.append({"name": "onlinestate", "value": "online"})
        return self._reply(
            header, f"{name}Response", {"deviceId": device.id}, properties=properties
        )

    def _v2(self, header: dict, name: str, payload: Payload, user: User) -> dict:
        ids = list(dict.fromkeys(payload.deviceIds or ()))  # each device once, in order
        if not ids:
            raise GenieError("INVALIDATE_PARAMS", "deviceIds must be a list of ids")
        if len(ids) > MAX_DEVICES:
            raise GenieError("INVALIDATE_PARAMS", f"at most {MAX_DEVICES} devices per directive")
        if name == "thing.attribute.get":
            return self._reply(
                header,
                "CorrectResponse",
                {"deviceResponseList": [self._status_entry(user, device_id) for device_id in ids]},
            )
        if name not in ("thing.attribute.set", "thing.attribute.adjust"):
            raise GenieError("DEVICE_NOT_SUPPORT_FUNCTION")
        outcome: dict[str, GenieError | None] = {}
        commands, owners = [], []
        for device_id in ids:
            try:
                device = self._device(user, device_id)
                for action, value, instance in v2_actions(name, device, payload.params):
                    commands.append(Command(device.id, action, value, instance, self.name))
                    owners.append(device_id)
                outcome[device_id] = None
            except BridgeError as exc:
                outcome[device_id] = from_core(exc)
            except GenieError as exc:
                outcome[device_id] = exc
        results = self.context.send_many(user, commands, self.deadline, pending=True)
        for device_id, command, result in zip(owners, commands, results, strict=True):
            if isinstance(result, BridgeError):
                outcome[device_id] = outcome[device_id] or from_core(result)
            elif result.outcome is Outcome.PENDING:
                asked = {"name": name, "message_id": header.get("messageId"), "version": 2}
                self.context.facts.put(pending_key(device_id, command.action), asked, PENDING_TTL)
        return self._reply(
            header,
            "CorrectResponse",
            {
                "deviceResponseList": [
                    {
                        "deviceId": device_id,
                        "errorCode": error.code if error else "SUCCESS",
                        "message": error.message if error else "SUCCESS",
                    }
                    for device_id, error in outcome.items()
                ]
            },
        )

    def _status_entry(self, user: User, device_id: str) -> dict:
        try:
            device = self._device(user, device_id)
        except BridgeError as exc:
            error = from_core(exc)
            return {"deviceId": device_id, "errorCode": error.code, "message": error.message}
        return {
            "deviceId": device_id,
            "errorCode": "SUCCESS",
            "message": "SUCCESS",
            "status": state(profile(device.type), self.context.state(device), 2),
        }

    def _discover(self, user: User, version: int) -> list[dict]:
        return self.context.render_each(
            self.context.devices(user)[:MAX_LISTED], lambda device: self._entry(device, version)
        )

    def _entry(self, device: Device, version: int) -> dict | None:
        shape = profile(device.type)
        if shape is None:
            return None
        current = state(shape, self.context.state(device), version)
        entry: dict[str, Any] = {
            "deviceId": device.id,
            "deviceName": device.name,
            "deviceType": shape.device_type,
            "brand": self.context.settings.brand,
            "model": device.type,
            "icon": self.context.settings.icon,
        }
        if device.room:
            entry["zone"] = device.room
        if version == 2:
            entry["status"] = current
        else:
            entry["properties"] = [{"name": k, "value": v} for k, v in current.items()]
            entry["actions"] = list(shape.actions)
        return entry

    def _remember(self, user: User, token: str | None, version: int) -> None:
        """Reports need the user's token and protocol generation; keep them, encrypted."""
        link = self.context.links.get(user.id) or {}
        if token and (link.get("token"), link.get("version")) != (token, version):
            self.context.links.put(user.id, {"token": token, "version": version})

    # -- proactive reports --------------------------------------------------

    def wants_reports(self, user: User) -> bool:
        link = self.context.links.get(user.id)
        return bool(link and link.get("token"))

    def report(self, user: User, change: StateChange) -> None:
        self.reports.send(user, change)
