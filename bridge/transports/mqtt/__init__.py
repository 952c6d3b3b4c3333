"""The MQTT transport: things with X.509 certificates on a broker, and a device shadow.

The bridge connects to the broker as one client (certificate CN `bridge`)
and serves the device shadow for its things with AWS IoT's semantics. A
command sets `desired` with a fresh clientToken; the thing applies the
delta and reports; the report carrying that token (or, from a thing that
drops tokens, a reported state equal to the desired one) answers it. A
reported `error` object with the token is a refusal. Reported changes that
no command asked for are device events.

A thing's reachability comes from what the broker and the thing already say:
any message from it proves it connected; its Last Will (on
`tcxn/things/<name>/shadow/update`) and a clean goodbye end it; a broker that
publishes presence (AWS IoT Core's `$aws/events/presence/...`, EMQX's client
events) says both. `connection_status` in reported (`connected`,
`disconnected`) is an optional extra a thing may send. Retained messages are
never believed: AWS ignores retain on shadow topics, and a will replayed from
the broker's store is not the broker publishing it.

With several workers, one at a time holds the broker session (the bus's
role `transport:mqtt`, taken over within the hold time when its worker
dies); the others forward their commands to it, and read reachability
from the stored shadow.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import ssl
import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import orjson
from gevent.lock import Semaphore

from bridge.plugin import (
    Budget,
    Command,
    Device,
    DeviceDisconnected,
    DeviceEvent,
    DeviceOffline,
    DeviceTimeout,
    Entry,
    Exchange,
    Outcome,
    PluginSettings,
    Reply,
    Service,
    Transport,
    TransportContext,
    Unavailable,
    Unsupported,
    catalog,
    rejection,
    when_available,
)
from bridge.transports.mqtt import broker, topics
from bridge.transports.mqtt.shadow import (
    UNSET,
    Rejected,
    Shadow,
    Update,
    acknowledged,
    apply,
    delete,
    get_accepted,
    parse_request,
    parse_update,
)
from bridge.transports.mqtt.tables import Certificates, ThingShadows
from bridge.transports.mqtt.things import TRANSPORT

ROLE = "transport:mqtt"
"""The bus role of the worker that holds the broker session."""
STALE_WILL_WINDOW = 10.0
"""Seconds after the bridge's session returns in which a will may be one from before."""
CONNECTION = "connection_status"
ERROR = "error"
OWN_REQUESTS = frozenset({"update", "get", "delete", "backdate", "will"})
"""What a thing publishes itself (its will too): what its budget counts."""
REJECTED = {
    "update": topics.UPDATE_REJECTED,
    "get": topics.GET_REJECTED,
    "delete": topics.DELETE_REJECTED,
}


def nodelay(client: Any) -> None:
    """No Nagle on the broker connection: a command is small packets both ways."""
    sock = client.socket()
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class MqttSettings(PluginSettings, frozen=True):
    """BRIDGE_MQTT_*: where the broker is, and where its files are."""

    url: str = ""
    """The broker (`mqtts://host:8883`); empty: no MQTT things."""
    dir: str = ""
    """The folder `bridge mqtt broker-config` wrote (the bridge's client files, the CRL)."""
    thing_rate: float = 20.0
    """Requests (update, get, delete, backdate, its will) a thing may send a second, as AWS
    IoT's shadow service allows; past it they are refused with 429. 0: no limit."""
    thing_burst: int = 40
    """Requests a quiet thing may send at once above its rate."""
    thing_quarantine_after: int = 1000
    """A thing that keeps flooding: after this many refusals in one flood the broker (when
    it runs from `dir`) denies it its topics, so the flood stops before the bridge."""
    thing_quarantine: float = 60.0
    """Seconds a flooding thing stays denied at the broker; 0: never quarantined."""


class MqttTransport(Transport):
    name = TRANSPORT
    settings_model = MqttSettings
    repositories = (Certificates, ThingShadows)

    def __init__(self, context: TransportContext) -> None:
        super().__init__(context)
        self.stored = context.store.repository(ThingShadows)
        self.url = context.settings.url
        self.directory = Path(context.settings.dir) if context.settings.dir else None
        self._client: Any = None
        self.refused: str | None = None
        """Why the broker refused the session last (its reason code), while it does."""
        self._session_began: float | None = None
        """When the broker session came back (0: it is this process's first)."""
        self._spoke: dict[str, float] = {}
        """When each thing last spoke (its will after that, just after a return, is old)."""
        self._shadows: dict[str, Shadow] = {}
        self._pending: dict[str, dict[str, tuple[Command, dict[str, Any]]]] = {}
        self._turns: dict[str, Semaphore] = {}
        settings = context.settings
        self.budget = context.budgets.budget(
            "thing requests", settings.thing_rate, settings.thing_burst
        )
        # What a flooding thing is told: 429s at the budget's pace, the rest go unanswered.
        self._told = Budget(
            "thing refusals", settings.thing_rate, settings.thing_burst, clock=context.budgets.clock
        )
        self._quarantined: dict[str, float] = {}
        """Things denied their topics at the broker, until when (the budgets' clock)."""
        self._wills: dict[str, bytes] = {}
        """The newest will a flooding thing's budget refused: applied when it calms."""

    @classmethod
    def commands(cls) -> list[click.Command]:
        from bridge.transports.mqtt.cli import mqtt, thing

        return [thing, mqtt]

    # -- the shadow service ------------------------------------------------------------

    def shadow(self, device_id: str) -> Shadow:
        found = self._shadows.get(device_id)
        if found is None:  # the read may yield (PostgreSQL): keep a copy stored meanwhile
            loaded = Shadow.load(self.stored.get(device_id))
            found = self._shadows.setdefault(device_id, loaded)
        return found

    def online(self, device_id: str) -> bool:
        if self._client is not None:
            return self._client.is_connected() and self.shadow(device_id).connected
        if self.courier(device_id) is None:
            return False
        return Shadow.load(self.stored.get(device_id)).connected

    def courier(self, device_id: str) -> str | None:
        """The worker holding the broker session, when it is not this one."""
        bus = self.context.bus
        if not bus.shared or self._client is not None:
            return None
        leader = bus.leader(ROLE)
        return leader if leader != bus.worker else None

    def connected(self) -> int:
        return sum(1 for s in self._shadows.values() if s.connected)

    def _save(self, thing: str, shadow: Shadow, durable: bool = False) -> None:
        self._shadows[thing] = shadow  # before the save, which may yield
        self.stored.save(thing, shadow.stored(), shadow.version, durable)

    def _update(self, thing: str, update: Update) -> Shadow:
        """Apply an update as the shadow service; publish accepted, documents and delta."""
        now = time.time()
        applied = apply(self.shadow(thing), update, now)
        self._save(thing, applied.shadow)
        # Notifications nobody must receive go at most once; the delta is a command.
        self._publish(topics.UPDATE_ACCEPTED.format(thing=thing), applied.accepted, qos=0)
        self._publish(topics.DOCUMENTS.format(thing=thing), applied.documents, qos=0)
        if applied.delta is not None:
            self._publish(topics.DELTA.format(thing=thing), applied.delta)
        return applied.shadow

    def _publish(self, topic: str, body: dict[str, Any], qos: int = 1) -> None:
        if self._client is not None:
            self._client.publish(topic, orjson.dumps(body), qos=qos)

    # -- commands ----------------------------------------------------------------------

    def request(
        self, device: Device, command: Command, deadline: float, exchange: Exchange
    ) -> Reply:
        if not self.online(device.id):
            raise DeviceOffline()
        props = catalog.state_from(device.type, command.action, command.value, command.instance_id)
        if not props:
            raise Unsupported(f"a thing takes absolute values: {command.action} carries none")
        desired = catalog.shadow_names(command.instance_id, props)
        # One command at a time per thing: a shadow's delta carries the newest
        # desired state and one clientToken, so a second command sent alongside
        # would take the first one's answer away.
        turn = self._turns.setdefault(device.id, Semaphore())
        started = time.monotonic()
        if not turn.acquire(timeout=deadline):
            raise DeviceTimeout()
        try:
            left = max(0.0, deadline - (time.monotonic() - started))
            return self._request(device, command, desired, left, exchange)
        finally:
            turn.release()

    def _request(
        self,
        device: Device,
        command: Command,
        desired: dict[str, Any],
        deadline: float,
        exchange: Exchange,
    ) -> Reply:
        token = secrets.token_hex(16)
        exchange.sent = {"state": {"desired": desired}, "clientToken": token}
        reported = self.shadow(device.id).reported
        if all(k in reported and reported[k] == v for k, v in desired.items()):
            # Already so: the shadow service sends no delta for it, as AWS's does not.
            # The thing's own last report is the answer.
            value = catalog.value_from(device.type, command.action, command.instance_id, reported)
            exchange.received = json.dumps({"state": {"reported": reported}})
            return Reply(Outcome.ANSWERED, value, "already in that state")
        pending = self._pending.setdefault(device.id, {})
        pending[token] = (command, desired)

        def send() -> None:
            self._update(device.id, Update(desired=desired, client_token=token))

        answered = False
        try:
            reply, received = self.context.waiters.wait(
                token, device.id, device.id, send, deadline, command.journey
            )
            answered = reply.outcome is Outcome.ANSWERED
        finally:
            pending.pop(token, None)
            if not answered:
                self._withdraw(device.id, desired)
        exchange.received = received
        return reply

    def _withdraw(self, thing: str, desired: dict[str, Any]) -> None:
        """Clear what a refused or unanswered command desired (unless a newer one set it).

        A stale desired state would be applied when the thing next connects:
        an "unlock" nobody is waiting for any more must not happen hours later.
        """
        current = self.shadow(thing).desired
        stale = {k: None for k, v in desired.items() if current.get(k, UNSET) == v}
        if stale:
            with contextlib.suppress(Rejected):
                self._update(thing, Update(desired=stale))

    # -- what things say ---------------------------------------------------------------

    def on_message(self, topic: str, payload: bytes, retained: bool = False) -> None:
        found = topics.inbound(topic)
        if found is None:
            return
        thing, kind = found
        if kind in OWN_REQUESTS and thing in self._quarantined:
            return  # sent before the broker denied it: as good as dropped there
        if kind in OWN_REQUESTS and self.budget.take(thing):
            self._throttled(thing, kind, payload)
            return
        device = self.context.store.devices.get(thing)
        if device is None or device.transport != TRANSPORT:
            self._reject(None, f"message on {topic} for an unknown thing", payload)
            return
        if retained:  # replayed from the broker's store: older than what is known
            self._reject(device, f"retained message on {topic} ignored", payload)
            return
        if kind in ("connected", "disconnected"):  # the broker's own word
            self._presence(device, kind == "connected", f"broker: {kind}")
            return
        if kind == "will" and self._stale_will(thing):
            self._reject(device, "a will from before the broker restarted: ignored", payload)
            return
        if kind != "will":  # the thing itself spoke: it is connected now
            self._spoke[thing] = time.monotonic()
            self._presence(device, True, "a message from the thing")
        if kind == "get":
            self._get(thing, payload)
        elif kind == "delete":
            self._delete(device, payload)
        elif kind == "backdate":
            self._backdate(device, payload)
        else:
            self._report(device, kind, payload)

    def _throttled(self, thing: str, kind: str, payload: bytes) -> None:
        """Past its budget: refused before any work (no read, no row), 429 in AWS's shape
        while the refusals' own pace allows. A flood's first refusal is written once; a
        refused will waits for the flood's end; a flood that goes on is quarantined."""
        flood = self.budget.flood(thing)
        if kind == "will":
            if flood is not None:  # kept with its flood (whose end applies it), one each
                self._wills[thing] = payload
        elif kind in REJECTED and not self._told.take(thing):
            try:
                _, token = parse_request(payload, empty=True)
            except Rejected:
                token = None
            refusal = Rejected(429, "Too Many Requests", token)
            self._publish(REJECTED[kind].format(thing=thing), refusal.body(time.time()), qos=0)
        if flood is None or flood.refused not in (1, self.context.settings.thing_quarantine_after):
            return
        device = self.context.store.devices.get(thing)
        if device is None or device.transport != TRANSPORT:
            return
        if flood.refused == 1:
            self.context.log.warning("thing %s is over its budget of %s", thing, self.budget)
            self.context.store.messages.record(
                Entry(
                    "in",
                    "event",
                    "throttled",
                    thing,
                    device.user_id,
                    kind,
                    detail=f"over its budget of {self.budget}: refused until it calms",
                    payload=payload[:4096].decode("utf-8", "replace"),
                )
            )
        else:
            self._quarantine(device)

    def _quarantine(self, device: Device) -> None:
        """Have the broker deny a thing that keeps flooding its topics for a while."""
        seconds = self.context.settings.thing_quarantine
        if self.directory is None or seconds <= 0:
            return
        until = dict(self._quarantined, **{device.id: self.context.budgets.clock() + seconds})
        if not broker.quarantine(self.directory, until):
            broker.quarantine(self.directory, self._quarantined)  # no broker here to tell
            return
        self._quarantined = until
        self.context.log.warning("thing %s quarantined at the broker for %g s", device.id, seconds)
        self._presence(device, False, f"quarantined for {seconds:g} s: it kept flooding")

    def settle(self) -> None:
        """Each round: write the end of floods that are over, end quarantines that are."""
        for flood in self.budget.calmed():
            device = self.context.store.devices.get(flood.key)
            if device is None or device.transport != TRANSPORT:
                continue
            self.context.store.messages.record(
                Entry(
                    "in",
                    "event",
                    "calmed",
                    flood.key,
                    device.user_id,
                    detail=f"{flood.refused} requests refused over {flood.seconds:.1f} s",
                )
            )
            will = self._wills.pop(flood.key, None)
            if will is not None:
                self.on_message(topics.WILL.format(thing=flood.key), will)
        now = self.context.budgets.clock()
        ended = [thing for thing, until in self._quarantined.items() if until <= now]
        if ended and self.directory is not None:
            self._quarantined = {t: u for t, u in self._quarantined.items() if t not in ended}
            broker.quarantine(self.directory, self._quarantined)
            for thing in ended:
                self.context.log.info("thing %s: quarantine over", thing)

    def _get(self, thing: str, payload: bytes) -> None:
        try:
            _, token = parse_request(payload, empty=True)
            body = get_accepted(self.shadow(thing), time.time(), token)
        except Rejected as exc:
            self._publish(topics.GET_REJECTED.format(thing=thing), exc.body(time.time()))
            return
        self._publish(topics.GET_ACCEPTED.format(thing=thing), body)

    def _delete(self, device: Device, payload: bytes) -> None:
        """AWS's delete: the document goes (its version stays), answered on /delete/...;
        what the bridge knows of the device (its state, the platforms') is not a shadow's."""
        thing = device.id
        try:
            _, token = parse_request(payload, empty=True)
            gone, accepted = delete(self.shadow(thing), time.time(), token)
        except Rejected as exc:
            self._publish(topics.DELETE_REJECTED.format(thing=thing), exc.body(time.time()))
            return
        self._save(thing, gone, durable=True)
        self._publish(topics.DELETE_ACCEPTED.format(thing=thing), accepted)
        self.context.store.messages.record(
            Entry("in", "event", "deleted", thing, device.user_id, detail="shadow deleted")
        )

    def _backdate(self, device: Device, payload: bytes) -> None:
        """Past observations: into the history, never the shadow or the platforms."""
        try:
            update = parse_update(payload)
        except Rejected as exc:
            self._reject(device, f"backdate refused: {exc.message}", payload)
            return
        at = update.observed_ms / 1000 if update.observed_ms else time.time()
        self.context.store.messages.record(
            Entry(
                "in",
                "event",
                "backdated",
                device.id,
                device.user_id,
                detail="observation",
                payload=payload.decode(),
                at=at,
            )
        )

    def _report(self, device: Device, kind: str, payload: bytes) -> None:
        thing = device.id
        try:
            update = parse_update(payload)
        except Rejected as exc:
            self._publish(topics.UPDATE_REJECTED.format(thing=thing), exc.body(time.time()))
            self._reject(device, f"shadow update refused: {exc.message}", payload)
            return
        reported = dict(update.reported) if isinstance(update.reported, dict) else {}
        error = reported.pop(ERROR, None)
        before = dict(self.shadow(thing).reported)
        stored = (
            update
            if error is None
            else Update(
                desired=update.desired,
                reported=reported or UNSET,
                client_token=update.client_token,
                version=update.version,
            )
        )
        try:
            if stored.desired is not UNSET or stored.reported is not UNSET:
                self._update(thing, stored)
            else:  # only a refusal: nothing to keep, and still an answer
                body = acknowledged(self.shadow(thing), update, time.time())
                self._publish(topics.UPDATE_ACCEPTED.format(thing=thing), body)
        except Rejected as exc:
            self._publish(topics.UPDATE_REJECTED.format(thing=thing), exc.body(time.time()))
            return
        text = payload.decode("utf-8", "replace")
        if error is not None and update.client_token:
            message = error.get("message", "") if isinstance(error, dict) else str(error)
            self._answer(
                thing, update.client_token, Reply(Outcome.REFUSED, {}, str(message)[:200]), text
            )
        said = reported.get(CONNECTION)
        if said in ("connected", "disconnected"):  # a goodbye, a will, or the optional extra
            self._presence(device, said == "connected", "its will" if kind == "will" else said)
        answered = self._answers(device, update.client_token, reported, text)
        changed = {  # a key deleted (null) is a normal update, not a device value
            k: v
            for k, v in reported.items()
            if k not in answered and v is not None and before.get(k, UNSET) != v
        }
        user = self.context.store.users.by_id(device.user_id)
        if user is None:
            return
        for action, value, instance in catalog.events_from(device.type, changed):
            self.context.events.handle(
                user,
                device,
                DeviceEvent(
                    thing,
                    action,
                    value,
                    instance,
                    "PHYSICAL_INTERACTION",
                    text,
                    update.observed_ms / 1000 if update.observed_ms else None,
                ),
            )

    def _answers(
        self, device: Device, token: str | None, reported: dict[str, Any], text: str
    ) -> set[str]:
        """Resolve the commands this report answers; the shadow names it answered.

        By its clientToken, or (from a thing that drops tokens) by reporting
        what the command desired; the answer is what the thing now reports.
        """
        answered: set[str] = set()
        state = self.shadow(device.id).reported  # the report is applied already
        for waiting, (command, desired) in list(self._pending.get(device.id, {}).items()):
            by_state = all(k in reported and reported[k] == v for k, v in desired.items())
            if not (waiting == token or by_state) or not set(desired) <= set(state):
                continue
            value = catalog.value_from(device.type, command.action, command.instance_id, state)
            if self._answer(device.id, waiting, Reply(Outcome.ANSWERED, value), text):
                answered |= set(desired)
        return answered

    def _answer(self, thing: str, token: str, reply: Reply, text: str) -> bool:
        return self.context.waiters.resolve(token, thing, thing, (reply, text))

    def _stale_will(self, thing: str) -> bool:
        """A will that follows the thing's own words just after the bridge's session came
        back: queued when the broker went down (its persistent session kept it), not a
        thing that left now."""
        spoke, began = self._spoke.get(thing, 0.0), self._session_began or 0.0
        return spoke >= began > time.monotonic() - STALE_WILL_WINDOW

    def _presence(self, device: Device, online: bool, why: str) -> None:
        """The thing connected or left: kept with its shadow, told to the platforms."""
        current = self.shadow(device.id)
        if current.connected == online:
            return
        self._save(device.id, replace(current, connected=online), durable=True)
        user = self.context.store.users.by_id(device.user_id)
        if not online:
            self.context.waiters.fail(device.id, DeviceDisconnected())
        if user is not None:
            self.context.events.connectivity(user, device.id, online=online)
        self.context.store.messages.record(
            Entry(
                "in",
                "connection",
                "online" if online else "offline",
                device.id,
                device.user_id,
                detail=f"mqtt: {why}",
            )
        )

    def _reject(self, device: Device | None, reason: str, payload: bytes) -> None:
        self.context.log.warning("dropped thing message: %s", reason)
        self.context.store.messages.record(
            rejection(
                device.id if device else None,
                device.user_id if device else None,
                reason,
                payload=payload[:4096].decode("utf-8", "replace"),
            )
        )

    # -- the broker connection ---------------------------------------------------------

    def services(self) -> list[Service]:
        return [BrokerSession(self)] if self.url else []

    def _connect(self) -> None:
        import paho.mqtt.client as mqtt

        from bridge.transports.mqtt.session import Session

        if self.directory is None:
            raise ValueError(
                "BRIDGE_MQTT_URL needs BRIDGE_MQTT_DIR (from `bridge mqtt broker-config`)"
            )
        url = urlsplit(self.url)
        client = Session(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=broker.BRIDGE_CN,
            protocol=mqtt.MQTTv311,
            # A persistent session: what things say while the bridge restarts (a will
            # above all) waits at the broker instead of being lost.
            clean_session=False,
        )
        if url.scheme == "mqtts":
            client.tls_set(
                ca_certs=str(self.directory / broker.FILES["ca"]),
                certfile=str(self.directory / broker.FILES["client_cert"]),
                keyfile=str(self.directory / broker.FILES["client_key"]),
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        client.reconnect_delay_set(0.2, 10)
        # Every command is several small publishes: paho's default of 20 in flight
        # would queue them behind each other.
        client.max_inflight_messages_set(1000)

        def on_connect(c, userdata, flags, reason, properties) -> None:
            if reason.is_failure:
                self.refused = str(reason)
            else:
                # Only a session that came back can carry wills from before (its first
                # one in this process hears them first, before any thing speaks again).
                came_back = self._session_began is not None
                self.refused, self._session_began = None, time.monotonic() if came_back else 0.0
                nodelay(c)
                c.subscribe([(t, 1) for t in topics.SUBSCRIPTIONS])

        client.on_connect = on_connect
        client.on_message = lambda c, userdata, msg: self._safely(
            msg.topic, msg.payload, bool(msg.retain)
        )
        client.connect_async(url.hostname or "127.0.0.1", url.port or 8883, keepalive=30)
        client.loop_start()
        self._client = client

    def _safely(self, topic: str, payload: bytes, retained: bool) -> None:
        try:  # the store or the bus away: held (the broker's loop waits, within a bound)
            when_available(lambda: self.on_message(topic, payload, retained))
        except Unavailable as exc:
            self.context.log.warning("a thing's message on %s was lost: %s", topic, exc)
        except Exception:  # one bad message must not stop the broker loop
            self.context.log.exception("thing message failed")

    def _disconnect(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None


class BrokerSession(Service):
    """The bridge's session with the broker: one per deployment (the worker leading the
    role holds it). paho reconnects by itself; each round takes the session if this
    worker leads, and says whether it is up."""

    name = "mqtt broker"
    connect_wait = 5.0
    budget = 5.0

    def __init__(self, transport: MqttTransport) -> None:
        bus = transport.context.bus
        super().__init__(bus)
        self.transport = transport
        self.leader = ROLE if bus.shared else None
        self.every = self.backoff_base = self.backoff_max = transport.context.bridge.hold_ttl / 3

    def run_once(self) -> None:
        transport = self.transport
        if transport._client is None:
            transport._shadows.clear()  # another worker may have served them since
            transport._quarantined.clear()  # and the ACL: none left by a worker gone
            if transport.directory is not None:
                broker.quarantine(transport.directory, ())
            transport._connect()
            # Never longer than a round: the role must be renewed within its time to live,
            # or another worker takes it and the two sessions (one client id) evict each other.
            waited, wait = 0.0, min(self.connect_wait, self.every)
            while not transport._client.is_connected() and waited < wait:
                self.sleep(0.05)
                waited += 0.05
        transport.settle()
        if not transport._client.is_connected():
            why = transport.refused or "no answer from the broker"
            raise ConnectionError(f"the broker session is down: {why}")

    def standby(self) -> None:
        if self.transport._client is not None:
            self.transport.context.log.warning("another worker holds the broker session now")
        self.transport._disconnect()

    def on_stop(self) -> None:
        self.transport._disconnect()
