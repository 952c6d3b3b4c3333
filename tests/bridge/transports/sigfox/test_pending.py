"""Pending commands in-process: durable across a restart, coalesced, expired by the clock."""

from __future__ import annotations

import logging
import time

import pytest
from recording import Recording, subscribe

from bridge.bus.local import LocalBus
from bridge.devices import DeviceService
from bridge.devices.events import EventIntake
from bridge.devices.limits import EventLimiter
from bridge.model import Command, Outcome
from bridge.plugin import LateResult, TransportContext
from bridge.reports.delivery import Reporter
from bridge.transports.registry import Transports
from bridge.transports.sigfox import SigfoxSettings, SigfoxTransport
from bridge.transports.sigfox.tables import SigfoxStore
from bridge.transports.waiters import Waiters
from config.settings import Settings


def bridge_on(open_store, asking: Recording, ttl: float = 60.0):
    """One process's view of the database: store, transport and command path."""
    store = open_store()
    reporter = Reporter(store, lambda: {"recording": asking}, retry_base=0.01, max_attempts=3)
    events = EventIntake(store, reporter, EventLimiter(LocalBus("t"), 0.0, 0.0))
    context = TransportContext(
        name="sigfox",
        settings=SigfoxSettings(pending_ttl=ttl),
        bridge=Settings(),
        log=logging.getLogger("t"),
        store=store,
        events=events,
        waiters=Waiters(),
        bus=LocalBus("t"),
    )
    transport = SigfoxTransport(context)
    service = DeviceService(
        store, Transports({"sigfox": transport}, context.bus, store), reporter, 1.0
    )
    context.finished = service.finished
    return store, transport, service, reporter


@pytest.fixture
def plug(open_store):
    """On SQLite and on PostgreSQL: the pending commands are the store's."""
    reopen = open_store
    asking = Recording()
    store, transport, service, reporter = bridge_on(reopen, asking)
    user, _ = store.users.create("alice", "password1")
    subscribe(store, user)
    store.repository(SigfoxStore).create_type(
        "p", "powerState::bool:0", "powerState::bool:0", "plug", None, "s"
    )
    device = store.devices.create(user.id, "plug", "Heater", transport="sigfox")
    store.repository(SigfoxStore).add_device("1A2B3C", device.id, "p")
    return reopen, asking, user, device, store, transport, service, reporter


def on(device, state="On") -> Command:
    return Command(device.id, "setPowerState", {"state": state}, origin="recording", reply_to="c-1")


def test_a_pending_command_survives_a_restart(plug):
    reopen, asking, user, device, store, _, service, _ = plug
    result = service.send(user, on(device))
    assert result.outcome is Outcome.PENDING and result.ref
    store.close()
    store2, transport2, _, reporter2 = bridge_on(reopen, asking)  # the server restarted
    found = store2.repository(SigfoxStore).device("1A2B3C")
    assert transport2.downlink(found) == "0100000000000000"
    transport2.acknowledged(found, 0, "ACKED")
    assert store2.pending.get(result.ref).state == "delivered"
    store2.writer.flush()
    assert store2.shadow.values(device.id) == {"powerState": "On"}
    reporter2.deliver_due()
    [late] = [c for c in asking.reports if isinstance(c, LateResult)]
    assert late.outcome == "ok" and late.reply_to == "c-1"


def test_the_newest_command_per_capability_wins(plug):
    _, _, user, device, store, transport, service, _ = plug
    first = service.send(user, on(device, "On")).ref
    second = service.send(user, on(device, "Off")).ref
    assert store.pending.get(first).state == "replaced"
    assert transport.downlink(store.repository(SigfoxStore).device("1A2B3C")) == "0000000000000000"
    assert store.pending.get(second).state == "sent"


def test_commands_expire_by_the_clock_and_the_asker_hears_it(plug):
    _, asking, user, device, store, transport, service, reporter = plug
    ref = service.send(user, on(device)).ref
    assert transport.expire_due(time.time() + 30) == 0  # within its time to live
    assert transport.expire_due(time.time() + 61) == 1
    assert store.pending.get(ref).state == "expired"
    assert transport.downlink(store.repository(SigfoxStore).device("1A2B3C")) is None
    reporter.deliver_due()
    [late] = [c for c in asking.reports if isinstance(c, LateResult)]
    assert late.outcome == "timeout"


def test_the_expiry_service_expires_by_its_clock(plug):
    _, _, user, device, store, transport, service, _ = plug
    ref = service.send(user, on(device)).ref
    [expiry] = transport.services()
    expiry.clock = lambda: time.time() + 61  # a minute on: past the command's ttl
    expiry.round()
    assert expiry.state.value == "running" and store.pending.get(ref).state == "expired"


def test_seen_frames_are_forgotten_only_when_pruned(plug):
    store = plug[4]
    assert store.repository(SigfoxStore).first_sight("1A2B3C", 1, 100)
    assert not store.repository(SigfoxStore).first_sight("1A2B3C", 1, 100)  # a retry
    store.repository(SigfoxStore).prune_frames(time.time() - 60)  # seen just now: kept
    assert not store.repository(SigfoxStore).first_sight("1A2B3C", 1, 100)
    store.repository(SigfoxStore).prune_frames(time.time() + 60)
    assert store.repository(SigfoxStore).first_sight("1A2B3C", 1, 100)
    assert store.repository(SigfoxStore).last_frame("1A2B3C") == 100
