"""The voice webhooks as bare WSGI: every command comes through here, so it skips Flask.

A webhook needs no session, no URL map and no request context: the body
(already read and checked by the HTTP guard), the headers and the caller's
address go to the adapter, and its reply goes out as JSON. Everything else
falls through to the Flask app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any

from werkzeug.datastructures import EnvironHeaders

from bridge import journeys
from bridge.plugin import Adapter, VoiceReply, VoiceRequest
from bridge.runtime import plugins
from bridge.store.messages import Entry

log = logging.getLogger(__name__)
PREFIX = "/voice/"


def discover(only: tuple[str, ...] | None = None) -> dict[str, type[Adapter]]:
    """Adapter classes by mount name, in name order; BRIDGE_ADAPTERS (`only`) restricts the
    set."""
    found = plugins.classes(plugins.ADAPTERS, Adapter, only)
    missing = set(only or ()) - set(found)
    if missing:
        log.warning("BRIDGE_ADAPTERS names adapters that are not installed: %s", sorted(missing))
    return found


class Webhooks:
    def __init__(
        self,
        app: Callable,
        adapters: Mapping[str, Adapter],
        record: Callable[[Entry], object],
    ) -> None:
        self.app = app
        self.adapters = adapters
        self.record = record
        """Where the webhook hop of each journey goes (the message history)."""

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX) and environ.get("REQUEST_METHOD") == "POST":
            adapter = self.adapters.get(path[len(PREFIX) :])
            if adapter is not None:
                return self._serve(adapter, environ, start_response)
        return self.app(environ, start_response)

    def _serve(self, adapter: Adapter, environ: dict[str, Any], start_response: Callable):
        started = time.time()
        journey = journeys.begin()
        serving = journeys.current.set(journey.id)  # on every log line of this request
        reply = None
        try:
            call = VoiceRequest(
                environ["wsgi.input"].read(),
                EnvironHeaders(environ),
                environ.get("REMOTE_ADDR"),
                journey,
            )
            try:
                reply = adapter.handle(call)
            except Exception:
                log.exception("adapter %s failed", adapter.name)
                reply = adapter.internal_error()
        finally:
            # even when the greenlet is killed: the request row it holds is written
            try:
                source = environ.get("REMOTE_ADDR")
                self._record(adapter, reply, started, journey, journey.close(), source)
            finally:  # the connection's next request is another journey
                journeys.current.reset(serving)
        return respond(reply, start_response)

    def _record(
        self,
        adapter: Adapter,
        reply: VoiceReply | None,
        started: float,
        journey: journeys.Journey,
        held: Entry | None,
        source: str | None = None,
    ) -> None:
        """The journey's first and last hop: received at `started`, the reply (its HTTP
        status and the platform error it carries) now. On the row of the device request
        the webhook made when there is one (one row per command), else a row of its own."""
        if reply is None:  # killed before it replied: the request row alone
            if held is not None:
                self.record(held)
            return
        if journey.counted and held is None:  # past a budget, and not its flood's first
            return
        try:
            error = adapter.reply_error(reply)
        except Exception:
            log.exception("adapter %s could not read its own reply", adapter.name)
            error = None
        replied = f"HTTP {reply.status}" + (f" {error}" if error else "")
        served_ms = (time.time() - started) * 1000
        if held is not None:
            held.directive, held.reply = journey.directive, replied
            held.received_at, held.served_ms = started, served_ms
            self.record(held)
            return
        entry = Entry(
            "in",
            "webhook",
            "error" if error or reply.status >= 400 else "ok",
            user_id=journey.user_id,
            action=journey.directive,
            latency_ms=served_ms,
            origin=adapter.name,
            detail=replied,
            journey=journey.id,
        )
        entry.source = source  # a refusal of nobody's account is sampled by its source
        self.record(entry)


def respond(reply: VoiceReply, start_response: Callable) -> list[bytes]:
    status, headers, body = reply.encoded()
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [body]
