"""Google Home: Smart Home fulfillment (SYNC, QUERY, EXECUTE, DISCONNECT) and HomeGraph.

Google calls `/voice/google` with the user's OAuth access token from the
bridge's own linking server, and nothing else vouches for the request (an
optional shared header from a proxy in front, `BRIDGE_GOOGLE_RELAY_SECRET`).
Each user is known to Google by an opaque agentUserId, the same on every
worker and after a re-link. State changes go to HomeGraph as Report State
and device changes as Request Sync (`reports.py`, `homegraph.py`).
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any, ClassVar

from adapters.google import coverage as google_coverage
from adapters.google import traits
from adapters.google.directive import Intent, reply
from adapters.google.errors import (
    AUTH_FAILURE,
    CHALLENGE_FAILED_NOT_SETUP,
    CHALLENGE_NEEDED,
    HARD_ERROR,
    NOT_SUPPORTED,
    PROTOCOL_ERROR,
    TOO_MANY_FAILED_ATTEMPTS,
    GoogleError,
    from_core,
    offline,
)
from adapters.google.homegraph import HomeGraph, UnknownAgent
from adapters.google.models import MAX_DEVICES, CommandGroup, Execution, Request, Salvage
from adapters.google.readback import held_apart
from adapters.google.reports import Reports
from adapters.google.settings import GoogleSettings
from bridge.plugin import (
    AdapterContext,
    AuthError,
    BridgeError,
    Command,
    DeadLetter,
    Device,
    Outcome,
    PlatformError,
    Registry,
    RetryLater,
    Sink,
    User,
    VoiceReply,
    VoiceRequest,
    WebhookAdapter,
    boundary,
)
from bridge.plugin import coverage as cov

MAX_COMMANDS = MAX_DEVICES
"""Device commands one EXECUTE may ask for, all its groups together."""
HANDLERS: Registry = Registry()
PIN_TRIES, PIN_WINDOW = 5, 600.0
"""Unlock PINs a user may say in a window (a burst of five, then one every two minutes)."""


def _salvaged(doc: Any) -> str | None:
    try:
        return boundary.convert(doc, Salvage).requestId
    except boundary.Malformed:
        return None


class GoogleAdapter(WebhookAdapter[Intent]):
    name = "google"
    title = "Google"
    settings_model = GoogleSettings
    handlers = HANDLERS
    aka = ("google",)
    targets: ClassVar[dict[str, float]] = {"success": 0.995, "p90_ms": 1000.0, "accuracy": 0.995}
    report_attempts: ClassVar[int | None] = 5
    report_retry_min: ClassVar[float] = 1.0

    @classmethod
    def coverage(cls, type_name: str) -> cov.Coverage | None:
        return google_coverage.coverage(type_name)

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        self.deadline = context.settings.deadline
        self.challenge = context.settings.unlock_challenge
        self.pin = context.settings.unlock_pin
        self.homegraph = HomeGraph(context)
        self.reports = Reports(context, self.homegraph, self._states)

    # -- fulfillment --------------------------------------------------------

    # -- the skeleton's hooks -------------------------------------------------

    def admit(self, request: VoiceRequest) -> VoiceReply | None:
        if not self.context.relayed(request):
            return reply(None, {"errorCode": AUTH_FAILURE}, status=403)
        return None

    def parse(self, request: VoiceRequest) -> Intent:
        try:
            parsed = boundary.convert(boundary.loads(request.body), Request)
        except boundary.Malformed as exc:
            raise GoogleError(PROTOCOL_ERROR, str(exc)) from None
        auth = request.headers.get("Authorization", "")
        token = auth[7:2055] if auth[:7].lower() == "bearer " else None
        return Intent(parsed, token, request.journey)

    def unparsed(self, request: VoiceRequest, exc: PlatformError) -> VoiceReply:
        try:
            doc = boundary.loads(request.body)
        except boundary.Malformed:
            return self.refuse("the body is not JSON")
        return reply(_salvaged(doc), {"errorCode": PROTOCOL_ERROR})

    def unsupported(self, directive: Intent) -> GoogleError:
        return GoogleError(NOT_SUPPORTED, f"{directive.key[:80]} is not supported")

    def from_core(self, exc: BridgeError, directive: Intent) -> GoogleError:
        return from_core(exc)

    def refuse(self, reason: str, status: int = 400) -> VoiceReply:
        return reply(None, {"errorCode": PROTOCOL_ERROR}, status=status)

    def internal_error(self) -> VoiceReply:
        return reply(None, {"errorCode": HARD_ERROR}, status=500)

    def reply_error(self, reply: VoiceReply) -> str | None:
        """The request's errorCode, or each device's ("deviceOffline: 1 of 2 devices")."""
        payload = reply.body.get("payload") if isinstance(reply.body, dict) else None
        if not isinstance(payload, dict):
            return super().reply_error(reply)
        if "errorCode" in payload:
            return str(payload["errorCode"])
        devices = payload.get("devices")  # QUERY's are by id; SYNC's a list with no codes
        results = payload.get("commands") or (
            list(devices.values()) if isinstance(devices, dict) else []
        )
        codes = [str(r["errorCode"]) for r in results if isinstance(r, dict) and "errorCode" in r]
        if not codes:
            return super().reply_error(reply)
        return f"{', '.join(dict.fromkeys(codes))}: {len(codes)} of {len(results)} devices"

    # -- handlers: one per intent ----------------------------------------------

    @HANDLERS.register("action.devices.SYNC")
    def _sync(self, d: Intent, request: VoiceRequest) -> VoiceReply:
        user = self.context.authenticate(d.token, d.journey)
        devices = self.context.devices(user)[:MAX_DEVICES]
        return d.respond(
            {
                "agentUserId": self._agent(user),
                "devices": self.context.render_each(devices, self._sync_entry),
            }
        )

    @HANDLERS.register("action.devices.QUERY")
    def _query_intent(self, d: Intent, request: VoiceRequest) -> VoiceReply:
        user = self.context.authenticate(d.token, d.journey)
        ids = list(dict.fromkeys(device.id for device in d.payload.devices))
        return d.respond({"devices": {i: self._query(user, i) for i in ids}})

    @HANDLERS.register("action.devices.EXECUTE")
    def _execute_intent(self, d: Intent, request: VoiceRequest) -> VoiceReply:
        user = self.context.authenticate(d.token, d.journey)
        return d.respond({"commands": self._execute(user, d.payload.commands, d.journey_id)})

    @HANDLERS.register("action.devices.DISCONNECT")
    def _disconnect(self, d: Intent, request: VoiceRequest) -> VoiceReply:
        """The user unlinked the bridge in the Google Home app: end the grant and the link.
        Google reads nothing of the answer: an empty object."""
        try:
            user = self.context.authenticate(d.token, d.journey)
        except AuthError:
            return VoiceReply({})  # already gone: nothing left to end
        if d.token:
            self.context.unlink(d.token)
        self.context.links.revoke(user.id, "the user unlinked the bridge in Google Home")
        return VoiceReply({})

    def _agent(self, user: User) -> str:
        link = self.context.links.get(user.id) or {}
        agent = link.get("agentUserId") or self.context.pseudonym(user)
        if link.get("agentUserId") != agent:
            self.context.links.put(user.id, {**link, "agentUserId": agent})
        return agent

    def _sync_entry(self, device: Device) -> dict[str, Any] | None:
        shape = traits.shape(device.type)
        if shape is None:
            return None
        entry: dict[str, Any] = {
            "id": device.id,
            "type": traits.PREFIX_TYPE + shape.type,
            "traits": [traits.PREFIX_TRAIT + t for t in shape.traits],
            "name": {"name": device.name[:128], "nicknames": [device.name[:128]]},
            "willReportState": True,
            "deviceInfo": {"manufacturer": "Voice Bridge", "model": device.type},
        }
        if device.room:
            entry["roomHint"] = device.room[:128]
        if shape.attributes:
            entry["attributes"] = shape.attributes
        if shape.notifications:
            entry["notificationSupportedByAgent"] = True
        return entry

    def _states(self, device: Device, online: bool | None = None) -> dict[str, Any]:
        """The device's state for QUERY, EXECUTE and Report State, with `online` (looked up
        unless known: a device that just answered is)."""
        if online is None:
            online = self.context.online(device)
        return {**traits.states(device.type, self.context.state(device)), "online": online}

    def _query(self, user: User, device_id: str) -> dict[str, Any]:
        try:
            device = self.context.device(user, device_id)
        except BridgeError as exc:
            return {"online": False, **from_core(exc).result()}
        state = self._states(device)
        if not state["online"]:
            return {**state, **offline().result()}
        return {**state, "status": "SUCCESS"}

    def _execute(
        self, user: User, groups: list[CommandGroup], journey: str | None
    ) -> list[dict[str, Any]]:
        """Every device's commands at once; one result per device, in the order named."""
        if sum(len(g.devices) * len(g.execution) for g in groups) > MAX_COMMANDS:
            raise GoogleError(PROTOCOL_ERROR, f"at most {MAX_COMMANDS} commands an intent")
        failed: dict[str, GoogleError] = {}
        devices: dict[str, Device] = {}
        sent: list[Command] = []
        for group in groups:
            for ref in group.devices:
                if ref.id in failed:
                    continue
                try:
                    device = devices.get(ref.id) or self.context.device(user, ref.id)
                    devices[ref.id] = device
                    for execution in group.execution:
                        sent += self._commands(user, device, execution, journey)
                except BridgeError as exc:
                    failed[ref.id] = from_core(exc)
                except GoogleError as exc:
                    failed[ref.id] = exc
        sent = [c for c in sent if c.device_id not in failed]
        results = self.context.send_many(user, sent, self.deadline, pending=True)
        pending: set[str] = set()
        for command, result in zip(sent, results, strict=True):
            if isinstance(result, BridgeError):
                failed.setdefault(command.device_id, from_core(result))
            elif result.outcome is Outcome.PENDING:
                pending.add(command.device_id)
        out = []
        for device_id in dict.fromkeys(ref.id for g in groups for ref in g.devices):
            if device_id in failed:
                out.append({"ids": [device_id], **failed[device_id].result()})
            elif device_id in pending:
                # its outcome reaches Google as a Report State when the device answers
                out.append({"ids": [device_id], "status": "PENDING"})
            else:
                states = self._states(devices[device_id], online=True)
                out.append({"ids": [device_id], "status": "SUCCESS", "states": states})
        return out

    def _commands(
        self, user: User, device: Device, execution: Execution, journey: str | None
    ) -> list[Command]:
        command = execution.command.removeprefix(traits.PREFIX_COMMAND)
        unlocks = command == "LockUnlock" and execution.params.get("lock") is False
        if unlocks or traits.opens(device.type, command, execution.params):
            self._check_challenge(user, execution)
        if not self.context.online(device):
            raise offline()
        steps = traits.commands(
            device.type, execution.command, execution.params, self.context.state(device)
        )
        return [Command(device.id, a, v, i, self.name, journey=journey) for a, v, i in steps]

    def _check_challenge(self, user: User, execution: Execution) -> None:
        """Unlocking, and opening a garage door or a gate, asks the user to confirm (`ack`)
        or to say the PIN (`pin`)."""
        given = execution.challenge
        if self.challenge == "none":
            return
        if self.challenge != "pin":  # "ack", and anything unknown: the safer ask
            if not (given and given.ack):
                raise GoogleError(CHALLENGE_NEEDED, challenge="ackNeeded")
            return
        if not self.pin:
            raise GoogleError(CHALLENGE_FAILED_NOT_SETUP, "no unlock PIN is configured")
        if not (given and given.pin):
            raise GoogleError(CHALLENGE_NEEDED, challenge="pinNeeded")
        # Every PIN said counts, right or wrong: guessing gets PIN_TRIES a window, no more.
        if self.context.facts.take(f"pin:{user.id}", PIN_TRIES / PIN_WINDOW, PIN_TRIES):
            raise GoogleError(TOO_MANY_FAILED_ATTEMPTS, "too many PINs said; wait a while")
        if not hmac.compare_digest(given.pin.encode(), self.pin.encode()):
            raise GoogleError(CHALLENGE_NEEDED, challenge="challengeFailedPinNeeded")

    # -- Report State and Request Sync ---------------------------------------

    def reports_enabled(self) -> bool:
        return self.homegraph.configured

    def takes_reports(self, link: dict[str, Any]) -> bool:
        return bool(link.get("agentUserId"))

    def sink(self) -> Sink:
        return self.reports

    def read_back_rate(self) -> float:
        return self.context.settings.readback if self.homegraph.configured else 0.0

    def read_back(self, user: User, devices: list[Device]) -> dict[str, dict[str, Any]]:
        """HomeGraph's state of the devices, where it differs from the devices' own."""
        link = self.context.links.get(user.id)
        agent = link.get("agentUserId") if link else None
        if not agent:
            return {}
        body = {
            "requestId": str(uuid.uuid4()),
            "agentUserId": agent,
            "inputs": [{"payload": {"devices": [{"id": d.id} for d in devices]}}],
        }
        try:
            answer = self.homegraph.call("query", body)
        except (UnknownAgent, DeadLetter) as exc:  # the link's end is the reports' to tell
            raise RetryLater(f"HomeGraph query: {exc}") from None
        payload = answer.get("payload")
        found = payload.get("devices") if isinstance(payload, dict) else None
        found = found if isinstance(found, dict) else {}
        out = {}
        for device in devices:
            held = found.get(device.id)
            if isinstance(held, dict):
                apart = held_apart(device.type, self.context.state(device), held)
                if apart:
                    out[device.id] = apart
        return out
