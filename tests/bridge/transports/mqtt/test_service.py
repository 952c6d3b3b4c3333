"""The shadow service in-process, as a thing's publishes reach it: every request answered in
AWS's shape, reachability from what the thing and the broker say, retained messages not
believed, hostile payloads refused without an exception."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import orjson
import pytest
from fuzz_harness import PROFILE
from hypothesis import given
from hypothesis import strategies as st
from recording import Recording, subscribe

from bridge.bus.local import LocalBus
from bridge.devices.events import EventIntake
from bridge.devices.limits import EventLimiter
from bridge.plugin import TransportContext
from bridge.reports.delivery import Reporter
from bridge.store import Store
from bridge.store.secrets import Vault
from bridge.transports.mqtt import STALE_WILL_WINDOW, MqttSettings, MqttTransport, topics
from bridge.transports.mqtt.shadow import MAX_TOKEN_BYTES
from bridge.transports.waiters import Waiters
from config.settings import Settings


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


def serving(store: Store, heard: Recording) -> tuple[Capturing, str]:
    """The shadow service over `store`, and a thing of a new account."""
    reporter = Reporter(store, lambda: {"recording": heard}, retry_base=0.01, max_attempts=3)
    bus = LocalBus("w")
    events = EventIntake(store, reporter, EventLimiter(bus, 0.0, 0.0))
    context = TransportContext(
        name="mqtt",
        settings=MqttSettings(),
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
