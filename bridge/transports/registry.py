"""Which transport reaches a device, and which worker: loaded from entry points,
chosen by the device's column, forwarded over the bus to the worker holding it."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bridge.bus import Bus, Unreachable
from bridge.model import (
    BridgeError,
    Command,
    Device,
    DeviceDisconnected,
    DeviceOffline,
    DeviceTimeout,
)
from bridge.plugin import Exchange, Reply, Transport, TransportContext
from bridge.plugin import settings as plugin_settings
from bridge.runtime import plugins
from bridge.transports import forwarding

if TYPE_CHECKING:
    from bridge.store import Store


def discover() -> dict[str, type[Transport]]:
    """Transport classes by name, in name order (built-in and third-party alike)."""
    return plugins.classes(plugins.TRANSPORTS, Transport)


class Transports:
    """The running transports of this process, and the way to devices other workers hold."""

    def __init__(self, transports: dict[str, Transport], bus: Bus, store: Store) -> None:
        self.by_name = transports
        self.bus = bus
        self.store = store
        bus.serve(self.serve)

    @classmethod
    def load(cls, context: TransportContext, environ: Mapping[str, str]) -> Transports:
        """Each installed transport with a context of its own (its name, its settings)."""
        found = {
            name: impl(
                replace(
                    context,
                    name=name,
                    settings=plugin_settings.load(impl.settings_model, name, environ),
                    log=logging.getLogger(f"bridge.transports.{name}"),
                )
            )
            for name, impl in discover().items()
        }
        return cls(found, context.bus, context.store)

    def of(self, device: Device) -> Transport:
        """The device's transport; DeviceOffline when this process does not run it."""
        transport = self.by_name.get(device.transport)
        if transport is None:
            raise DeviceOffline(f"the {device.transport!r} transport is not running here")
        return transport

    def online(self, device: Device) -> bool:
        transport = self.by_name.get(device.transport)
        return transport is not None and transport.online(device.id)

    def request(
        self, device: Device, command: Command, deadline: float, exchange: Exchange
    ) -> Reply:
        """Deliver here, or through the worker that must deliver it, within `deadline`.

        With several workers, what this one believes of a device's holder may be stale
        (a worker new or restarted, a notice missed, a holder that died or let go): an
        offline answer from that belief is checked against the bus once before it is
        given, and the command goes to the holder the bus names then.
        """
        transport = self.of(device)
        if not self.bus.shared:
            return transport.request(device, command, deadline, exchange)
        end = time.monotonic() + deadline
        try:
            return self._deliver(transport, device, command, deadline, exchange)
        except DeviceDisconnected:
            raise  # it was there and went mid-wait: the command may have reached it
        except DeviceOffline:  # never sent: a second look cannot deliver it twice
            self.bus.mistaken(device.id)  # ask the bus, not the memory, again
            left = max(0.0, end - time.monotonic())
            return self._deliver(transport, device, command, left, exchange)

    def _deliver(
        self,
        transport: Transport,
        device: Device,
        command: Command,
        deadline: float,
        exchange: Exchange,
    ) -> Reply:
        courier = transport.courier(device.id)
        if courier is None or courier == self.bus.worker:
            return transport.request(device, command, deadline, exchange)
        return self._forward(courier, device, command, deadline, exchange)

    def _forward(
        self, courier: str, device: Device, command: Command, deadline: float, exchange: Exchange
    ) -> Reply:
        message = forwarding.request(device.id, command, deadline)
        exchange.courier = courier
        try:
            body = self.bus.call(courier, message, deadline + forwarding.HOP_GRACE)
        except Unreachable:
            raise DeviceOffline() from None
        except TimeoutError:
            raise DeviceTimeout() from None
        if body.get("moved"):
            raise DeviceOffline()
        return forwarding.reply_of(body, exchange)

    def serve(self, message: dict[str, Any]) -> dict[str, Any]:
        """Another worker's call: a command for a device held here, or a liveness question."""
        op = message.get("op")
        if op == "alive":
            transport = self.by_name.get(str(message.get("transport")))
            devices = [str(d) for d in message.get("devices") or []][:256]
            grace = min(float(message.get("grace") or 0), 10.0)
            return {"alive": transport is not None and transport.answers(devices, grace)}
        if op != "request":
            return {"error": {"code": "error", "message": f"unknown call {op!r}"}}
        exchange = Exchange()
        try:
            device = self.store.devices.get(str(message.get("device")))
            if device is None:
                raise DeviceOffline()
            transport = self.of(device)
            if transport.courier(device.id) is not None or not transport.online(device.id):
                # Not here (any more): never forwarded twice; the asker's belief was stale.
                return {**forwarding.answer(None, DeviceOffline(), exchange), "moved": True}
            command = forwarding.command_of(message)
            reply = transport.request(device, command, float(message["deadline"]), exchange)
        except BridgeError as exc:
            return forwarding.answer(None, exc, exchange)
        return forwarding.answer(reply, None, exchange)

    def connected(self) -> int:
        return sum(t.connected() for t in self.by_name.values())
