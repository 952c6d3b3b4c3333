"""Alexa event envelopes: every reply and report is built here, nowhere else."""

from __future__ import annotations

import datetime
import uuid
from typing import Any


def time_of_sample(at: float) -> str:
    """UTC with a Z and milliseconds: what the schema accepts (no +00:00, no microseconds)."""
    moment = datetime.datetime.fromtimestamp(at, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def header(namespace: str, name: str, correlation_token: str | None = None) -> dict[str, Any]:
    out = {
        "namespace": namespace,
        "name": name,
        "payloadVersion": "3",
        "messageId": str(uuid.uuid4()),
    }
    if correlation_token:
        out["correlationToken"] = correlation_token
    return out


def event(
    namespace: str,
    name: str,
    *,
    correlation_token: str | None = None,
    endpoint_id: str | None = None,
    scope_token: str | None = None,
    payload: dict[str, Any] | None = None,
    properties: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"header": header(namespace, name, correlation_token)}
    if endpoint_id is not None:
        endpoint: dict[str, Any] = {"endpointId": endpoint_id}
        if scope_token:
            endpoint = {"scope": {"type": "BearerToken", "token": scope_token}, **endpoint}
        body["endpoint"] = endpoint
    body["payload"] = payload if payload is not None else {}
    out: dict[str, Any] = {"event": body}
    if properties is not None:
        out = {"context": {"properties": properties}, **out}
    return out


def error(
    namespace: str,
    error_type: str,
    message: str,
    *,
    correlation_token: str | None,
    endpoint_id: str | None,
    extra: dict[str, Any] | None = None,
    scope_token: str | None = None,
) -> dict[str, Any]:
    payload = {"type": error_type, "message": message[:500] or error_type, **(extra or {})}
    return event(
        namespace,
        "ErrorResponse",
        correlation_token=correlation_token,
        endpoint_id=endpoint_id,
        scope_token=scope_token,
        payload=payload,
    )
