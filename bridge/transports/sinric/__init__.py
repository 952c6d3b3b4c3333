"""The Sinric transport: devices hold a Sinric-Pro-compatible signed WebSocket.

The first transport. Its protocol (`protocol`), socket table (`hub`) and
endpoint (`endpoint`) are the only places that speak Sinric: the core sees
Commands, Replies and DeviceEvents.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from bridge.plugin import (
    Command,
    ConnectionClosed,
    Device,
    Exchange,
    Outcome,
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


class SinricTransport(Transport):
    name = "sinric"
    default = True

    def __init__(self, context: TransportContext) -> None:
        super().__init__(context)
        settings = context.bridge
        self.hub = Hub(context.waiters, context.bus)
        self.endpoint = DeviceEndpoint(
            context.store,
            self.hub,
            context.events,
            window=settings.signature_window,
            max_bytes=settings.max_message_bytes,
            takeover_grace=settings.takeover_grace,
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

        @bp.route("/", websocket=True)
        @bp.route("/ws", websocket=True)
        def device_socket():
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
