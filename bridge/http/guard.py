"""The HTTP guard: WSGI middleware that refuses what no handler should ever see.

Before Flask runs, a request body is read whole, within a size limit and a
time limit, so a slow or broken sender (bad chunked framing, a body that
stops early, a `Content-Length` over the limit) is answered here and never
escapes a view as an exception. JSON and form endpoints get only UTF-8 of
their own content type. A WebSocket upgrade without a valid key or with a
version other than 13 is refused with 400 or 426 before the socket code.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any

import gevent

from bridge.http.mounts import FORM_PATHS, JSON_PATHS
from bridge.http.refusals import render

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
READ_CHUNK = 65536

StartResponse = Callable[..., Any]


class Refused(Exception):
    def __init__(self, status: int, code: str, detail: str, headers: Iterable = ()) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.headers = list(headers)


class HttpGuard:
    def __init__(
        self,
        app: Callable,
        adapters: Mapping[str, Any],
        max_body: int,
        body_timeout: float,
    ) -> None:
        self.app = app
        self.adapters = adapters
        self.max_body = max_body
        self.body_timeout = body_timeout

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                _check_upgrade(environ)
            elif environ.get("REQUEST_METHOD") in BODY_METHODS:
                self._buffer_body(environ)
        except Refused as exc:
            path = environ.get("PATH_INFO", "/")
            status, headers, body = render(path, exc.status, exc.code, exc.detail, self.adapters)
            start_response(f"{status} {HTTPStatus(status).phrase}", headers + exc.headers)
            return [body]
        return self.app(environ, start_response)

    def _buffer_body(self, environ: dict[str, Any]) -> None:
        coding = environ.get("HTTP_TRANSFER_ENCODING", "").strip().lower()
        if coding and coding != "chunked":
            raise Refused(501, "unsupported_transfer_encoding", "only chunked transfer coding")
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared and not coding:
            if not declared.isdigit():
                raise Refused(400, "bad_request", "Content-Length is not a number")
            if int(declared) > self.max_body:
                raise Refused(413, "too_large", f"the body is over {self.max_body} bytes")
        body = self._read(environ["wsgi.input"], int(declared) if declared and not coding else None)
        self._check_type(environ, body)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = True

    def _read(self, stream: Any, length: int | None) -> bytes:
        """The whole body, within the size and time limits (one read when its length is known)."""
        try:
            with gevent.Timeout(self.body_timeout):
                if length is not None:
                    body = stream.read(length) if length else b""
                else:
                    body = self._read_chunked(stream)
        except gevent.Timeout:
            raise Refused(408, "timeout", "the body did not arrive in time") from None
        except Refused:
            raise
        except Exception as exc:  # the server's parser: bad chunk sizes, missing terminators
            log.info("refused a malformed request body: %s", type(exc).__name__)
            raise Refused(400, "bad_request", "the request body is malformed") from None
        if length is not None and len(body) < length:
            raise Refused(400, "bad_request", "the body is shorter than its Content-Length")
        return body

    def _read_chunked(self, stream: Any) -> bytes:
        parts: list[bytes] = []
        size = 0
        while chunk := stream.read(READ_CHUNK):
            size += len(chunk)
            if size > self.max_body:
                raise Refused(413, "too_large", f"the body is over {self.max_body} bytes")
            parts.append(chunk)
        return b"".join(parts)

    def _check_type(self, environ: dict[str, Any], body: bytes) -> None:
        path = environ.get("PATH_INFO", "")
        kind = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if path.startswith(JSON_PATHS):
            if kind != "application/json" and not kind.endswith("+json"):
                raise Refused(415, "unsupported_media_type", "the body must be application/json")
        elif path.startswith(FORM_PATHS) and body and kind != FORM:
            raise Refused(415, "unsupported_media_type", f"the body must be {FORM}")
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(400, "bad_request", "the body is not UTF-8") from None


def _check_upgrade(environ: dict[str, Any]) -> None:
    version = environ.get("HTTP_SEC_WEBSOCKET_VERSION", "")
    if version.strip() != "13":
        raise Refused(
            426, "upgrade_required", "WebSocket version 13 only", [("Sec-WebSocket-Version", "13")]
        )
    key = environ.get("HTTP_SEC_WEBSOCKET_KEY", "").strip()
    try:
        valid = len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise Refused(400, "bad_request", "Sec-WebSocket-Key must be 16 bytes in base64")
