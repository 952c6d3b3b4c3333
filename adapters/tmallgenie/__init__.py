"""Tmall Genie (AliGenie smart home), protocol v1 and v2, with reports through TOP."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar

from adapters.tmallgenie import coverage as tmallgenie_coverage
from adapters.tmallgenie.controls import V1, v1_action, v2_actions
from adapters.tmallgenie.directive import (
    CONTROL,
    DISCOVERY,
    QUERY,
    GenieDirective,
    error_body,
)
from adapters.tmallgenie.errors import (
    DEVICE_NOT_SUPPORT_FUNCTION,
    INVALIDATE_PARAMS,
    IOT_DEVICE_OFFLINE,
    REFUSALS,
    SERVICE_ERROR,
    GenieError,
    from_core,
)
from adapters.tmallgenie.models import (
    MAX_DEVICES,
    Envelope,
    HeaderSalvage,
    Salvage,
)
from adapters.tmallgenie.profiles import profile, state
from adapters.tmallgenie.reports import PENDING_TTL, Reports, pending_key
from adapters.tmallgenie.settings import GenieSettings
from bridge.plugin import (
    AdapterContext,
    BridgeError,
    Command,
    Device,
    InvalidCommand,
    Outcome,
    PlatformError,
    Registry,
    Sink,
    User,
    VoiceReply,
    VoiceRequest,
    WebhookAdapter,
    boundary,
)
from bridge.plugin import coverage as cov

MAX_LISTED = 300
"""Devices one discovery answer lists at most (as for Alexa and XiaoDu)."""
QUERIES = {
    "QueryPowerState": "powerstate",
    "QueryBrightness": "brightness",
    "QueryTemperature": "temperature",
    "QueryHumidity": "humidity",
    "QueryColor": "color",
    "QueryMode": "mode",
    "QueryWindSpeed": "windspeed",
}
HANDLERS: Registry = Registry()


def _salvaged(body: bytes) -> dict[str, Any]:
    """From a body that is no directive, the header fields that are still usable."""
    try:
        header = boundary.convert(boundary.loads(body), Salvage).header or HeaderSalvage()
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


def _authenticated(handler: Callable) -> Callable:
    """A user's directive: the token is kept for reports once the directive is taken (a
    refused one changes nothing)."""

    @functools.wraps(handler)
    def run(self: TmallGenieAdapter, d: GenieDirective, request: VoiceRequest) -> VoiceReply:
        user = self.context.authenticate(d.token, d.journey)
        try:
            reply = handler(self, d, user)
        except (BridgeError, GenieError) as exc:
            refused = isinstance(exc, InvalidCommand) or (
                isinstance(exc, GenieError) and exc.code in REFUSALS
            )
            if not refused:  # understood; the device could not do it
                self._remember(user, d.token, d.version)
            raise
        self._remember(user, d.token, d.version)
        return reply

    return run


class TmallGenieAdapter(WebhookAdapter[GenieDirective]):
    name = "tmallgenie"
    title = "Tmall Genie"
    settings_model = GenieSettings
    aka = ("tmall", "aligenie", "taobao")
    report_attempts: ClassVar[int | None] = 5
    report_retry_min: ClassVar[float] = 1.0
    handlers = HANDLERS

    @classmethod
    def coverage(cls, type_name: str) -> cov.Coverage | None:
        return tmallgenie_coverage.coverage(type_name)

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        self.deadline = context.settings.deadline
        self.reports = Reports(context)

    # -- directives ---------------------------------------------------------

    # -- the skeleton's hooks -------------------------------------------------

    def parse(self, request: VoiceRequest) -> GenieDirective:
        try:
            found = boundary.convert(boundary.loads(request.body), Envelope)
        except boundary.Malformed as exc:
            raise GenieError(INVALIDATE_PARAMS, str(exc)) from None
        header, payload = found.header, found.payload
        token = (
            payload.accessToken
            or request.headers.get("Authorization", "").removeprefix("Bearer ")[:2048]
            or None
        )
        return GenieDirective(
            header.namespace,
            header.name,
            header.messageId,
            header.payLoadVersion,
            payload,
            token,
            request.journey,
        )

    def unparsed(self, request: VoiceRequest, exc: PlatformError) -> VoiceReply:
        return VoiceReply(error_body(_salvaged(request.body), exc))  # type: ignore[arg-type]

    def unsupported(self, directive: GenieDirective) -> GenieError:
        return GenieError(DEVICE_NOT_SUPPORT_FUNCTION)

    def from_core(self, exc: BridgeError, directive: GenieDirective) -> GenieError:
        return from_core(exc)

    def internal_error(self) -> VoiceReply:
        return VoiceReply(error_body({}, GenieError(SERVICE_ERROR, "the bridge failed")))

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
        return VoiceReply(error_body({}, GenieError(INVALIDATE_PARAMS, reason)))

    # -- handlers ------------------------------------------------------------

    @HANDLERS.register((DISCOVERY,))
    @_authenticated
    def _discovery(self, d: GenieDirective, user: User) -> VoiceReply:
        return d.reply("DiscoveryDevicesResponse", {"devices": self._discover(user, d.version)})

    @HANDLERS.register(*((1, CONTROL, name) for name in V1))
    @_authenticated
    def _v1_control(self, d: GenieDirective, user: User) -> VoiceReply:
        device = self._v1_device(d, user)
        action, value, instance = v1_action(d.name, device, d.payload.value)
        self._send(user, device, action, value, instance, d)
        return d.reply(f"{d.name}Response", {"deviceId": device.id})

    @HANDLERS.register(*((1, QUERY, name) for name in ("Query", *QUERIES)))
    @_authenticated
    def _v1_query(self, d: GenieDirective, user: User) -> VoiceReply:
        device = self._v1_device(d, user)
        if not self.context.online(device):
            raise GenieError(IOT_DEVICE_OFFLINE)
        current = state(profile(device.type), self.context.state(device), 1)
        if d.name != "Query":
            current = {k: v for k, v in current.items() if k == QUERIES.get(d.name)}
        properties = [{"name": k, "value": v} for k, v in current.items()]
        if d.name == "Query":
            properties.append({"name": "onlinestate", "value": "online"})
        return d.reply(f"{d.name}Response", {"deviceId": device.id}, properties=properties)

    def _v1_device(self, d: GenieDirective, user: User) -> Device:
        """The directive's device, if its type lists the directive."""
        device = self._device(user, d.payload.deviceId)
        if d.name not in profile(device.type).actions:
            raise GenieError(DEVICE_NOT_SUPPORT_FUNCTION)
        return device

    def _device(self, user: User, device_id: str | None) -> Device:
        if device_id is None:
            raise GenieError(INVALIDATE_PARAMS, "deviceId is required")
        device = self.context.device(user, device_id)
        if profile(device.type) is None:
            raise GenieError(DEVICE_NOT_SUPPORT_FUNCTION)
        return device

    def _send(
        self,
        user: User,
        device: Device,
        action: str,
        value: dict,
        instance: str | None,
        d: GenieDirective,
    ) -> None:
        """Answer within the deadline; a slower device's result follows as a late report."""
        command = Command(device.id, action, value, instance, self.name, journey=d.journey_id)
        result = self.context.send_pending(user, command, self.deadline)
        if result.outcome is Outcome.PENDING:
            asked = {"name": d.name, "message_id": d.message_id, "version": d.version}
            self.context.facts.put(pending_key(device.id, action), asked, PENDING_TTL)

    def _ids(self, d: GenieDirective) -> list[str]:
        ids = list(dict.fromkeys(d.payload.deviceIds or ()))  # each device once, in order
        if not ids:
            raise GenieError(INVALIDATE_PARAMS, "deviceIds must be a list of ids")
        if len(ids) > MAX_DEVICES:
            raise GenieError(INVALIDATE_PARAMS, f"at most {MAX_DEVICES} devices per directive")
        return ids

    @HANDLERS.register((2, "thing.attribute.get"))
    @_authenticated
    def _v2_get(self, d: GenieDirective, user: User) -> VoiceReply:
        entries = [self._status_entry(user, device_id) for device_id in self._ids(d)]
        return d.reply("CorrectResponse", {"deviceResponseList": entries})

    @HANDLERS.register((2, "thing.attribute.set"), (2, "thing.attribute.adjust"))
    @_authenticated
    def _v2_set(self, d: GenieDirective, user: User) -> VoiceReply:
        outcome: dict[str, GenieError | None] = {}
        commands, owners = [], []
        for device_id in self._ids(d):
            try:
                device = self._device(user, device_id)
                for action, value, instance in v2_actions(d.name, device, d.payload.params):
                    commands.append(
                        Command(device.id, action, value, instance, self.name, journey=d.journey_id)
                    )
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
                asked = {"name": d.name, "message_id": d.message_id, "version": 2}
                self.context.facts.put(pending_key(device_id, command.action), asked, PENDING_TTL)
        listed = [
            {
                "deviceId": device_id,
                "errorCode": error.code if error else "SUCCESS",
                "message": error.message if error else "SUCCESS",
            }
            for device_id, error in outcome.items()
        ]
        return d.reply("CorrectResponse", {"deviceResponseList": listed})

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

    def takes_reports(self, link: dict[str, Any]) -> bool:
        return bool(link.get("token"))

    def sink(self) -> Sink:
        return self.reports
