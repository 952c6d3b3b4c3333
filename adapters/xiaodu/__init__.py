"""Baidu XiaoDu (DuerOS smart-home skills): discovery, control, query, change reports."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import requests

from adapters.xiaodu import coverage as xiaodu_coverage
from adapters.xiaodu import signing
from adapters.xiaodu.attributes import Profile, profile, sample
from adapters.xiaodu.directive import (
    CONTROL,
    DISCOVERY,
    QUERY,
    UNBIND,
    DuerDirective,
    error_reply,
)
from adapters.xiaodu.errors import (
    DRIVER_INTERNAL,
    TARGET_OFFLINE,
    UNEXPECTED_INFORMATION,
    UNSUPPORTED_OPERATION,
    UNSUPPORTED_TARGET,
    DuerError,
    busy,
    from_core,
    malformed,
)
from adapters.xiaodu.handlers import CONTROLS, action_for, command_for, request_name
from adapters.xiaodu.models import Envelope, Salvage
from adapters.xiaodu.reports import Reports
from adapters.xiaodu.settings import XiaoDuSettings
from bridge.plugin import (
    AdapterContext,
    BridgeError,
    Command,
    Device,
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

MAX_ATTRIBUTES = 10
MAX_CERTS = 8
"""Certificates kept by URL: a caller picks the URL, so the cache has a bound."""
HANDLERS: Registry = Registry()
QUERIES = {
    "GetTemperatureReadingRequest": "getTemperatureReading",
    "GetTargetTemperatureRequest": "getTargetTemperature",
    "GetTurnOnStateRequest": "getTurnOnState",
    "GetHumidityRequest": "getHumidity",
    "GetLockStateRequest": "getLockState",
    "GetFanSpeedRequest": "getFanSpeed",
}
"""Query directives and the action a device type must list to answer each."""
QUERIED = {
    "getTurnOnState": "turnOnState",
    "getHumidity": "humidity",
    "getLockState": "lockState",
    "getFanSpeed": "fanSpeed",
}
"""The attribute a simple query answers with."""


def _salvaged_id(body: bytes) -> str:
    """The messageId of a body that is no directive, if it has a usable one."""
    try:
        found = boundary.convert(boundary.loads(body), Salvage)
    except boundary.Malformed:
        return ""
    return found.header.messageId if found.header else ""


class XiaoduAdapter(WebhookAdapter[DuerDirective]):
    name = "xiaodu"
    title = "XiaoDu"
    settings_model = XiaoDuSettings
    aka = ("dueros", "baidu")
    report_attempts: ClassVar[int | None] = 5
    report_retry_min: ClassVar[float] = 1.0
    learns_by_asking: ClassVar[bool] = True
    handlers = HANDLERS

    @classmethod
    def coverage(cls, type_name: str) -> cov.Coverage | None:
        return xiaodu_coverage.coverage(type_name)

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        self.reports = Reports(context)
        self.deadline = context.settings.deadline
        self._certs: dict[str, bytes] = {}

    # -- the skeleton's hooks -------------------------------------------------

    def parse(self, request: VoiceRequest) -> DuerDirective:
        try:
            doc = boundary.loads(request.body)
        except boundary.Malformed:
            raise malformed("body") from None
        try:
            found = boundary.convert(doc, Envelope)
        except boundary.Malformed as exc:
            raise DuerError(UNEXPECTED_INFORMATION, str(exc)) from None
        header, payload = found.header, found.payload
        token = (
            payload.accessToken
            or request.headers.get("Authorization", "").removeprefix("Bearer ")[:2048]
            or None
        )
        return DuerDirective(
            header.namespace, header.name, header.messageId, payload, token, request.journey
        )

    def unparsed(self, request: VoiceRequest, exc: PlatformError) -> VoiceReply:
        return error_reply(malformed("body"), _salvaged_id(request.body))

    def verify(self, directive: DuerDirective, request: VoiceRequest) -> None:
        self._check_signature(request)

    def unsupported(self, directive: DuerDirective) -> DuerError:
        if directive.namespace not in (DISCOVERY, CONTROL, QUERY, UNBIND):
            return malformed("header.namespace")
        return DuerError(UNSUPPORTED_OPERATION)

    def from_core(self, exc: BridgeError, directive: DuerDirective) -> DuerError:
        return from_core(exc, query=directive.namespace == QUERY)

    def internal_error(self) -> VoiceReply:
        return error_reply(DuerError(DRIVER_INTERNAL))

    def reply_error(self, reply: VoiceReply) -> str | None:
        name = reply.body.get("header", {}).get("name") if isinstance(reply.body, dict) else None
        if isinstance(name, str) and name.endswith("Error"):
            return name
        return super().reply_error(reply)

    def refuse(self, reason: str, status: int = 400) -> VoiceReply:
        self.context.log.info("malformed directive: %s", reason)
        return error_reply(malformed("body"))

    def _check_signature(self, request: VoiceRequest) -> None:
        url, signature = request.headers.get("signaturecerturl"), request.headers.get("signature")
        if not self.context.settings.verify_signature or not (url and signature):
            return
        if not signing.cert_url_ok(url):
            raise malformed("signaturecerturl")
        cert = self._certs.get(url)
        if cert is None:
            try:
                cert = self.context.http.get(url, timeout=5).content
            except requests.RequestException as exc:
                self.context.log.warning("DuerOS certificate unreachable: %s", exc)
                raise malformed("signaturecerturl") from None
            if len(self._certs) >= MAX_CERTS:  # Baidu rotates a few; callers choose the URL
                self._certs.pop(next(iter(self._certs)))
            self._certs[url] = cert
        if not signing.verify_request(request.body, signature, cert):
            raise malformed("signature")

    # -- handlers: one per kind of directive ---------------------------------

    @HANDLERS.register((DISCOVERY, "DiscoverAppliancesRequest"))
    def _discover(self, d: DuerDirective, request: VoiceRequest) -> VoiceReply:
        """Never an error envelope: DuerOS wants a list, empty when anything is wrong."""
        return d.reply("DiscoverAppliancesResponse", self._appliances(d.token, d.payload.openUid))

    @HANDLERS.register((UNBIND, "UnbindBotRequest"))
    def _unbind(self, d: DuerDirective, request: VoiceRequest) -> VoiceReply:
        try:
            user = self.context.authenticate(d.token, d.journey)
        except BridgeError:
            user = None
        if d.token:
            self.context.unlink(d.token)
        if user is not None:
            self.context.links.revoke(user.id, "the user unbound the skill")
        return d.reply("UnbindBotResponse", {})

    def _target(self, d: DuerDirective) -> tuple[User, Device, Profile]:
        """The directive's user, its appliance, and how DuerOS sees that device."""
        user = self.context.authenticate(d.token, d.journey)
        appliance = d.payload.appliance
        if appliance is None or appliance.applianceId is None:
            raise malformed("appliance.applianceId")
        device = self.context.device(user, appliance.applianceId)
        shape = profile(device.type)
        if shape is None:
            raise DuerError(UNSUPPORTED_TARGET)
        return user, device, shape

    @HANDLERS.register((QUERY, "ReportStateRequest"))
    def _report_state(self, d: DuerDirective, request: VoiceRequest) -> VoiceReply:
        """DuerOS reads a device's state after each change report: what it holds after."""
        user, device, shape = self._target(d)
        first = d.payload.appliance.attributeName if d.payload.appliance else None
        state = self.context.state(device)
        told = {a.shadow: state[a.shadow]["value"] for a in shape.attributes if a.shadow in state}
        self.context.held(user, device, told)
        attributes = self._attributes(device, first, state)
        return d.reply("ReportStateResponse", {"attributes": attributes})

    @HANDLERS.register(*((QUERY, name) for name in QUERIES))
    def _query(self, d: DuerDirective, request: VoiceRequest) -> VoiceReply:
        _, device, shape = self._target(d)
        action = QUERIES[d.name]
        if action not in shape.actions:
            raise DuerError(UNSUPPORTED_OPERATION)
        return d.reply(d.name.replace("Request", "Response"), self._answer(action, device))

    @HANDLERS.register(*((CONTROL, request_name(action)) for action in CONTROLS))
    def _control(self, d: DuerDirective, request: VoiceRequest) -> VoiceReply:
        user, device, shape = self._target(d)
        action = action_for(d.name)
        if action not in shape.actions:
            raise DuerError(UNSUPPORTED_OPERATION)
        moving = None
        if action == "pause":  # remember which way they were moving, for "continue"
            current = self.context.state(device).get("mode:Blind.Movement", {}).get("value")
            if current in ("Open", "Close"):
                self.context.facts.put(f"paused:{device.id}", current, ttl=86400.0)
        elif action == "continue":
            moving = self.context.facts.pop(f"paused:{device.id}")
        step = command_for(action, d.payload, device, moving)
        command = Command(
            device.id, step.name, step.value, step.instance, self.name, journey=d.journey_id
        )
        # Answered or PENDING (a device that listens only later): DuerOS has no deferred
        # reply, so the Confirmation says accepted, with the last known attributes, and
        # the change is reported when it lands (reports.py). A refusal raises.
        self.context.send(user, command, self.deadline)
        return d.reply(
            d.name.replace("Request", "Confirmation"), {"attributes": self._attributes(device)}
        )

    def _attributes(
        self, device: Device, first: str | None = None, state: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The device's attributes from the shadow (or `state`, read already): the asked one
        first, at most ten."""
        shape = profile(device.type)
        state = state if state is not None else self.context.state(device)
        now = time.time()
        found = [sample(a, state[a.shadow]) for a in shape.attributes if a.shadow in state]
        found.sort(key=lambda a: a["name"] != first)
        reachable = "REACHABLE" if self.context.online(device) else "UNREACHABLE"
        found.append(
            {
                "name": "connectivity",
                "value": reachable,
                "scale": "",
                "timestampOfSample": int(now),
                "uncertaintyInMilliseconds": 0,
                "legalValue": "(UNREACHABLE, REACHABLE)",
            }
        )
        return found[:MAX_ATTRIBUTES]

    def _answer(self, action: str, device: Device) -> dict[str, Any]:
        if not self.context.online(device):
            raise DuerError(TARGET_OFFLINE)
        state = self.context.state(device)
        attributes = {a["name"]: a for a in self._attributes(device)}
        if action == "getTemperatureReading":
            if "temperature" not in state:
                raise busy("no reading yet")
            return {
                "temperatureReading": {"value": state["temperature"]["value"], "scale": "CELSIUS"}
            }
        if action == "getTargetTemperature":
            if "targetTemperature" not in state:
                raise busy("not set yet")
            mode = state.get("thermostatMode", {}).get("value", "AUTO")
            return {
                "targetTemperature": {
                    "value": state["targetTemperature"]["value"],
                    "scale": "CELSIUS",
                },
                "temperatureMode": {"value": mode, "friendlyName": mode.lower()},
            }
        wanted = QUERIED[action]
        return {"attributes": [attributes[wanted]] if wanted in attributes else []}

    def _appliances(self, token: str | None, open_uid: str | None) -> dict[str, Any]:
        try:
            user = self.context.authenticate(token)
            devices = self.context.devices(user)
        except BridgeError as exc:
            self.context.log.warning("discovery refused: %s", exc.message)
            return {"discoveredAppliances": [], "discoveredGroups": []}
        if open_uid:
            link = self.context.links.get(user.id) or {}
            if link.get("openUid") != open_uid:
                self.context.links.put(user.id, {**link, "openUid": open_uid[:128]})
        appliances = self.context.render_each(devices[:300], self._appliance)
        groups: dict[str, list[str]] = {}
        listed = {a["applianceId"] for a in appliances}
        for device in devices[:300]:
            if device.room and device.id in listed:
                groups.setdefault(device.room[:20], []).append(device.id)
        return {
            "discoveredAppliances": appliances,
            "discoveredGroups": [
                {
                    "groupName": room,
                    "applianceIds": ids[:50],
                    "groupNotes": room,
                    "additionalGroupDetails": {},
                }
                for room, ids in list(groups.items())[:10]
            ],
        }

    def _appliance(self, device: Device) -> dict[str, Any] | None:
        shape = profile(device.type)
        if shape is None:
            return None
        return {
            "applianceId": device.id,
            "applianceTypes": [shape.appliance_type],
            "friendlyName": device.name[:128],
            "friendlyDescription": f"{device.name} via Voice Bridge"[:128],
            "manufacturerName": "Voice Bridge",
            "modelName": device.type,
            "version": "1.0",
            "isReachable": self.context.online(device),
            "actions": list(shape.actions),
            "additionalApplianceDetails": {},
            "attributes": [
                {
                    "name": "name",
                    "value": device.name,
                    "scale": "",
                    "timestampOfSample": int(time.time()),
                    "uncertaintyInMilliseconds": 0,
                    "legalValue": "STRING",
                },
                *self._attributes(device),
            ][:MAX_ATTRIBUTES],
        }

    def takes_reports(self, link: dict[str, Any]) -> bool:
        return bool(link.get("openUid"))

    def sink(self) -> Sink:
        return self.reports
