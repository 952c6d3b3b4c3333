"""Live device connections and send-and-wait with a deadline.

The correlation pattern is the relay's: make the replyToken, register the
waiter before sending, always remove it in `finally`, and fail every waiter
of a connection the moment that connection ends. A wait is a greenlet on an
AsyncResult, never an OS thread.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import gevent
from gevent.event import AsyncResult

from bridge import protocol
from bridge.model import Device, DeviceDisconnected, DeviceOffline, DeviceTimeout, User
from bridge.websocket import ConnectionClosed, WebSocket


class Transport(Protocol):
    """How the core reaches a device; the WebSocket hub is the first of several."""

    def online(self, device_id: str) -> bool:
        """Whether a request could be delivered now."""

    def request(self, payload: dict[str, Any], deadline: float) -> protocol.Message:
        """Deliver a request payload and return the device's verified response."""


@dataclass(eq=False)
class Connection:
    """One device socket: the account it signs for and the devices it holds."""

    ws: WebSocket
    user: User
    secret: str
    devices: dict[str, Device]
    platform: str = ""
    sdk_version: str = ""
    remote: str = ""
    connected_at: float = field(default_factory=time.time)
    pending: set[str] = field(default_factory=set)

    @property
    def last_seen(self) -> float:
        """Any frame counts, pings and pongs too: a quiet healthy device is not idle."""
        return self.ws.last_activity

    @last_seen.setter
    def last_seen(self, at: float) -> None:
        self.ws.last_activity = at


@dataclass(eq=False)
class _Waiter:
    result: AsyncResult
    device_id: str
    conn: Connection


class Hub:
    """The WebSocket transport: which socket holds which device, and who waits."""

    def __init__(self) -> None:
        self.by_device: dict[str, Connection] = {}
        self.connections: set[Connection] = set()
        self._waiters: dict[str, _Waiter] = {}

    def online(self, device_id: str) -> bool:
        conn = self.by_device.get(device_id)
        return conn is not None and conn.ws.open

    def holders(self, device_ids: Iterable[str]) -> set[Connection]:
        """The live connections that hold any of these devices now."""
        return {self.by_device[d] for d in device_ids if d in self.by_device}

    def attach(self, conn: Connection) -> list[Connection]:
        """Register a connection; return older ones whose devices it took over."""
        replaced = {self.by_device[d] for d in conn.devices if d in self.by_device}
        self.connections.add(conn)
        for device_id in conn.devices:
            self.by_device[device_id] = conn
        return list(replaced)

    def detach(self, conn: Connection) -> list[str]:
        """Forget a connection; fail its waiters; return the devices now offline."""
        self.connections.discard(conn)
        offline = [d for d in conn.devices if self.by_device.get(d) is conn]
        for device_id in offline:
            del self.by_device[device_id]
        for token in list(conn.pending):
            waiter = self._waiters.get(token)
            if waiter is not None:
                waiter.result.set_exception(DeviceDisconnected())
        return offline

    def request(self, payload: dict[str, Any], deadline: float) -> protocol.Message:
        device_id = payload["deviceId"]
        conn = self.by_device.get(device_id)
        if conn is None or not conn.ws.open:
            raise DeviceOffline()
        token = payload["replyToken"]
        waiter = _Waiter(AsyncResult(), device_id, conn)
        self._waiters[token] = waiter
        conn.pending.add(token)
        try:
            conn.ws.send(protocol.envelope(payload, conn.secret))
            return waiter.result.get(timeout=deadline)
        except gevent.Timeout:
            raise DeviceTimeout() from None
        except ConnectionClosed:
            raise DeviceDisconnected() from None
        finally:
            del self._waiters[token]
            conn.pending.discard(token)

    def resolve(self, conn: Connection, message: protocol.Message) -> bool:
        """Hand a verified response to its waiter; False if nobody waits for it."""
        waiter = self._waiters.get(message.reply_token)
        if waiter is None or waiter.conn is not conn or waiter.device_id != message.device_id:
            return False
        if waiter.result.ready():
            return False
        waiter.result.set(message)
        return True

    def sweep(self, idle_timeout: float, now: float | None = None) -> None:
        """Ping quiet sockets; close those silent for longer than the idle timeout."""
        now = now if now is not None else time.time()
        for conn in list(self.connections):
            quiet = now - conn.last_seen
            try:
                if quiet > idle_timeout:
                    conn.ws.close(1001, "idle timeout")
                elif quiet > idle_timeout / 2:
                    conn.ws.ping()
            except ConnectionClosed:
                conn.ws.close(1001, "gone")
