"""A command as one worker forwards it to the worker holding the device, and what a worker
that believes a stale holder does before it answers offline."""

import logging

import pytest
from fakes.bus import GroupBus

from bridge import journeys
from bridge.bus import Unreachable
from bridge.model import Command, DeviceDisconnected, DeviceOffline, Outcome
from bridge.plugin import Exchange, PluginSettings, Reply, Transport, TransportContext
from bridge.store import Store
from bridge.store.secrets import Vault
from bridge.transports import forwarding
from bridge.transports.registry import Transports
from config.settings import Settings


def test_a_command_crosses_with_its_journey():
    journey = journeys.new()
    command = Command("d1", "setPowerState", {"state": "On"}, journey=journey)
    sent = forwarding.request("d1", command, 3.0)
    assert forwarding.command_of(sent).journey == journey


def test_a_newer_workers_extra_fields_are_left_out():
    """In a rolling upgrade a newer worker's Command may have fields this one lacks."""
    sent = {"command": {"device_id": "d1", "action": "setPowerState", "value": {}, "later": 1}}
    assert forwarding.command_of(sent) == Command("d1", "setPowerState", {})


@pytest.mark.parametrize("sent", [{}, {"command": "setPowerState"}, {"command": [1]}])
def test_no_command_is_refused(sent):
    with pytest.raises(ValueError):
        forwarding.command_of(sent)


class Placed(GroupBus):
    """Workers of one process that call each other, where one may believe a stale holder
    (what a worker that is new, restarted or missed a notice believes)."""

    def __init__(self, worker: str, group: list[GroupBus], truth: dict[str, str]) -> None:
        super().__init__(worker, group)
        self.truth = truth  # what Redis says: shared by the group
        self.believed: dict[str, str | None] = {}
        self.handler = None

    def hold(self, device_ids: list[str]) -> None:
        for device_id in device_ids:
            self.truth[device_id] = self.worker

    def holder(self, device_id: str) -> str | None:
        if device_id in self.believed:
            return self.believed[device_id]
        return self.truth.get(device_id)

    def mistaken(self, device_id: str) -> None:
        self.believed.pop(device_id, None)

    def serve(self, handler) -> None:
        self.handler = handler

    def call(self, worker: str, message, timeout: float):
        for bus in self.group:
            if bus.worker == worker:
                return bus.handler(message)
        raise Unreachable(worker)


class Holding(Transport):
    """A transport whose devices are held by one worker, as sockets are."""

    name = "holding"

    def __init__(self, context: TransportContext) -> None:
        super().__init__(context)
        self.here: set[str] = set()
        self.sent = 0
        self.drops = False
        """The device goes mid-wait, after the command was sent."""

    def online(self, device_id: str) -> bool:
        return device_id in self.here or self.courier(device_id) is not None

    def courier(self, device_id: str) -> str | None:
        if device_id in self.here:
            return None
        holder = self.context.bus.holder(device_id)
        return holder if holder != self.context.bus.worker else None

    def request(self, device, command, deadline, exchange: Exchange) -> Reply:
        if device.id not in self.here:
            raise DeviceOffline()
        self.sent += 1
        if self.drops:
            raise DeviceDisconnected()
        return Reply(Outcome.ANSWERED, command.value)


@pytest.fixture
def two_workers(tmp_path):
    store = Store(str(tmp_path / "two.db"), Vault("k"))
    group: list[GroupBus] = []
    truth: dict[str, str] = {}
    workers = []
    for name in ("a", "b"):
        bus = Placed(name, group, truth)
        context = TransportContext(
            name="holding",
            settings=PluginSettings(),
            bridge=Settings(),
            log=logging.getLogger(name),
            store=store,
            events=None,
            waiters=None,
            bus=bus,
        )
        transport = Holding(context)
        workers.append((bus, transport, Transports({"holding": transport}, bus, store)))
    user, _ = store.users.create("alice", "password1")
    lamp = store.devices.create(user.id, "light", "Lamp", transport="holding")
    yield store, workers, lamp
    store.close()


@pytest.mark.parametrize("belief", [None, "b", "gone"])
def test_a_stale_belief_of_the_holder_is_checked_before_offline(two_workers, belief):
    """The device is on worker a; b believes nobody holds it, that it holds it itself, or
    that a worker long dead does: each is asked of the bus again, and the command goes."""
    _, [(bus_a, holding_a, _), (bus_b, _, transports_b)], lamp = two_workers
    holding_a.here.add(lamp.id)
    bus_a.hold([lamp.id])
    bus_b.believed[lamp.id] = belief
    command = Command(lamp.id, "setPowerState", {"state": "On"}, origin="api")
    exchange = Exchange()
    reply = transports_b.request(lamp, command, 1.0, exchange)
    assert reply.outcome is Outcome.ANSWERED and reply.value == {"state": "On"}
    assert exchange.courier == "a"


def test_a_device_nobody_holds_is_offline_after_one_fresh_look(two_workers):
    _, [_, (bus_b, _, transports_b)], lamp = two_workers
    bus_b.believed[lamp.id] = "gone"
    command = Command(lamp.id, "setPowerState", {"state": "On"}, origin="api")
    with pytest.raises(DeviceOffline):
        transports_b.request(lamp, command, 1.0, Exchange())
    assert lamp.id not in bus_b.believed  # the stale belief was dropped


def test_a_device_that_went_mid_wait_is_not_asked_twice(two_workers):
    """Disconnected is offline after the command was sent: no second look, no second send."""
    _, [(bus_a, holding_a, _), (_, _, transports_b)], lamp = two_workers
    holding_a.here.add(lamp.id)
    holding_a.drops = True
    bus_a.hold([lamp.id])
    command = Command(lamp.id, "setPowerState", {"state": "On"}, origin="api")
    with pytest.raises(DeviceDisconnected):
        transports_b.request(lamp, command, 1.0, Exchange())
    assert holding_a.sent == 1
