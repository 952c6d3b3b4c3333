"""Outbound WebSocket consumers for push platforms: the socket side of an adapter's stream.

A push platform (a device cloud's message service) delivers its messages over a
WebSocket the bridge opens. The adapter never touches the socket: it asks
its context for a stream (URL, headers, a handler) and the core keeps it:
one connection per deployment (the worker leading the bus role
`stream:<adapter>`), reconnecting with backoff: it is a Service, so its
state, last disconnect and reconnects are in readiness and the metrics.
Each text frame is handed to the handler in a greenlet of its own (at most
`concurrency` at once: one slow device does not hold up the others), and what the handler returns
(its acknowledgement) is sent only after it returned. A handler that fails
sends nothing: the platform redelivers the frame.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import time
from collections.abc import Callable, Mapping

import websocket
from gevent.lock import Semaphore
from gevent.pool import Pool

from bridge.bus import Bus
from bridge.model import Unavailable
from bridge.runtime.service import Service

log = logging.getLogger(__name__)

Handler = Callable[[str], list[str]]

MAX_FRAME = 256 * 1024
"""Bytes a frame may have (a larger one closes the connection: nothing is acked)."""


class Stream(Service):
    """One push platform's stream: a Service whose round lasts as long as the socket."""

    every = 5.0
    """Seconds between two tries to lead the stream (another worker holds it)."""
    backoff_base = 1.0
    backoff_max = 15.0
    """So a stream is back within 15 s of its service, however long it was away."""
    budget = 5.0
    expected = (*Service.expected, websocket.WebSocketException)

    def __init__(
        self,
        name: str,
        url: str,
        headers: Mapping[str, str],
        handle: Handler,
        bus: Bus,
        *,
        idle: float = 60.0,
        concurrency: int = 16,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(bus)
        self.name = f"{name} stream"
        self.leader = f"stream:{name}"
        self.url = url
        self.headers = dict(headers)
        self.handle = handle
        self.idle = idle
        self.concurrency = concurrency
        self._sending = Semaphore()
        self.ssl_context = ssl_context
        self._ws: websocket.WebSocket | None = None

    def run_once(self) -> None:
        """Connect, then read until the socket drops (raise) or another worker leads."""
        try:
            self._consume()
        finally:
            self._close()

    def standby(self) -> None:
        self._close()

    def on_stop(self) -> None:
        self._close()

    def _consume(self) -> None:
        options = {"context": self.ssl_context} if self.ssl_context else {}
        ws = websocket.create_connection(
            self.url,
            header=self.headers,
            timeout=self.idle,
            sslopt=options,
            enable_multithread=True,  # a reader and the answering greenlets share it
        )
        self._ws = ws
        self.up()
        log.info("%s connected", self.name)
        pool = Pool(self.concurrency)
        try:
            self._read(ws, pool)
        finally:
            pool.join(timeout=10)  # let frames in hand finish (their acks may still go)
            pool.kill()

    def _read(self, ws: websocket.WebSocket, pool: Pool) -> None:
        quiet, led_at = 0, time.monotonic()
        while True:
            try:
                text = ws.recv()
            except websocket.WebSocketTimeoutException:
                quiet += 1
                if quiet > 1:
                    raise  # no answer to our ping either: the connection is dead
                ws.ping()
                continue
            quiet = 0
            if time.monotonic() - led_at > self.every:
                led_at = time.monotonic()
                if not self.bus.lead(self.leader):
                    log.info("%s: another worker leads it now", self.name)
                    return
            if isinstance(text, bytes) or len(text) > MAX_FRAME:
                raise websocket.WebSocketException("a frame that is not text or too large")
            pool.spawn(self._answer, ws, text)  # waits while `concurrency` are in hand

    def _answer(self, ws: websocket.WebSocket, text: str) -> None:
        try:
            replies = self.handle(text)
        except Unavailable as exc:  # the platform delivers it again
            log.warning("%s: a frame is not acked while %s", self.name, exc)
            return
        except Exception:
            log.exception("%s: a frame's handler failed (not acked)", self.name)
            return
        with self._sending:
            for reply in replies:
                try:
                    ws.send(reply)
                except (OSError, websocket.WebSocketException) as exc:
                    log.warning("%s: an answer was not sent: %s", self.name, exc)
                    return

    def _close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(OSError, websocket.WebSocketException):
                ws.close(timeout=1)
