"""Alexa event envelopes: every reply and report is built here, nowhere else."""

from __future__ import annotations

import random
import time
import uuid
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.alexa.errors import AlexaError


@lru_cache(maxsize=512)
def _second(whole: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))


def time_of_sample(at: float) -> str:
    """UTC with a Z and milliseconds: what the schema accepts (no +00:00, no microseconds).

    Every reply carries a few; the second's text is made once per second.
    """
    whole = int(at)
    micros = round((at - whole) * 1e6)  # as datetime rounds a timestamp
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    return f"{_second(whole)}.{micros // 1000:03d}Z"


def message_id() -> str:
    """A version 4 UUID from the process's generator: unique, not secret, no system call."""
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


def header(namespace: str, name: str, correlation_token: str | None = None) -> dict[str, Any]:
    out = {
        "namespace": namespace,
        "name": name,
        "payloadVersion": "3",
        "messageId": message_id(),
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
    payload: dict[str, Any] | None = None,
    properties: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"header": header(namespace, name, correlation_token)}
    if endpoint_id is not None:
        body["endpoint"] = {"endpointId": endpoint_id}
    body["payload"] = payload if payload is not None else {}
    out: dict[str, Any] = {"event": body}
    if properties is not None:
        out = {"context": {"properties": properties}, **out}
    return out


def error(
    exc: AlexaError, *, correlation_token: str | None, endpoint_id: str | None
) -> dict[str, Any]:
    """The ErrorResponse of an Alexa error (to a directive, or late by its token)."""
    message = exc.message[:500] or exc.error_type
    payload = {"type": exc.error_type, "message": message, **exc.details}
    return event(
        exc.namespace,
        "ErrorResponse",
        correlation_token=correlation_token,
        endpoint_id=endpoint_id,
        payload=payload,
    )
