"""RFC 9457 problem+json: the one error shape of the bridge's own HTTP API."""

from __future__ import annotations

import math

from flask import Response

from bridge.http.refusals import problem_body
from bridge.model import BridgeError

STATUS = {
    "no_such_device": 404,
    "no_such_user": 404,
    "no_such_key": 404,
    "offline": 409,
    "disconnected": 409,
    "timeout": 504,
    "unavailable": 503,
    "refused": 422,
    "invalid": 422,
    "unsupported": 422,
    "conflict": 409,
    "missing_token": 401,
    "invalid_token": 401,
    "expired_token": 401,
    "unauthorized": 401,
    "error": 400,
    "throttled": 429,
}


def problem(status: int, code: str, detail: str, **extra: object) -> Response:
    return Response(
        problem_body(status, code, detail, **extra),
        status=status,
        mimetype="application/problem+json",
    )


def from_error(exc: BridgeError) -> Response:
    extra = {}
    valid = getattr(exc, "valid_range", None)
    if valid:
        extra["validRange"] = {"minimum": valid[0], "maximum": valid[1]}
    reply = problem(STATUS.get(exc.code, 400), exc.code, exc.message, **extra)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        reply.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return reply
