"""The transport seam in-process: a fake transport drives the core as a real one would."""

from __future__ import annotations

import logging

import gevent
import pytest
from recording import Recording, subscribe

from bridge.bus.local import LocalBus
from bridge.devices import DeviceService
from bridge.devices.events import EventIntake
from bridge.devices.limits import EventLimiter
from bridge.model import (
    Command,
    DeviceDisconnected,
    DeviceOffline,
    DeviceRefused,
    DeviceTimeout,
    Outcome,
)
from bridge.plugin import DeviceEvent, Exchange, PluginSettings, Reply, Transport, TransportContext
from bridge.reports.delivery import Reporter
from bridge.store import Store
from bridge.store.secrets import Vault
from bridge.transports.registry import Transports, discover
from bridge.transports.waiters import TIMED_OUT_KEPT, Waiters
from config.settings import Settings


class Scripted(Transport):
    """A transport whose device answers from a script; waits go through the shared table."""

    name = "scripted"

    def __init__(self, context: TransportContext) -> None:
        super().__init__(context)
        self.up: set[str] = set()
        self.answer: Reply | None = Reply(Outcome.ANSWERED, {"state": "On"})
        self.sent: list[Command] = []

    def online(self, device_id: str) -> bool:
        return device_id in self.up

    def connected(self) -> int:
        return len(self.up)

    def request(self, device, command, deadline, exchange: Exchange) -> Reply:
        if device.id not in self.up:
            raise DeviceOffline()
        self.sent.append(command)
        exchange.sent = f"{command.action} {command.value}"
        token = f"t{len(self.sent)}"

        def deliver() -> None:
            if self.answer is not None:
                gevent.spawn(self.context.waiters.resolve, token, device.id, self, self.answer)

        reply = self.context.waiters.wait(token, device.id, self, deliver, deadline)
        exchange.received = reply.message or "answered"
        return reply


@pytest.fixture
def world(tmp_path):
    store = Store(str(tmp_path / "seam.db"), Vault("k"))
    listening = Recording()
    reporter = Reporter(store, lambda: {"recording": listening}, retry_base=0.01, max_attempts=3)
    events = EventIntake(store, reporter, EventLimiter(LocalBus("t"), 0.0, 0.0))
    waiters = Waiters()
    context = TransportContext(
        name="scripted",
        settings=PluginSettings(),
        bridge=Settings(),
        log=logging.getLogger("t"),
        store=store,
        events=events,
        waiters=waiters,
        bus=LocalBus("t"),
    )
    scripted = Scripted(context)
    service = DeviceService(
        store, Transports({"scripted": scripted}, context.bus, store), reporter, 1.0
    )
    user, _ = store.users.create("alice", "password1")
    subscribe(store, user)
    lamp = store.devices.create(user.id, "light", "Lamp", transport="scripted")
    return store, service, scripted, user, lamp, listening, reporter


def test_an_answer_reaches_the_shadow_the_history_and_the_other_platforms(world):
    store, service, scripted, user, lamp, listening, reporter = world
    scripted.up.add(lamp.id)
    assert service.online(lamp)
    result = service.send(user, Command(lamp.id, "setPowerState", {"state": "On"}, origin="api"))
    assert result.outcome is Outcome.ANSWERED and result.value == {"state": "On"}
    assert store.shadow.values(lamp.id) == {"powerState": "On"}
    store.writer.flush()
    [row] = store.messages.query(device_id=lamp.id, kind="request")
    assert row["outcome"] == "ok" and row["payload"].startswith("setPowerState")
    reporter.deliver_due()
    assert [c.changed for c in listening.reports] == [("powerState",)]


def test_refused_pending_offline_and_silent_in_the_core_terms(world):
    store, service, scripted, user, lamp, _, _ = world
    on = Command(lamp.id, "setPowerState", {"state": "On"}, origin="api")
    with pytest.raises(DeviceOffline):
        service.send(user, on)
    scripted.up.add(lamp.id)
    scripted.answer = Reply(Outcome.REFUSED, message="jammed")
    with pytest.raises(DeviceRefused, match="jammed"):
        service.send(user, on)
    scripted.answer = Reply(Outcome.PENDING, message="queued for the next uplink")
    pending = service.send(user, on)
    assert pending.outcome is Outcome.PENDING and store.shadow.values(lamp.id) == {}
    scripted.answer = None
    with pytest.raises(DeviceTimeout):
        service.send(user, on, deadline=0.05)
    store.writer.flush()
    outcomes = [r["outcome"] for r in store.messages.query(device_id=lamp.id, kind="request")]
    assert outcomes == ["timeout", "pending", "refused", "offline"]  # newest first
    assert len(scripted.context.waiters) == 0


def test_a_device_of_a_transport_not_running_here_is_offline(world):
    store, service, _, user, _, _, _ = world
    other = store.devices.create(user.id, "plug", "Heater", transport="elsewhere")
    assert not service.online(other)
    with pytest.raises(DeviceOffline, match="elsewhere"):
        service.send(user, Command(other.id, "setPowerState", {"state": "On"}))


def test_events_enter_as_neutral_device_events(world):
    store, _, scripted, user, lamp, listening, reporter = world
    event = DeviceEvent(lamp.id, "setBrightness", {"brightness": 12}, text="raw")
    assert scripted.context.events.handle(user, lamp, event) == "ok"
    assert store.shadow.values(lamp.id) == {"brightness": 12}
    reporter.deliver_due()
    assert listening.reports[0].cause == "PHYSICAL_INTERACTION"


def test_shared_waiters_fail_an_owner_and_refuse_strangers():
    waiters = Waiters()
    a, b = object(), object()
    answers = []

    def later():
        gevent.sleep(0)
        assert not waiters.resolve("t", "dev", b, "from b")  # right token, wrong owner
        assert not waiters.resolve("t", "other", a, "wrong device")
        waiters.fail(a, DeviceDisconnected())

    gevent.spawn(later)
    with pytest.raises(DeviceDisconnected):
        waiters.wait("t", "dev", a, lambda: answers.append("sent"), 1.0)
    assert answers == ["sent"] and len(waiters) == 0
    with pytest.raises(DeviceTimeout):
        waiters.wait("t", "dev", a, lambda: None, 0.01)


def test_a_late_answer_is_known_for_what_it_was():
    waiters = Waiters()
    for n in range(TIMED_OUT_KEPT + 1):  # the oldest is forgotten: the memory has a bound
        with pytest.raises(DeviceTimeout):
            waiters.wait(f"t{n}", "dev", "conn", lambda: None, 0.0)
    assert waiters.late("t0", "dev") is None
    assert waiters.late("t1", "other") is None  # only for the device it asked
    late = waiters.late("t1", "dev")
    assert late is not None and late.waited == 0.0 and late.after >= 0
    assert waiters.late("t1", "dev") is None  # once


def test_sinric_is_the_installed_transport():
    from bridge.transports.sinric import SinricTransport

    assert discover()["sinric"] is SinricTransport
