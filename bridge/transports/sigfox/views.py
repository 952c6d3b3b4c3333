"""`/device-clouds/sigfox/{uplink,bidir,status,ack,error}`: the callbacks Sigfox's cloud makes.

Every callback is authenticated by its device type's secret (`Authorization:
Bearer`, or `?token=` for templates that cannot set a header), compared in
constant time. Sigfox retries a callback that got no 2xx within 10 s (after
1, 2 and 4 minutes), so a frame seen before changes nothing twice; and no
outbound I/O happens on these paths, so a BIDIR answer is never late.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import msgspec
from flask import Blueprint, Response, jsonify, request

from bridge.plugin import Entry, boundary, problem, rejection
from bridge.transports.sigfox.callbacks import INFO_CODES, KINDS, Acknowledge, Error, Status, Uplink
from bridge.transports.sigfox.codec import PayloadError

if TYPE_CHECKING:
    from bridge.transports.sigfox import SigfoxTransport

PREFIX = "/device-clouds/sigfox"


def _token() -> str:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.args.get("token", "")


def _body(model: type[msgspec.Struct]) -> Any:
    if request.method == "GET":
        return boundary.from_params(request.args, model, from_strings=True)
    kind = (request.mimetype or "").lower()
    if kind == "application/json":
        return boundary.decode(request.get_data(), model, strict=False)
    return boundary.from_params(request.form, model, from_strings=True)


def blueprint(transport: SigfoxTransport) -> Blueprint:
    bp = Blueprint("sigfox", __name__)
    store = transport.context.store

    def refuse(status: int, code: str, detail: str, device_id: str | None = None) -> Response:
        raw = request.get_data(as_text=True)[:2048] or request.query_string.decode()[:2048]
        entry = rejection(device_id, None, f"sigfox {detail}", payload=raw)
        entry.source = request.remote_addr  # nobody's refusals are sampled by their source
        store.messages.record(entry)
        return problem(status, code, detail)

    @bp.route(f"{PREFIX}/<kind>", methods=["GET", "POST", "PUT"])
    def callback(kind: str) -> Response:
        model = KINDS.get(kind)
        if model is None:
            return problem(404, "not_found", f"no Sigfox callback {kind[:32]!r}")
        try:
            body = _body(model)
        except boundary.Malformed as exc:
            return refuse(400, "bad_request", f"{kind} callback: {exc}")
        types = transport.tables.types_of_secret(_token())
        if not types:
            return refuse(401, "unauthorized", "the callback secret is wrong or missing")
        found = transport.tables.device(body.device.upper())
        if found is None or found.type.name not in types:
            # Another type's device answers as a free id does: a secret tells nothing of
            # the devices it does not drive.
            return refuse(404, "not_found", f"unknown Sigfox device {body.device}")
        device = store.devices.get(found.device_id)
        user = store.users.by_id(device.user_id) if device else None
        if user is None:
            return refuse(404, "not_found", f"unknown Sigfox device {body.device}")
        text = msgspec.json.encode(body).decode()
        if isinstance(body, Uplink):
            try:  # decoded before it is recorded as seen: a refused frame leaves no trace
                fields = transport.uplink_fields(found, bytes.fromhex(body.data))
            except PayloadError as exc:
                detail = f"data does not fit the layout: {exc}"
                return refuse(400, "bad_request", detail, found.device_id)
            if not transport.tables.first_sight(found.sigfox_id, body.seqNumber, body.time):
                return Response(status=204) if kind == "bidir" else jsonify(duplicate=True)
            transport.uplink(found, user, fields, float(body.time), text)
            if kind == "bidir" and body.ack:
                downlink = transport.downlink(found)
                if downlink is not None:
                    return jsonify({body.device: {"downlinkData": downlink}})
            return Response(status=204) if kind == "bidir" else jsonify(ok=True)
        if isinstance(body, Acknowledge):
            name = INFO_CODES.get(body.infoCode, f"code {body.infoCode}")
            transport.acknowledged(found, body.infoCode, name)
        elif isinstance(body, Error) and body.keep_alive_breached:
            transport.unreachable(found, user)
        elif isinstance(body, Status):
            transport.status(found, user, body.batt, body.temp, body.time or time.time())
        detail = f"sigfox {kind}"
        if isinstance(body, Error):
            detail = f"sigfox error {body.severity}: {body.info}".rstrip(": ")
        store.messages.record(
            Entry("in", "event", kind, found.device_id, user.id, detail=detail, payload=text)
        )
        return jsonify(ok=True)

    return bp
