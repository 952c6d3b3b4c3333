"""The Sinric transport: devices hold a Sinric-Pro-compatible signed WebSocket.

The first transport. Its protocol (`protocol`), socket table (`hub`) and
endpoint (`endpoint`) are the only places that speak Sinric: the core sees
Commands, Replies and DeviceEvents.
"""

from __future__ import annotations

import math

import gevent
from flask import Blueprint, Response, request

from bridge.plugin import (
    Command,
    ConnectionClosed,
    Device,
    Exchange,
    Outcome,
    PluginSettings,
    Reply,
    Service,
    Transport,
    TransportContext,
)
from bridge.transports.sinric import protocol
from bridge.transports.sinric.endpoint import DeviceEndpoint
from bridge.transports.sinric.hub import Hub


class _Detached(Response):
    """The socket now belongs to the WebSocket: tell gunicorn to write nothing."""

    def __call__(self, environ, start_response):  # type: ignore[override]
        raise StopIteration()


class SinricSettings(PluginSettings, frozen=True):
    """BRIDGE_SINRIC_*: the pace at which a worker lets device sockets in."""

    upgrade_rate: float = 200.0
    """Upgrades a worker takes a second (with their first reads and writes): a fleet that
    reconnects at once is let in at this pace, in arrival order, so the webhooks keep
    their latency through the storm; closed sockets are told offline at the same pace.
    0: no pace."""
    upgrade_burst: int = 50
    """Upgrades let in at once above the rate."""
    upgrade_patience: float = 20.0
    """Seconds an upgrade may wait for its turn; past it, 503 with Retry-After."""


class SinricTransport(Transport):
    name = "sinric"
    default = True
    settings_model = SinricSettings

    def __init__(self, context: TransportContext) -> None:
        super().__init__(context)
        own = context.settings
        self.upgrades = context.budgets.budget(
            "device upgrades", own.upgrade_rate, own.upgrade_burst, unit="upgrades"
        )
        closes = context.budgets.budget(
            "device closes", own.upgrade_rate, own.upgrade_burst, unit="closes"
        )
        settings = context.bridge
        self.hub = Hub(context.waiters, context.bus)
        self.endpoint = DeviceEndpoint(
            context.store,
            self.hub,
            context.events,
            window=settings.signature_window,
            max_bytes=settings.max_message_bytes,
            takeover_grace=settings.takeover_grace,
            pace=lambda: gevent.sleep(closes.reserve("", math.inf) or 0.0),
        )

    def online(self, device_id: str) -> bool:
        return self.hub.online(device_id) or self.courier(device_id) is not None

    def courier(self, device_id: str) -> str | None:
        """The worker holding the device's socket, when it is not this one."""
        bus = self.context.bus
        if not bus.shared or self.hub.online(device_id):
            return None
        holder = bus.holder(device_id)
        return holder if holder != bus.worker else None

    def connected(self) -> int:
        return len(self.hub.by_device)

    def answers(self, device_ids: list[str], grace: float) -> bool:
        return self.hub.answers(device_ids, grace)

    def request(
        self, device: Device, command: Command, deadline: float, exchange: Exchange
    ) -> Reply:
        payload = protocol.request(
            device.id,
            command.action,
            command.value,
            instance_id=command.instance_id,
            client_id=command.origin,
        )
        exchange.sent = payload
        message = self.hub.request(payload, deadline, command.journey)
        exchange.received = message.text
        if message.payload.success is True:
            return Reply(Outcome.ANSWERED, message.value, message.payload.message)
        return Reply(Outcome.REFUSED, {}, message.payload.message)

    def blueprint(self) -> Blueprint:
        """The device socket at `/` (as Sinric SDKs connect) and `/ws`."""
        bp = Blueprint("sinric", __name__)
        endpoint, log = self.endpoint, self.context.log
        upgrades, patience = self.upgrades, self.context.settings.upgrade_patience

        @bp.route("/", websocket=True)
        @bp.route("/ws", websocket=True)
        def device_socket():
            turn = upgrades.reserve("", patience)  # a worker's own pace, not the bus's
            if turn is None:  # refused before any work: the device comes back later
                later = {"Retry-After": str(max(1, int(patience / 2)))}
                return Response("busy: try again later\n", 503, later, mimetype="text/plain")
            gevent.sleep(turn)
            try:
                endpoint.serve(request.environ)
            except ConnectionClosed as exc:
                log.info("device socket ended: %s", exc)
            except Exception:
                log.exception("device socket failed")
            return _Detached()

        return bp

    def services(self) -> list[Service]:
        return [SocketSweep(self)]


class SocketSweep(Service):
    """Ping quiet sockets, close silent ones (the idle timeout)."""

    name = "socket sweep"
    every = 30.0

    def __init__(self, transport: SinricTransport) -> None:
        super().__init__(transport.context.bus)
        self.transport = transport

    def run_once(self) -> None:
        self.transport.hub.sweep(self.transport.context.bridge.idle_timeout)
