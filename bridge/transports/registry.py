"""Which transport reaches a device: loaded from entry points, chosen by the device's column."""

from __future__ import annotations

import logging
import re
from importlib.metadata import entry_points

from bridge.model import Device, DeviceOffline
from bridge.transports import GROUP, Transport, TransportContext

log = logging.getLogger(__name__)
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def names() -> list[str]:
    """The installed transports' names, without importing them (for the CLI's choices)."""
    return sorted(ep.name for ep in entry_points(group=GROUP) if NAME.match(ep.name))


def discover() -> dict[str, type[Transport]]:
    """Transport classes by name, in name order (built-in and third-party alike)."""
    found: dict[str, type[Transport]] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if not NAME.match(ep.name):
            log.error("transport %r: not a valid name, skipped", ep.name)
            continue
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Transport)):
            raise TypeError(f"entry point {ep.name} is not a Transport subclass")
        found[ep.name] = cls
    return found


class Transports:
    """The running transports of this process."""

    def __init__(self, transports: dict[str, Transport]) -> None:
        self.by_name = transports

    @classmethod
    def load(cls, context: TransportContext) -> Transports:
        return cls({name: impl(context) for name, impl in discover().items()})

    def of(self, device: Device) -> Transport:
        """The device's transport; DeviceOffline when this process does not run it."""
        transport = self.by_name.get(device.transport)
        if transport is None:
            raise DeviceOffline(f"the {device.transport!r} transport is not running here")
        return transport

    def online(self, device: Device) -> bool:
        transport = self.by_name.get(device.transport)
        return transport is not None and transport.online(device.id)

    def connected(self) -> int:
        return sum(t.connected() for t in self.by_name.values())

    def blueprints(self) -> list:
        return [bp for t in self.by_name.values() if (bp := t.blueprint()) is not None]

    def start(self) -> None:
        for transport in self.by_name.values():
            transport.start()

    def stop(self) -> None:
        for transport in self.by_name.values():
            transport.stop()
