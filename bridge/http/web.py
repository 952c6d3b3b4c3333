"""The public HTTP surface: the voice webhooks' fallback, metrics, health (devices: transports)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.exceptions import HTTPException

from bridge.http.access import trusted
from bridge.http.problems import problem
from bridge.http.refusals import render
from bridge.model import Unavailable

log = logging.getLogger(__name__)
web = Blueprint("web", __name__)


@web.get("/")
def root():
    return jsonify(
        service="voice-bridge", adapters=sorted(current_app.extensions["bridge"].adapters)
    )


@web.post("/voice/<name>")
def voice(name: str):
    """Known adapters are served before Flask (bridge.http.webhooks); this is every other name."""
    return problem(404, "not_found", f"no adapter {name[:64]!r}")


@web.get("/metrics")
def metrics():
    bridge = current_app.extensions["bridge"]
    if not trusted(bridge.settings.metrics_token):
        return problem(403, "forbidden", "metrics come from loopback or carry the metrics token")
    return Response(generate_latest(bridge.metrics.registry), mimetype=CONTENT_TYPE_LATEST)


@web.get("/healthz")
def health():
    """Liveness: 200 while the process serves, with each background service's state."""
    bridge = current_app.extensions["bridge"]
    try:
        pending = bridge.store.outbox.pending()
    except Exception:  # the store is away: readiness says so; the process still lives
        pending = None
    body = {
        "ok": True,
        "devices_online": bridge.transports.connected(),
        "reports_pending": pending,
        "services": bridge.supervisor.status(),
    }
    if trusted(bridge.settings.metrics_token):
        body["worker"] = bridge.bus.worker  # which worker answered (operators, tests)
    return jsonify(body)


@web.get("/readyz")
def ready():
    """Readiness: 200 when the store answers and every background service runs (or backs
    off within its budget); else 503 naming what fails."""
    bridge = current_app.extensions["bridge"]
    failing = bridge.supervisor.failing()
    try:
        bridge.store.db.execute("select 1").fetchone()
    except Exception as exc:
        failing = [f"store: {type(exc).__name__}", *failing]
    body = {"ready": not failing, "failing": failing, "services": bridge.supervisor.status()}
    return jsonify(body), 503 if failing else 200


def _refusal(status: int, code: str, detail: str) -> Response:
    adapters = current_app.extensions["bridge"].adapters
    status, headers, body = render(request.path, status, code, detail, adapters)
    return Response(body, status=status, headers=headers)


def http_error(exc: HTTPException):
    code = (exc.name or "error").lower().replace(" ", "_")
    return _refusal(exc.code or 500, code, exc.description or "")


def unexpected_error(exc: Exception):
    if isinstance(exc, Unavailable):  # the store or the bus away: try again, not a bug
        log.warning("%s %s: %s", request.method, request.path[:100], exc)
        response = _refusal(503, "unavailable", exc.message)
        response.headers["Retry-After"] = "5"
        return response
    log.exception("unhandled error")
    return _refusal(500, "internal_error", "the bridge failed; see its log")
