"""Tmall Genie (AliGenie smart home), protocol v1 and v2, with reports through TOP."""

from __future__ import annotations

from typing import Any, ClassVar

from adapters.base import Adapter, AdapterContext, VoiceReply, VoiceRequest
from adapters.tmallgenie.controls import v1_action, v2_actions
from adapters.tmallgenie.errors import GenieError, from_core
from adapters.tmallgenie.profiles import profile, state
from adapters.tmallgenie.reports import Reports
from bridge.model import BridgeError, Command, Device, Outcome, StateChange, User

DISCOVERY = "AliGenie.Iot.Device.Discovery"
CONTROL = "AliGenie.Iot.Device.Control"
QUERY = "AliGenie.Iot.Device.Query"
QUERIES = {
    "QueryPowerState": "powerstate",
    "QueryBrightness": "brightness",
    "QueryTemperature": "temperature",
    "QueryHumidity": "humidity",
    "QueryColor": "color",
    "QueryMode": "mode",
    "QueryWindSpeed": "windspeed",
}


class TmallGenieAdapter(Adapter):
    name = "tmallgenie"
    report_attempts: ClassVar[int | None] = 5
    report_retry_min: ClassVar[float] = 1.0

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        self.deadline = float(context.setting("deadline", "1.8"))
        self.pending: dict[tuple[str, str], dict] = {}
        self.reports = Reports(context, self.pending)

    # -- directives ---------------------------------------------------------

    def handle(self, request: VoiceRequest) -> VoiceReply:
        header: dict[str, Any] = {}
        try:
            doc = request.json()
            header, payload = doc["header"], doc["payload"]
            version = header.get("payLoadVersion")
            if version not in (1, 2) or isinstance(version, bool) or not isinstance(payload, dict):
                raise GenieError("INVALIDATE_PARAMS", "payLoadVersion must be 1 or 2")
        except (ValueError, KeyError, TypeError):
            return VoiceReply(self._error(header, GenieError("INVALIDATE_PARAMS"), None))
        except GenieError as exc:
            return VoiceReply(self._error(header, exc, None))
        device_id = payload.get("deviceId")
        try:
            return VoiceReply(self._dispatch(header, payload, version, request))
        except BridgeError as exc:
            return VoiceReply(self._error(header, from_core(exc), device_id))
        except GenieError as exc:
            return VoiceReply(self._error(header, exc, device_id))

    def internal_error(self) -> VoiceReply:
        return VoiceReply(self._error({}, GenieError("SERVICE_ERROR", "the bridge failed"), None))

    def _reply(self, header: dict, name: str, payload: dict, **extra: Any) -> dict:
        """Copy namespace, messageId and payLoadVersion; change only the name."""
        return {**extra, "header": {**header, "name": name}, "payload": payload}

    def _error(self, header: dict, error: GenieError, device_id: Any) -> dict:
        header = {
            "namespace": header.get("namespace", CONTROL),
            "messageId": header.get("messageId", ""),
            "payLoadVersion": header.get("payLoadVersion", 1),
        }
        payload = {"errorCode": error.code, "message": error.message}
        if isinstance(device_id, str):
            payload = {"deviceId": device_id, **payload}
        return self._reply(header, "ErrorResponse", payload)

    def _dispatch(self, header: dict, payload: dict, version: int, request: VoiceRequest) -> dict:
        token = (
            payload.get("accessToken")
            or request.headers.get("Authorization", "").removeprefix("Bearer ")
            or None
        )
        user = self.context.authenticate(token)
        self._remember(user, token, version)
        namespace, name = header.get("namespace"), header.get("name")
        if namespace == DISCOVERY:
            return self._reply(
                header, "DiscoveryDevicesResponse", {"devices": self._discover(user, version)}
            )
        if version == 2:
            return self._v2(header, name, payload, user)
        device = self._device(user, payload.get("deviceId"))
        shape = profile(device.type)
        if name not in shape.actions:
            raise GenieError("DEVICE_NOT_SUPPORT_FUNCTION")
        if namespace == QUERY:
            return self._query(header, name, device)
        action, value, instance = v1_action(name, device, payload.get("value"))
        self._send(user, device, action, value, instance, name, header)
        return self._reply(header, f"{name}Response", {"deviceId": device.id})

    def _device(self, user: User, device_id: Any) -> Device:
        if not isinstance(device_id, str):
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
            self.pending[(device.id, action)] = {
                "name": name,
                "message_id": header.get("messageId"),
                "version": header.get("payLoadVersion"),
            }

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

    def _v2(self, header: dict, name: str, payload: dict, user: User) -> dict:
        ids = payload.get("deviceIds")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise GenieError("INVALIDATE_PARAMS", "deviceIds must be a list of ids")
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
                for action, value, instance in v2_actions(name, device, payload.get("params")):
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
                self.pending[(device_id, command.action)] = {
                    "name": name,
                    "message_id": header.get("messageId"),
                    "version": 2,
                }
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
        devices = []
        for device in self.context.devices(user):
            shape = profile(device.type)
            if shape is None:
                continue
            current = state(shape, self.context.state(device), version)
            entry: dict[str, Any] = {
                "deviceId": device.id,
                "deviceName": device.name,
                "deviceType": shape.device_type,
                "brand": self.context.setting("brand", "VoiceBridge"),
                "model": device.type,
                "icon": self.context.setting("icon", "https://voice-bridge.invalid/icon.png"),
            }
            if device.room:
                entry["zone"] = device.room
            if version == 2:
                entry["status"] = current
            else:
                entry["properties"] = [{"name": k, "value": v} for k, v in current.items()]
                entry["actions"] = list(shape.actions)
            devices.append(entry)
        return devices

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
