"""Which transport reaches a device: loaded from entry points, chosen by the device's column."""

from __future__ import annotations

from importlib.metadata import entry_points

from bridge import plugins
from bridge.model import Device, DeviceOffline
from bridge.transports import GROUP, Transport, TransportContext


def names() -> list[str]:
    """The installed transports' names, without importing them (for the CLI's choices)."""
    return sorted(ep.name for ep in entry_points(group=GROUP) if plugins.NAME.match(ep.name))


def discover() -> dict[str, type[Transport]]:
    """Transport classes by name, in name order (built-in and third-party alike)."""
    return plugins.classes(GROUP, Transport)


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
