"""An incoming Alexa directive, checked before anything acts on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.alexa.errors import InvalidDirective


@dataclass(frozen=True)
class Directive:
    namespace: str
    name: str
    payload: dict[str, Any]
    correlation_token: str | None = None
    instance: str | None = None
    endpoint_id: str | None = None
    token: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.namespace, self.name

    @classmethod
    def salvage(cls, doc: Any) -> Directive | None:
        """What an ErrorResponse can still echo from a directive that failed to parse."""
        try:
            header = doc["directive"]["header"]
            endpoint = doc["directive"].get("endpoint") or {}
            token, endpoint_id = header.get("correlationToken"), endpoint.get("endpointId")
        except (KeyError, TypeError, AttributeError):
            return None
        return cls(
            "",
            "",
            {},
            token if isinstance(token, str) else None,
            endpoint_id=endpoint_id if isinstance(endpoint_id, str) else None,
        )

    @classmethod
    def parse(cls, doc: Any) -> Directive:
        """Raise InvalidDirective for anything that is not a v3 directive."""
        directive = doc.get("directive") if isinstance(doc, dict) else None
        header = directive.get("header") if isinstance(directive, dict) else None
        if not isinstance(header, dict):
            raise InvalidDirective("not an Alexa directive")
        if header.get("payloadVersion") != "3":
            raise InvalidDirective('payloadVersion must be "3"')
        namespace, name = header.get("namespace"), header.get("name")
        if not isinstance(namespace, str) or not isinstance(name, str):
            raise InvalidDirective("header needs namespace and name")
        payload = directive.get("payload") or {}
        endpoint = directive.get("endpoint") or {}
        if not isinstance(payload, dict) or not isinstance(endpoint, dict):
            raise InvalidDirective("payload and endpoint must be objects")
        scope = endpoint.get("scope") or payload.get("scope") or {}
        token = scope.get("token") if isinstance(scope, dict) else None
        if namespace == "Alexa.Authorization":
            grantee = payload.get("grantee") or {}
            token = grantee.get("token") if isinstance(grantee, dict) else None
        correlation = header.get("correlationToken")
        endpoint_id = endpoint.get("endpointId")
        return cls(
            namespace=namespace,
            name=name,
            payload=payload,
            correlation_token=correlation if isinstance(correlation, str) else None,
            instance=header.get("instance") if isinstance(header.get("instance"), str) else None,
            endpoint_id=endpoint_id if isinstance(endpoint_id, str) else None,
            token=token if isinstance(token, str) else None,
        )
