"""The shadow service in-process, as a thing's publishes reach it: every request answered in
AWS's shape, reachability from what the thing and the broker say, retained messages not
believed, hostile payloads refused without an exception, and a thing's budget (refused past
it before any work, a flood written twice, a flood that goes on denied at the broker)."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fuzz_harness import PROFILE
from hypothesis import given
from hypothesis import strategies as st
from recording import Recording, subscribe
from servers import eventually

from bridge.bus.local import LocalBus
from bridge.devices.events import EventIntake
from bridge.devices.limits import EventLimiter
from bridge.model import DeviceOffline
from bridge.plugin import Command, Exchange, TransportContext
from bridge.reports.delivery import Reporter
from bridge.runtime.budgets import Budgets
from bridge.store import Store
from bridge.store.secrets import Vault
from bridge.transports.mqtt import STALE_WILL_WINDOW, MqttSettings, MqttTransport, topics
from bridge.transports.mqtt.broker import FILES, acl
from bridge.transports.mqtt.shadow import MAX_TOKEN_BYTES
from bridge.transports.mqtt.things import PID_FILE
from bridge.transports.waiters import Waiters
from config.settings import Settings

UNLIMITED = MqttSettings(thing_rate=0)
"""A thing may ask as often as it likes (the budget's own tests set one)."""


class Capturing(MqttTransport):
    """The transport with its broker replaced by a list: what it would publish, encoded as
    it would be (an answer that cannot be encoded fails here as it would there)."""

    def __init__(self, context: TransportContext) -> None:
        super().__init__(context)
        self.published: list[tuple[str, dict]] = []

    def _publish(self, topic: str, body: dict, qos: int = 1) -> None:
        orjson.dumps(body)
        self.published.append((topic, body))

    def answers(self, suffix: str) -> list[dict]:
        return [body for topic, body in self.published if topic.endswith(suffix)]


def serving(
    store: Store,
    heard: Recording,
    settings: MqttSettings = UNLIMITED,
    budgets: Budgets | None = None,
) -> tuple[Capturing, str]:
    """The shadow service over `store`, and a thing of a new account."""
    reporter = Reporter(store, lambda: {"recording": heard}, retry_base=0.01, max_attempts=3)
    bus = LocalBus("w")
    events = EventIntake(store, reporter, EventLimiter(bus, 0.0, 0.0))
    context = TransportContext(
        name="mqtt",
        settings=settings,
        budgets=budgets or Budgets(),
        bridge=Settings(),
        log=logging.getLogger("t"),
        store=store,
        events=events,
        waiters=Waiters(),
        bus=bus,
    )
    user, _ = store.users.create("alice", "password1")
    subscribe(store, user)
    return Capturing(context), store.devices.create(user.id, "light", "Lamp", transport="mqtt").id


@pytest.fixture
def world(tmp_path) -> Iterator[tuple[Store, Capturing, str, Recording]]:
    store = Store(str(tmp_path / "things.db"), Vault("k"))
    heard = Recording()
    yield store, *serving(store, heard), heard
    store.close()


def publish(service: Capturing, thing: str, topic: str, body, retained: bool = False) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    service.on_message(topic.format(thing=thing), raw, retained)


def connections(store: Store, thing: str) -> list[str]:
    store.writer.flush()
    rows = store.messages.query(device_id=thing, kind="connection")
    return [f"{r['outcome']} ({r['detail']})" for r in reversed(rows)]


def test_any_message_from_a_thing_proves_it_connected_and_its_will_ends_it(world):
    """A thing that never reports `connection_status` (AWS's own SDK, as documented)."""
    store, service, thing, _ = world
    assert not service.shadow(thing).connected
    publish(service, thing, topics.GET, b"")
    assert service.shadow(thing).connected
    publish(service, thing, topics.WILL, {"state": {"reported": {"connection_status": "x"}}})
    assert service.shadow(thing).connected  # a will that does not say disconnected
    will = {"state": {"reported": {"connection_status": "disconnected"}}}
    publish(service, thing, topics.WILL, will)
    assert not service.shadow(thing).connected
    publish(service, thing, topics.UPDATE, {"state": {"reported": {"powerState": "On"}}})
    assert service.shadow(thing).connected
    assert connections(store, thing) == [
        "online (mqtt: a message from the thing)",
        "offline (mqtt: its will)",
        "online (mqtt: a message from the thing)",
    ]


def test_a_will_queued_before_a_broker_restart_does_not_end_a_thing_that_is_back(world):
    """The broker kept the bridge's session across its restart, with the will it published
    as it went down; the thing reconnected and spoke first. Later, a will is believed."""
    _, service, thing, _ = world
    will = {"state": {"reported": {"connection_status": "disconnected"}}}
    service._session_began = time.monotonic()  # the bridge's session just came back
    publish(service, thing, topics.UPDATE, {"state": {"reported": {"powerState": "On"}}})
    publish(service, thing, topics.WILL, will)
    assert service.shadow(thing).connected
    service._session_began -= STALE_WILL_WINDOW  # long after the session came back
    publish(service, thing, topics.WILL, will)
    assert not service.shadow(thing).connected
    service._session_began = time.monotonic()
    publish(service, thing, topics.WILL, will)  # it has not spoken since: believed
    assert not service.shadow(thing).connected


@pytest.mark.parametrize(
    ("on", "off"),
    [
        ("$aws/events/presence/connected/{thing}", "$aws/events/presence/disconnected/{thing}"),
        (
            "$SYS/brokers/emqx@h/clients/{thing}/connected",
            "$SYS/brokers/n/clients/{thing}/disconnected",
        ),
    ],
)
def test_a_broker_that_publishes_presence_is_believed(world, on, off):
    _, service, thing, _ = world
    publish(service, thing, on, {"clientId": thing, "eventType": "connected"})
    assert service.shadow(thing).connected
    publish(service, thing, off, {"clientId": thing, "eventType": "disconnected"})
    assert not service.shadow(thing).connected
    assert service.published == []  # nothing is answered to the broker's own events


def test_retained_messages_never_rewrite_newer_state_nor_reachability(world):
    """After a restart the broker replays a thing's retained update and will: ignored,
    as AWS ignores retain on shadow topics."""
    store, service, thing, _ = world
    publish(service, thing, topics.UPDATE, {"state": {"reported": {"brightness": 80}}})
    old = {"state": {"reported": {"brightness": 10}}}
    publish(service, thing, topics.UPDATE, old, retained=True)
    will = {"state": {"reported": {"connection_status": "disconnected"}}}
    publish(service, thing, topics.WILL, will, retained=True)
    assert service.shadow(thing).reported == {"brightness": 80}
    assert service.shadow(thing).connected
    store.writer.flush()
    refused = [r["detail"] for r in store.messages.query(device_id=thing, kind="rejection")]
    assert len([d for d in refused if d.startswith("retained message")]) == 2


def test_delete_is_served_with_awss_semantics(world):
    _, service, thing, _ = world
    publish(service, thing, topics.DELETE, {"clientToken": "d0"})
    [none] = service.answers("/delete/rejected")
    assert none["code"] == 404 and none["clientToken"] == "d0"
    publish(service, thing, topics.UPDATE, {"state": {"reported": {"powerState": "On"}}})
    publish(service, thing, topics.DELETE, {"clientToken": "d1"})
    [gone] = service.answers("/delete/accepted")
    assert gone["version"] == 1 and gone["clientToken"] == "d1" and "timestamp" in gone
    publish(service, thing, topics.GET, {"clientToken": "g1"})
    assert service.answers("/get/rejected")[-1]["code"] == 404
    assert service.shadow(thing).connected  # a delete says nothing of the connection


def test_deleting_a_key_with_null_is_an_update_not_a_rejected_value(world):
    store, service, thing, _ = world
    publish(service, thing, topics.UPDATE, {"state": {"reported": {"brightness": 40}}})
    publish(service, thing, topics.UPDATE, {"state": {"reported": {"brightness": None}}})
    assert "brightness" not in service.shadow(thing).reported
    store.writer.flush()
    assert store.messages.query(device_id=thing, kind="rejection") == []


def test_a_refusal_alone_is_still_answered(world):
    _, service, thing, _ = world
    body = {"state": {"reported": {"error": {"message": "jammed"}}}, "clientToken": "e1"}
    publish(service, thing, topics.UPDATE, body)
    [accepted] = service.answers("/update/accepted")
    assert accepted["clientToken"] == "e1" and accepted["state"]["reported"]["error"]


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=10,
)
TOKENS = st.one_of(st.text(max_size=70), JSONISH)
REQUESTS = st.one_of(
    st.fixed_dictionaries(
        {"state": st.one_of(JSONISH, st.fixed_dictionaries({"reported": JSONISH}))},
        optional={"clientToken": TOKENS, "version": JSONISH},
    ),
    st.fixed_dictionaries({}, optional={"clientToken": TOKENS}),
    JSONISH,
)
KINDS = {"update": topics.UPDATE, "get": topics.GET, "delete": topics.DELETE}


def test_every_request_gets_one_answer_in_awss_shape_and_nothing_raises(world):
    """From a thing with a valid certificate: numbers beyond 64 bits, tokens of any type,
    empty states, bytes. One accepted or rejected each; a token echoed only when it is one;
    nothing raises (an exception here fails the test)."""
    _, service, thing, _ = world

    @PROFILE
    @given(kind=st.sampled_from(sorted(KINDS)), body=REQUESTS, raw=st.binary(max_size=40))
    def run(kind, body, raw) -> None:
        for payload in (json.dumps(body).encode(), raw):
            service.published.clear()
            publish(service, thing, KINDS[kind], payload)
            answers = [
                topic
                for topic, _ in service.published
                if topic.endswith(("/accepted", "/rejected")) and f"/{kind}/" in topic
            ]
            assert len(answers) == 1, service.published
            for _, answer in service.published:
                token = answer.get("clientToken")
                assert token is None or (
                    isinstance(token, str) and len(token.encode()) <= MAX_TOKEN_BYTES
                )

    run()


# -- a thing's budget ------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Broker:
    """A process standing for Mosquitto: writes its pid file, counts the reloads asked of it
    (SIGHUP), each with the ACL it would read then."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.log = directory / "reloads"
        (directory / FILES["acl"]).write_text(acl())
        code = (
            "import signal, sys, time\n"
            "def reload(*_):\n"
            f"    acl = open({str(directory / FILES['acl'])!r}).read()\n"
            f"    open({str(self.log)!r}, 'a').write(repr(acl) + '\\n')\n"
            "signal.signal(signal.SIGHUP, reload)\n"
            "print('ready', flush=True)\n"
            "time.sleep(120)\n"
        )
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
        assert self.proc.stdout.readline() == b"ready\n"
        (directory / PID_FILE).write_text(str(self.proc.pid))

    def reloads(self) -> list[str]:
        if not self.log.exists():
            return []
        return [eval(line) for line in self.log.read_text().splitlines()]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def broker(tmp_path) -> Iterator[Broker]:
    made = Broker(tmp_path / "broker")
    yield made
    made.stop()


@pytest.fixture
def tmp_path(tmp_path) -> Path:
    (tmp_path / "broker").mkdir()
    return tmp_path


def budgeted(tmp_path: Path, clock: Clock, **settings) -> tuple[Store, Capturing, str]:
    store = Store(str(tmp_path / "things.db"), Vault("k"))
    chosen = MqttSettings(thing_rate=10, thing_burst=3, dir=str(tmp_path / "broker"), **settings)
    service, thing = serving(store, Recording(), chosen, Budgets(clock=clock))
    service.directory = tmp_path / "broker"
    return store, service, thing


def history(store: Store, thing: str, kind: str) -> list[dict]:
    store.writer.flush()
    return list(reversed(store.messages.query(device_id=thing, kind=kind)))


def update(n: int, token: str | None = None) -> dict:
    body: dict = {"state": {"reported": {"powerState": "On" if n % 2 else "Off"}}}
    if token:
        body["clientToken"] = token
    return body


def test_past_its_budget_a_thing_is_refused_with_429_and_its_flood_written_twice(tmp_path, clock):
    store, service, thing = budgeted(tmp_path, clock)
    for n in range(50):
        publish(service, thing, topics.UPDATE, update(n, f"t{n}"))
    accepted = service.answers("/update/accepted")
    assert [a["clientToken"] for a in accepted] == ["t0", "t1", "t2"]  # the burst
    refused = service.answers("/update/rejected")
    assert [(r["code"], r["message"], r["clientToken"]) for r in refused] == [
        (429, "Too Many Requests", f"t{n}")
        for n in (3, 4, 5)  # told at the same pace
    ]
    assert service.shadow(thing).version == 3  # nothing past the budget was applied
    [throttled] = history(store, thing, "event")[-1:]
    assert throttled["outcome"] == "throttled"
    assert throttled["detail"] == "over its budget of 10 requests a second: refused until it calms"
    assert json.loads(throttled["payload"])["clientToken"] == "t3"
    rows = len(store.messages.query(device_id=thing))
    clock.now += 0.2  # two more tokens: the thing is heard again; not yet calm
    publish(service, thing, topics.GET, {"clientToken": "g"})
    assert service.answers("/get/accepted")[-1]["clientToken"] == "g"
    service.settle()
    store.writer.flush()
    assert len(store.messages.query(device_id=thing)) == rows  # still in its flood: no row
    clock.now += 0.1  # as long as the burst takes to refill, with nothing refused
    service.settle()
    calmed = history(store, thing, "event")[-1]
    assert (calmed["outcome"], calmed["detail"]) == ("calmed", "47 requests refused over 0.0 s")
    service.settle()
    assert history(store, thing, "event")[-1]["id"] == calmed["id"]  # told once
    store.close()


def test_a_will_refused_by_the_budget_is_applied_when_the_flood_calms(tmp_path, clock):
    store, service, thing = budgeted(tmp_path, clock)
    for n in range(10):
        publish(service, thing, topics.UPDATE, update(n))
    assert service.shadow(thing).connected
    will = {"state": {"reported": {"connection_status": "disconnected"}}}
    publish(service, thing, topics.WILL, will)
    assert service.shadow(thing).connected  # refused for now
    clock.now += 1
    service.settle()
    assert not service.shadow(thing).connected
    assert connections(store, thing)[-1] == "offline (mqtt: its will)"
    store.close()


def test_a_thing_that_keeps_flooding_is_denied_its_topics_at_the_broker_for_a_while(
    tmp_path, clock, broker
):
    store, service, thing = budgeted(tmp_path, clock, thing_quarantine_after=20)
    publish(service, thing, topics.UPDATE, update(1))
    assert service.shadow(thing).connected
    for n in range(30):
        publish(service, thing, topics.UPDATE, update(n))
    reloads = eventually(lambda: broker.reloads(), timeout=10)
    assert len(reloads) == 1
    denied = reloads[0]
    for topic in (topics.UPDATE, topics.GET, topics.DELETE, topics.BACKDATE, topics.WILL):
        assert f"topic deny {topic.format(thing=thing)}\n" in denied
    assert denied.index(f"user {thing}") < denied.index("pattern readwrite")
    assert not service.shadow(thing).connected
    assert connections(store, thing)[-1] == "offline (mqtt: quarantined for 60 s: it kept flooding)"
    clock.now += 10  # its budget is full again, but what it sent before the broker's
    publish(service, thing, topics.UPDATE, update(2))  # reload is dropped all the same
    assert not service.shadow(thing).connected
    device = store.devices.get(thing)
    command = Command("setPowerState", {"state": "On"})
    with pytest.raises(DeviceOffline):
        service.request(device, command, 1.0, Exchange())
    service.settle()
    assert len(broker.reloads()) == 1
    clock.now += 50  # 60 s since it began
    service.settle()
    reloads = eventually(lambda: len(got := broker.reloads()) == 2 and got, timeout=10)
    assert reloads[1] == acl()
    publish(service, thing, topics.UPDATE, update(3))
    assert service.shadow(thing).connected
    store.close()


def test_without_a_broker_to_tell_nothing_is_quarantined(tmp_path, clock):
    store, service, thing = budgeted(tmp_path, clock, thing_quarantine_after=20)
    (tmp_path / "broker" / FILES["acl"]).write_text(acl())
    for n in range(30):
        publish(service, thing, topics.UPDATE, update(n))
    assert (tmp_path / "broker" / FILES["acl"]).read_text() == acl()
    assert service.shadow(thing).connected
    store.close()
