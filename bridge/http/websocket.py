"""Server-side WebSocket on the socket gunicorn hands over, framed by wsproto.

One greenlet per connection reads; any greenlet may send (under a lock).
Nothing else per connection: at ten thousand idle devices, every extra
greenlet or buffer shows up in the memory figures.
"""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

from gevent.event import Event
from gevent.lock import Semaphore
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

RECV_BYTES = 16384


class ConnectionClosed(Exception):
    """The peer went away or the connection was closed."""


class TooLarge(Exception):
    """A message exceeded the size limit."""


class WebSocket:
    def __init__(self, sock: socket.socket, max_bytes: int) -> None:
        self.sock = sock
        self.max_bytes = max_bytes
        self.conn = WSConnection(ConnectionType.SERVER)
        self._lock = Semaphore()
        self._parts: list[str] = []
        self._size = 0
        self.close_reason: str | None = None
        self.last_activity = time.time()
        """When the peer last sent anything: a message, a ping, a pong, a close."""
        self._probe: Event | None = None

    @classmethod
    def accept(cls, environ: dict[str, Any], max_bytes: int) -> WebSocket:
        """Complete the upgrade gunicorn parsed; raise ConnectionClosed if it is no upgrade."""
        sock = environ.get("gunicorn.socket")
        if sock is None:
            raise ConnectionClosed("WebSocket needs the gunicorn server")
        ws = cls(sock, max_bytes)
        ws.conn.receive_data(_request_bytes(environ))
        for event in ws.conn.events():
            if isinstance(event, Request):
                ws._write(ws.conn.send(AcceptConnection()))
                return ws
        ws._write(ws.conn.send(RejectConnection(status_code=400)))
        raise ConnectionClosed("not a WebSocket upgrade")

    def _write(self, data: bytes) -> None:
        with self._lock:
            try:
                self.sock.sendall(data)
            except OSError as exc:
                raise ConnectionClosed(str(exc)) from exc

    @property
    def open(self) -> bool:
        return self.conn.state is ConnectionState.OPEN

    def send(self, text: str) -> None:
        if not self.open:
            raise ConnectionClosed("not open")
        try:
            data = self.conn.send(TextMessage(data=text))
        except LocalProtocolError as exc:
            raise ConnectionClosed(str(exc)) from exc
        self._write(data)

    def ping(self) -> None:
        if self.open:
            self._write(self.conn.send(Ping(b"bridge")))

    def answers(self, within: float) -> bool:
        """Whether the peer is alive: it sends anything within `within` seconds of a ping.

        The reading greenlet notices the frame; this one only waits.
        """
        if not self.open:
            return False
        asked = time.time()
        self._probe = probe = Event()
        try:
            self.ping()
            probe.wait(within)
        except ConnectionClosed:
            return False
        finally:
            self._probe = None
        return self.open and self.last_activity >= asked

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame (once) and shut the socket down."""
        if self.open:
            self.close_reason = reason
            with contextlib.suppress(ConnectionClosed, LocalProtocolError):
                self._write(self.conn.send(CloseConnection(code=code, reason=reason[:120])))
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def receive(self) -> str:
        """The next whole text message; answers pings by itself."""
        while True:
            for event in self.conn.events():
                text = self._handle(event)
                if text is not None:
                    return text
            try:
                data = self.sock.recv(RECV_BYTES)
            except OSError as exc:
                raise ConnectionClosed(str(exc)) from exc
            if not data:
                raise ConnectionClosed("peer closed the socket")
            self.last_activity = time.time()
            if self._probe is not None:
                self._probe.set()
            try:
                self.conn.receive_data(data)
            except RemoteProtocolError as exc:
                self.close(1002, "protocol error")
                raise ConnectionClosed(str(exc)) from exc

    def _handle(self, event: object) -> str | None:
        if isinstance(event, TextMessage | BytesMessage):
            chunk = (
                event.data if isinstance(event.data, str) else event.data.decode("utf-8", "replace")
            )
            self._size += len(chunk)
            if self._size > self.max_bytes:
                self.close(1009, "message too large")
                raise TooLarge(f"message over {self.max_bytes} bytes")
            self._parts.append(chunk)
            if event.message_finished:
                text = "".join(self._parts)
                self._parts, self._size = [], 0
                return text
        elif isinstance(event, Ping):
            self._write(self.conn.send(event.response()))
        elif isinstance(event, CloseConnection):
            if self.conn.state is not ConnectionState.CLOSED:
                with contextlib.suppress(ConnectionClosed, LocalProtocolError):
                    self._write(self.conn.send(event.response()))
            raise ConnectionClosed(f"closed by peer ({event.code})")
        return None


def _request_bytes(environ: dict[str, Any]) -> bytes:
    """Rebuild the upgrade request from the WSGI environ for wsproto's handshake."""
    path = environ.get("RAW_URI") or environ.get("PATH_INFO") or "/"
    lines = [f"GET {path} HTTP/1.1"]
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            lines.append(f"{key[5:].replace('_', '-').title()}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
