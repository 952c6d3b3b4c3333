"""An incoming Alexa directive as a typed model, checked before anything acts on it.

The model names every field a handler reads, with its type and range; the
rest of Alexa's payload is ignored. A body that does not fit is
INVALID_DIRECTIVE, or INVALID_VALUE when only a payload value is wrong.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Struct

from adapters.alexa import messages
from adapters.alexa.errors import AlexaError, InvalidDirective, InvalidValue
from bridge.plugin import Directive as PlatformDirective
from bridge.plugin import Journey, Number, Text, Token, VoiceReply, boundary


class Temperature(Struct, frozen=True):
    value: Number
    scale: Text = "CELSIUS"


class Hsb(Struct, frozen=True):
    hue: Number
    saturation: Number
    brightness: Number


class Named(Struct, frozen=True):
    value: Text


class Scope(Struct, frozen=True):
    type: Text = ""
    token: Token | None = None


class Grant(Struct, frozen=True):
    type: Text = ""
    code: Token | None = None


class Payload(Struct, frozen=True):
    """Every payload field a handler reads; Alexa's others are ignored."""

    brightness: Number | None = None
    brightnessDelta: Number | None = None
    percentage: Number | None = None
    percentageDelta: Number | None = None
    color: Hsb | None = None
    colorTemperatureInKelvin: Number | None = None
    targetSetpoint: Temperature | None = None
    lowerSetpoint: Temperature | None = None
    upperSetpoint: Temperature | None = None
    targetSetpointDelta: Temperature | None = None
    thermostatMode: Named | None = None
    rangeValue: Number | None = None
    rangeValueDelta: Number | None = None
    mode: Text | None = None
    scope: Scope | None = None
    grant: Grant | None = None
    grantee: Scope | None = None


NO_PAYLOAD = Payload()


class Header(Struct, frozen=True):
    namespace: Text
    name: Text
    payloadVersion: Text
    messageId: Text = ""
    correlationToken: Token | None = None
    instance: Text | None = None


class EndpointRef(Struct, frozen=True):
    endpointId: Text | None = None
    scope: Scope | None = None


class Body(Struct, frozen=True):
    header: Header
    endpoint: EndpointRef | None = None
    payload: Payload = Payload()


class Envelope(Struct, frozen=True):
    directive: Body


class _SalvageHeader(Struct):
    correlationToken: Any = None


class _SalvageEndpoint(Struct):
    endpointId: Any = None


class _SalvageBody(Struct):
    header: _SalvageHeader | None = None
    endpoint: _SalvageEndpoint | None = None


class _Salvage(Struct):
    """Just enough to echo in an ErrorResponse when the directive itself is bad."""

    directive: _SalvageBody | None = None


class Directive(Struct, PlatformDirective, frozen=True):
    """A v3 directive: what picks its handler, and the replies it builds (each copies the
    correlation token, and the endpoint where Alexa wants it echoed)."""

    namespace: str
    name: str
    payload: Payload = NO_PAYLOAD
    correlation_token: str | None = None
    instance: str | None = None
    endpoint_id: str | None = None
    token: str | None = None
    journey: Journey | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.namespace, self.name

    @property
    def journey_name(self) -> str:
        return f"{self.namespace}.{self.name}"

    def respond(
        self,
        namespace: str,
        name: str,
        *,
        endpoint_id: str | None = None,
        payload: dict[str, Any] | None = None,
        properties: list[dict[str, Any]] | None = None,
    ) -> VoiceReply:
        """An event answering this directive (its correlation token copied)."""
        return VoiceReply(
            messages.event(
                namespace,
                name,
                correlation_token=self.correlation_token,
                endpoint_id=endpoint_id,
                payload=payload,
                properties=properties,
            )
        )

    def error(self, exc: AlexaError) -> VoiceReply:  # type: ignore[override]
        return VoiceReply(
            messages.error(
                exc, correlation_token=self.correlation_token, endpoint_id=self.endpoint_id
            )
        )

    @classmethod
    def salvage(cls, doc: Any) -> Directive | None:
        """What an ErrorResponse can still echo from a directive that failed to parse."""
        try:
            found = msgspec.convert(doc, _Salvage)
        except msgspec.ValidationError:
            return None
        body = found.directive
        if body is None:
            return None
        token = body.header.correlationToken if body.header else None
        endpoint_id = body.endpoint.endpointId if body.endpoint else None
        return cls(
            "",
            "",
            correlation_token=token if isinstance(token, str) and len(token) <= 2048 else None,
            endpoint_id=endpoint_id
            if isinstance(endpoint_id, str) and len(endpoint_id) <= 256
            else None,
        )

    @classmethod
    def from_doc(cls, doc: Any, journey: Journey | None = None) -> Directive:
        """Raise InvalidDirective (or InvalidValue) for anything that is not a v3 directive."""
        try:
            envelope = boundary.convert(doc, Envelope)
        except boundary.Malformed as exc:
            reason = str(exc)
            if "$.directive.payload." in reason:
                raise InvalidValue(reason) from None
            raise InvalidDirective(reason) from None
        body = envelope.directive
        header = body.header
        if header.payloadVersion != "3":
            raise InvalidDirective('payloadVersion must be "3"')
        endpoint = body.endpoint or EndpointRef()
        scope = endpoint.scope or body.payload.scope
        if header.namespace == "Alexa.Authorization":
            scope = body.payload.grantee
        return cls(
            namespace=header.namespace,
            name=header.name,
            payload=body.payload,
            correlation_token=header.correlationToken,
            instance=header.instance,
            endpoint_id=endpoint.endpointId,
            token=scope.token if scope else None,
            journey=journey,
        )
