"""Baidu XiaoDu (DuerOS smart-home skills): discovery, control, query, change reports."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import requests

from adapters.xiaodu import signing
from adapters.xiaodu.attributes import profile, sample
from adapters.xiaodu.errors import DuerError, from_core, malformed
from adapters.xiaodu.handlers import action_for, command_for
from adapters.xiaodu.models import Envelope, Payload, Salvage
from adapters.xiaodu.reports import Reports
from adapters.xiaodu.settings import XiaoDuSettings
from bridge.plugin import (
    Adapter,
    AdapterContext,
    BridgeError,
    Command,
    Device,
    StateChange,
    User,
    VoiceReply,
    VoiceRequest,
    boundary,
    journeys,
)

DISCOVERY = "DuerOS.ConnectedHome.Discovery"
CONTROL = "DuerOS.ConnectedHome.Control"
QUERY = "DuerOS.ConnectedHome.Query"
MAX_ATTRIBUTES = 10
MAX_CERTS = 8
"""Certificates kept by URL: a caller picks the URL, so the cache has a bound."""


def envelope(namespace: str, name: str, message_id: str, payload: dict[str, Any]) -> dict:
    return {
        "header": {
            "namespace": namespace,
            "name": name,
            "messageId": message_id,
            "payloadVersion": "1",
        },
        "payload": payload,
    }


def _salvaged_id(doc: Any) -> str:
    try:
        found = boundary.convert(doc, Salvage)
    except boundary.Malformed:
        return ""
    return found.header.messageId if found.header else ""


class XiaoduAdapter(Adapter):
    name = "xiaodu"
    title = "XiaoDu"
    settings_model = XiaoDuSettings
    aka = ("dueros", "baidu")
    report_attempts: ClassVar[int | None] = 5
    report_retry_min: ClassVar[float] = 1.0

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        self.reports = Reports(context)
        self.deadline = context.settings.deadline
        self._certs: dict[str, bytes] = {}

    def handle(self, request: VoiceRequest) -> VoiceReply:
        try:
            doc = boundary.loads(request.body)
        except boundary.Malformed:
            return self.refuse("the body is not JSON")
        try:
            directive = boundary.convert(doc, Envelope)
        except boundary.Malformed as exc:
            return self._malformed(str(exc), _salvaged_id(doc))
        header, payload = directive.header, directive.payload
        namespace, name, message_id = header.namespace, header.name, header.messageId
        journeys.directive(name)
        try:
            self._check_signature(request)
            return VoiceReply(self._dispatch(namespace, name, message_id, payload, request))
        except BridgeError as exc:
            error = from_core(exc, query=namespace == QUERY)
        except DuerError as exc:
            error = exc
        return VoiceReply(envelope(CONTROL, error.name, message_id, error.payload))

    def internal_error(self) -> VoiceReply:
        return VoiceReply(envelope(CONTROL, "DriverInternalError", "", {}))

    def reply_error(self, reply: VoiceReply) -> str | None:
        name = reply.body.get("header", {}).get("name") if isinstance(reply.body, dict) else None
        if isinstance(name, str) and name.endswith("Error"):
            return name
        return super().reply_error(reply)

    def refuse(self, reason: str, status: int = 400) -> VoiceReply:
        return self._malformed(reason, "")

    def _malformed(self, reason: str, message_id: str) -> VoiceReply:
        self.context.log.info("malformed directive: %s", reason)
        return VoiceReply(
            envelope(
                CONTROL,
                "UnexpectedInformationReceivedError",
                message_id,
                {"faultingParameter": "body"},
            )
        )

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

    def _dispatch(
        self,
        namespace: str,
        name: str,
        message_id: str,
        payload: Payload,
        request: VoiceRequest,
    ) -> dict:
        token = (
            payload.accessToken
            or request.headers.get("Authorization", "").removeprefix("Bearer ")[:2048]
            or None
        )
        if (namespace, name) == (DISCOVERY, "DiscoverAppliancesRequest"):
            return envelope(
                namespace,
                "DiscoverAppliancesResponse",
                message_id,
                self._discover(token, payload.openUid),
            )
        if name == "UnbindBotRequest":
            return self._unbind(namespace, message_id, token)
        user = self.context.authenticate(token)
        appliance = payload.appliance
        if appliance is None or appliance.applianceId is None:
            raise malformed("appliance.applianceId")
        device = self.context.device(user, appliance.applianceId)
        shape = profile(device.type)
        if shape is None:
            raise DuerError("UnsupportedTargetError")
        if name == "ReportStateRequest":
            first = appliance.attributeName
            return envelope(
                QUERY,
                "ReportStateResponse",
                message_id,
                {"attributes": self._attributes(device, first)},
            )
        action = action_for(name)
        if action not in shape.actions:
            raise DuerError("UnsupportedOperationError")
        if namespace == QUERY:
            return envelope(
                QUERY, name.replace("Request", "Response"), message_id, self._query(action, device)
            )
        if namespace != CONTROL:
            raise malformed("header.namespace")
        moving = None
        if action == "pause":  # remember which way they were moving, for "continue"
            current = self.context.state(device).get("mode:Blind.Movement", {}).get("value")
            if current in ("Open", "Close"):
                self.context.facts.put(f"paused:{device.id}", current, ttl=86400.0)
        elif action == "continue":
            moving = self.context.facts.pop(f"paused:{device.id}")
        step = command_for(action, payload, device, moving)
        command = Command(device.id, step.name, step.value, step.instance, self.name)
        # Answered or PENDING (a device that listens only later): DuerOS has no deferred
        # reply, so the Confirmation says accepted, with the last known attributes, and
        # the change is reported when it lands (reports.py). A refusal raises.
        self.context.send(user, command, self.deadline)
        return envelope(
            CONTROL,
            name.replace("Request", "Confirmation"),
            message_id,
            {"attributes": self._attributes(device)},
        )

    def _attributes(self, device: Device, first: str | None = None) -> list[dict[str, Any]]:
        """The device's attributes from the shadow: the asked one first, at most ten."""
        shape = profile(device.type)
        state = self.context.state(device)
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

    def _query(self, action: str, device: Device) -> dict[str, Any]:
        if not self.context.online(device):
            raise DuerError("TargetOfflineError")
        state = self.context.state(device)
        attributes = {a["name"]: a for a in self._attributes(device)}
        if action == "getTemperatureReading":
            if "temperature" not in state:
                raise DuerError(
                    "UnableToGetValueError",
                    errorInfo={"code": "DEVICE_BUSY", "description": "no reading yet"},
                )
            return {
                "temperatureReading": {"value": state["temperature"]["value"], "scale": "CELSIUS"}
            }
        if action == "getTargetTemperature":
            if "targetTemperature" not in state:
                raise DuerError(
                    "UnableToGetValueError",
                    errorInfo={"code": "DEVICE_BUSY", "description": "not set yet"},
                )
            mode = state.get("thermostatMode", {}).get("value", "AUTO")
            return {
                "targetTemperature": {
                    "value": state["targetTemperature"]["value"],
                    "scale": "CELSIUS",
                },
                "temperatureMode": {"value": mode, "friendlyName": mode.lower()},
            }
        wanted = {
            "getTurnOnState": "turnOnState",
            "getHumidity": "humidity",
            "getLockState": "lockState",
            "getFanSpeed": "fanSpeed",
        }[action]
        return {"attributes": [attributes[wanted]] if wanted in attributes else []}

    def _discover(self, token: str | None, open_uid: str | None) -> dict[str, Any]:
        """Never an error envelope: DuerOS wants a list, empty when anything is wrong."""
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

    def _unbind(self, namespace: str, message_id: str, token: str | None) -> dict:
        try:
            user = self.context.authenticate(token)
        except BridgeError:
            user = None
        if token:
            self.context.unlink(token)
        if user is not None:
            self.context.links.revoke(user.id, "the user unbound the skill")
        return envelope(namespace, "UnbindBotResponse", message_id, {})

    def wants_reports(self, user: User) -> bool:
        link = self.context.links.get(user.id)
        return bool(link and link.get("openUid"))

    def report(self, user: User, change: StateChange) -> None:
        self.reports.send(user, change)
