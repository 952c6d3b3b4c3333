"""The transport contract: how the core reaches a device, whatever carries it.

A transport speaks the core's vocabulary. It takes a Command for one device
and answers with a Reply (answered with a value, refused with a message, or
accepted and pending), or raises the core's DeviceOffline, DeviceTimeout or
DeviceDisconnected. What devices say unasked comes back as neutral
DeviceEvents and connectivity, through the context's event intake. Each
transport is a package under `bridge/transports/`, registered by entry
point (group `bridge.transports`) like adapters; its name is the value of
a device's `transport` column. Nothing outside a transport's package
names it.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from bridge.model import BridgeError, Command, Device, Exchange, Reply, User
from bridge.plugin.base import Plugin, PluginContext

if TYPE_CHECKING:
    from bridge.bus import Bus
    from bridge.devices.events import EventIntake
    from bridge.store import Store
    from bridge.transports.waiters import Waiters


@dataclass(kw_only=True)
class TransportContext(PluginContext):
    """What the core lends a transport: storage, the event intake, the shared waiters."""

    store: Store
    """The database (the transport's own tables: `store.repository(...)`)."""
    events: EventIntake
    """Where device events and connectivity go (shadow, history, reports)."""
    waiters: Waiters
    """The shared table of commands waiting for their answer."""
    bus: Bus
    """Shared with the other workers: placement, replay guards, limits."""
    finished: Callable[[User, Command, dict[str, Any] | BridgeError], None] | None = None
    """For a command once answered PENDING: it ended, with the device's value or an error
    (the core applies the state and tells the platform that asked)."""


class Transport(Plugin):
    """One way of reaching devices. Subclasses set `name` (the entry point's name)."""

    default: ClassVar[bool] = False
    """Whether a device created without a transport gets this one (one transport says so)."""
    holds_connections: ClassVar[bool] = True
    """Whether its devices keep a connection open (a socket, a broker session), so that
    online means connected. False: they are heard now and then (callbacks), online means
    reachable, and the console draws when each was heard instead of a day online."""

    context: TransportContext
    """What the core lends this transport."""

    @classmethod
    def device_options(cls) -> list:
        """Options this transport adds to `bridge device create` (click options)."""
        return []

    @classmethod
    def device_created(cls, store: Store, device: Device, options: dict[str, Any]) -> None:
        """A device was created (on any transport) with these options: check, or record more.

        Raise a BridgeError to refuse; the CLI deletes the device again.
        """
        return None

    @abstractmethod
    def online(self, device_id: str) -> bool:
        """Whether a command could be delivered now, by this worker or the one in `courier`
        (an offline device is answered at once)."""

    def courier(self, device_id: str) -> str | None:
        """The other worker that must deliver this device's commands (it holds the device's
        socket, or the broker session), or None when this worker can. The core forwards
        them over the bus. Transports any worker reaches (HTTP callbacks) keep None."""
        return None

    @abstractmethod
    def request(
        self, device: Device, command: Command, deadline: float, exchange: Exchange
    ) -> Reply:
        """Deliver one command and wait at most `deadline` seconds for the answer."""

    def connected(self) -> int:
        """How many devices are reachable now (the metrics' gauge)."""
        return 0

    def answers(self, device_ids: list[str], grace: float) -> bool:
        """Whether a live connection here holds any of these devices and proves it within
        `grace` seconds (another worker asks before taking them over)."""
        return False
