"""Amazon Alexa: Smart Home Skill API v3, with proactive reports to the Event Gateway."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from adapters.alexa import coverage as alexa_coverage
from adapters.alexa import messages
from adapters.alexa.auth import AWS_REGIONS, Lwa, LwaError
from adapters.alexa.capabilities import endpoint_for
from adapters.alexa.directive import Directive
from adapters.alexa.discovery import endpoint as discovery_endpoint
from adapters.alexa.errors import (
    AcceptGrantFailed,
    AlexaError,
    EndpointUnreachable,
    InternalError,
    InvalidDirective,
    from_core,
)
from adapters.alexa.handlers import ACTIONS
from adapters.alexa.reports import Reports
from adapters.alexa.settings import AlexaSettings
from bridge.plugin import (
    CONNECTIVITY,
    AdapterContext,
    BridgeError,
    Command,
    Device,
    Outcome,
    PlatformError,
    Registry,
    Sink,
    VoiceReply,
    VoiceRequest,
    WebhookAdapter,
    boundary,
)
from bridge.plugin import coverage as cov

REGION_HEADER = "X-Bridge-Aws-Region"
HANDLERS: Registry = Registry()


class AlexaAdapter(WebhookAdapter[Directive]):
    name = "alexa"
    title = "Alexa"
    settings_model = AlexaSettings
    handlers = HANDLERS
    aka = ("amazon",)
    targets: ClassVar[dict[str, float]] = {"answer_ms": 8000.0, "report_s": 3.0}
    report_attempts: ClassVar[int | None] = 3
    report_retry_min: ClassVar[float] = 1.0

    @classmethod
    def coverage(cls, type_name: str) -> cov.Coverage | None:
        return alexa_coverage.coverage(type_name)

    def __init__(self, context: AdapterContext) -> None:
        super().__init__(context)
        self.lwa = Lwa(context)
        self.reports = Reports(context, self.lwa, self._read)
        self.deadline = context.settings.deadline
        # What a DeferredResponse tells Alexa to expect; the real answer follows by gateway.
        self.deferral = int(context.settings.deferral)
        # Device types known to be slow (a lock turning): past the deadline they get a
        # DeferredResponse instead of "unresponsive", and the Response when they answer.
        self.slow_types = set(context.settings.deferred_types)

    # -- directives ---------------------------------------------------------

    # -- the skeleton's hooks -------------------------------------------------

    def admit(self, request: VoiceRequest) -> VoiceReply | None:
        if not self.context.relayed(request):
            return VoiceReply({"error": "relay secret missing or wrong"}, status=403)
        return None

    def parse(self, request: VoiceRequest) -> Directive:
        try:
            doc = boundary.loads(request.body)
        except boundary.Malformed as exc:
            raise InvalidDirective(str(exc)) from None
        return Directive.from_doc(doc, request.journey)

    def unparsed(self, request: VoiceRequest, exc: PlatformError) -> VoiceReply:
        """What the ErrorResponse can still echo, looked for only now."""
        try:
            salvaged = Directive.salvage(boundary.loads(request.body))
        except boundary.Malformed:
            salvaged = None
        return (salvaged or Directive("", "")).error(exc)  # type: ignore[arg-type]

    def unsupported(self, directive: Directive) -> AlexaError:
        return InvalidDirective(f"{directive.namespace}.{directive.name} is not supported")

    def from_core(self, exc: BridgeError, directive: Directive) -> AlexaError:
        return from_core(exc)

    def internal_error(self) -> VoiceReply:
        return Directive("", "").error(InternalError("the bridge failed"))

    def reply_error(self, reply: VoiceReply) -> str | None:
        event = reply.body.get("event") if isinstance(reply.body, dict) else None
        if isinstance(event, dict) and event.get("header", {}).get("name") == "ErrorResponse":
            return str(event.get("payload", {}).get("type"))
        return super().reply_error(reply)

    def refuse(self, reason: str, status: int = 400) -> VoiceReply:
        return Directive("", "").error(InvalidDirective(reason))

    # -- handlers ------------------------------------------------------------

    @HANDLERS.register(("Alexa.Discovery", "Discover"))
    def _discover(self, d: Directive, request: VoiceRequest) -> VoiceReply:
        user = self.context.authenticate(d.token, d.journey)
        endpoints = self.context.render_each(self.context.devices(user), discovery_endpoint)
        return d.respond(
            "Alexa.Discovery", "Discover.Response", payload={"endpoints": endpoints[:300]}
        )

    @HANDLERS.register(("Alexa.Authorization", "AcceptGrant"))
    def _accept_grant(self, d: Directive, request: VoiceRequest) -> VoiceReply:
        try:
            user = self.context.authenticate(d.token, d.journey)
        except BridgeError as exc:
            raise AcceptGrantFailed(f"the grantee token is not valid: {exc.message}") from exc
        code = d.payload.grant.code if d.payload.grant else None
        if not code:
            raise AcceptGrantFailed("no authorization code in the grant")
        region = AWS_REGIONS.get(request.headers.get(REGION_HEADER, ""), "NA")
        try:
            link = self.lwa.accept_grant(code, region)
        except LwaError as exc:
            self.context.log.warning("AcceptGrant for %s failed: %s", user.name, exc)
            raise AcceptGrantFailed("Login with Amazon refused the code") from exc
        self.context.links.put(user.id, link)
        return d.respond("Alexa.Authorization", "AcceptGrant.Response")

    @HANDLERS.register(("Alexa", "ReportState"))
    def _report_state(self, d: Directive, request: VoiceRequest) -> VoiceReply:
        user = self.context.authenticate(d.token, d.journey)
        device = self.context.device(user, d.endpoint_id or "")
        if not self.context.online(device):
            raise EndpointUnreachable("the device is offline")
        return self._with_state(d, device, "StateReport")

    @HANDLERS.register(*ACTIONS)
    def _control(self, d: Directive, request: VoiceRequest) -> VoiceReply:
        user = self.context.authenticate(d.token, d.journey)
        device = self.context.device(user, d.endpoint_id or "")
        endpoint = endpoint_for(device.type)
        namespace = d.namespace
        if endpoint.find(namespace, d.instance) is None:
            raise InvalidDirective(f"{device.name} has no {namespace} {d.instance or ''}".strip())
        action = ACTIONS.get(d.key)(d, endpoint)  # type: ignore[misc]
        command = Command(
            device.id,
            action.name,
            action.value,
            action.instance,
            self.name,
            d.correlation_token,
            d.journey_id,
        )
        if device.type in self.slow_types:
            result = self.context.send_pending(user, command, self.deadline)
        else:
            result = self.context.send(user, command, self.deadline)
        if result.outcome is Outcome.PENDING:
            # Accepted, not done (a device that only listens after it speaks): say so now,
            # and send the real Response to the Event Gateway when it lands.
            return d.respond(
                "Alexa", "DeferredResponse", payload={"estimatedDeferralInSeconds": self.deferral}
            )
        if namespace == "Alexa.SceneController":
            name = "ActivationStarted" if d.name == "Activate" else "DeactivationStarted"
            return d.respond(
                namespace,
                name,
                endpoint_id=device.id,
                properties=[],
                payload={
                    "cause": {"type": "VOICE_INTERACTION"},
                    "timestamp": messages.time_of_sample(time.time()),
                },
            )
        return self._with_state(d, device, "Response")

    def _with_state(self, d: Directive, device: Device, name: str) -> VoiceReply:
        return d.respond("Alexa", name, endpoint_id=device.id, properties=self._read(device, None))

    def _read(self, device: Device, only: set[str] | None) -> list[dict[str, Any]]:
        """Alexa properties from the shadow, plus connectivity (unless only changes)."""
        shadow = {
            name: {**sample, "sampled_at": messages.time_of_sample(sample["sampled_at"])}
            for name, sample in self.context.state(device).items()
        }
        props = endpoint_for(device.type).read(shadow, only)
        if only is None or CONNECTIVITY in only:
            online = self.context.online(device)
            props.append(
                {
                    "namespace": "Alexa.EndpointHealth",
                    "name": "connectivity",
                    "value": {"value": "OK" if online else "UNREACHABLE"},
                    "timeOfSample": messages.time_of_sample(time.time()),
                    "uncertaintyInMilliseconds": 0,
                }
            )
        return props

    # -- proactive reports --------------------------------------------------

    def takes_reports(self, link: dict[str, Any]) -> bool:
        return True  # a link is the grant Alexa's events need

    def sink(self) -> Sink:
        return self.reports
