"""Live device sockets: which one holds which device, and send-and-wait over them.

The replyToken is the waiter's token in the shared table; a socket that
ends fails every command still waiting on it at once. The bus hears which
devices this worker holds, so other workers forward their commands here;
a device another worker has taken over is forgotten here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bridge.plugin import (
    Bus,
    ConnectionClosed,
    Device,
    DeviceDisconnected,
    DeviceOffline,
    LocalBus,
    Unavailable,
    User,
    Waiters,
    WebSocket,
)
from bridge.transports.sinric import protocol

log = logging.getLogger(__name__)


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

    @property
    def last_seen(self) -> float:
        """Any frame counts, pings and pongs too: a quiet healthy device is not idle."""
        return self.ws.last_activity

    @last_seen.setter
    def last_seen(self, at: float) -> None:
        self.ws.last_activity = at


class Hub:
    """Which socket holds which device; the waits themselves are in the shared table."""

    def __init__(self, waiters: Waiters | None = None, bus: Bus | None = None) -> None:
        self.by_device: dict[str, Connection] = {}
        self.connections: set[Connection] = set()
        self.waiters = waiters if waiters is not None else Waiters()
        self.bus = bus if bus is not None else LocalBus("hub")
        self.bus.on_lost(self.lose)

    def online(self, device_id: str) -> bool:
        conn = self.by_device.get(device_id)
        return conn is not None and conn.ws.open

    def holders(self, device_ids: Iterable[str]) -> set[Connection]:
        """The live connections that hold any of these devices now."""
        return {self.by_device[d] for d in device_ids if d in self.by_device}

    def answers(self, device_ids: Iterable[str], grace: float) -> bool:
        """Whether a connection holding any of these devices answers a ping within `grace`."""
        return any(conn.ws.answers(grace) for conn in self.holders(device_ids))

    def attach(self, conn: Connection) -> list[Connection]:
        """Register a connection; return older ones whose devices it took over."""
        replaced = {self.by_device[d] for d in conn.devices if d in self.by_device}
        self.connections.add(conn)
        for device_id in conn.devices:
            self.by_device[device_id] = conn
        try:
            self.bus.hold(list(conn.devices))
        except Unavailable:  # the socket is here; the bus hears of it when it returns
            log.warning("the bus is away: %d devices register when it returns", len(conn.devices))
        return list(replaced)

    def detach(self, conn: Connection) -> list[str]:
        """Forget a connection; fail its waiters; return the devices now offline.

        A device a newer connection holds (here or on another worker) is not offline.
        """
        self.connections.discard(conn)
        mine = [d for d in conn.devices if self.by_device.get(d) is conn]
        for device_id in mine:
            del self.by_device[device_id]
        self.waiters.fail(conn, DeviceDisconnected())
        try:
            return self.bus.release(mine)
        except Exception:  # the registrations expire on their own
            log.warning("could not tell the bus these devices left", exc_info=True)
            return mine

    def lose(self, device_id: str) -> None:
        """Another worker took the device over: its connection there is the live one."""
        conn = self.by_device.pop(device_id, None)
        if conn is not None and not any(self.by_device.get(d) is conn for d in conn.devices):
            conn.ws.close(1000, "replaced by a newer connection")

    def request(
        self, payload: dict[str, Any], deadline: float, journey: str | None = None
    ) -> protocol.Message:
        """Send a request payload to the socket holding its device; the verified response."""
        device_id = payload["deviceId"]
        conn = self.by_device.get(device_id)
        if conn is None or not conn.ws.open:
            raise DeviceOffline()
        text = protocol.envelope(payload, conn.secret)
        try:
            return self.waiters.wait(
                payload["replyToken"],
                device_id,
                conn,
                lambda: conn.ws.send(text),
                deadline,
                journey,
            )
        except ConnectionClosed:
            raise DeviceDisconnected() from None

    def resolve(self, conn: Connection, message: protocol.Message) -> bool:
        """Hand a verified response to its waiter; False if nobody waits for it."""
        return self.waiters.resolve(message.reply_token, message.device_id, conn, message)

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
