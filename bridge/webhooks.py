"""The voice webhooks as bare WSGI: every command comes through here, so it skips Flask.

A webhook needs no session, no URL map and no request context: the body
(already read and checked by the HTTP guard), the headers and the caller's
address go to the adapter, and its reply goes out as JSON. Everything else
falls through to the Flask app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any

import orjson
from werkzeug.datastructures import EnvironHeaders

from adapters.base import Adapter, VoiceReply, VoiceRequest

log = logging.getLogger(__name__)
PREFIX = "/voice/"


class Webhooks:
    def __init__(self, app: Callable, adapters: Mapping[str, Adapter]) -> None:
        self.app = app
        self.adapters = adapters

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX) and environ.get("REQUEST_METHOD") == "POST":
            adapter = self.adapters.get(path[len(PREFIX) :])
            if adapter is not None:
                return self._serve(adapter, environ, start_response)
        return self.app(environ, start_response)

    def _serve(self, adapter: Adapter, environ: dict[str, Any], start_response: Callable):
        call = VoiceRequest(
            environ["wsgi.input"].read(), EnvironHeaders(environ), environ.get("REMOTE_ADDR")
        )
        try:
            reply = adapter.handle(call)
        except Exception:
            log.exception("adapter %s failed", adapter.name)
            reply = adapter.internal_error()
        return respond(reply, start_response)


def encoded(reply: VoiceReply) -> tuple[int, list[tuple[str, str]], bytes]:
    """A platform's reply as status, headers and JSON body."""
    body = orjson.dumps(reply.body, option=orjson.OPT_NON_STR_KEYS)
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        *dict(reply.headers).items(),
    ]
    return reply.status, headers, body


def respond(reply: VoiceReply, start_response: Callable) -> list[bytes]:
    status, headers, body = encoded(reply)
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [body]
