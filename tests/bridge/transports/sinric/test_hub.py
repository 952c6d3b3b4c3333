"""Send-and-wait through a real server: answered, offline, timeout, refused, disconnect."""

import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import gevent
import gevent.event
import pytest
from conftest import DEVICE_TIMEOUT
from servers import eventually

from bridge.bus.local import LocalBus
from bridge.client import Refused
from bridge.devices.events import EventIntake
from bridge.devices.limits import EventLimiter
from bridge.model import DeviceDisconnected, DeviceOffline, DeviceTimeout, User
from bridge.store import Store
from bridge.store.secrets import Vault
from bridge.transports.sinric import protocol
from bridge.transports.sinric.endpoint import DeviceEndpoint
from bridge.transports.sinric.hub import Connection, Hub


def test_command_reaches_the_device_and_updates_the_shadow(
    account, light, connect, admin_send, store
):
    online = connect(account, [light])
    reply = admin_send(light.id, "setBrightness", {"brightness": 42})
    assert reply.status_code == 200, reply.text
    assert reply.json()["value"] == {"brightness": 42}
    assert online.virtual[light.id].state["brightness"] == 42
    [row] = eventually(lambda: store.messages.query(device_id=light.id, kind="request"))
    assert (row["direction"], row["outcome"], row["origin"]) == ("out", "ok", "cli")
    assert row["latency_ms"] > 0
    sent, answer = json.loads(row["payload"]), json.loads(row["response"])
    assert sent["value"] == {"brightness": 42} and answer["success"] is True
    assert answer["replyToken"] == sent["replyToken"]
    assert store.shadow.get(light.id)["brightness"]["value"] == 42


def test_offline_device_fails_at_once(light, admin_send, server):
    started = time.monotonic()
    reply = admin_send(light.id, "setPowerState", {"state": "On"})
    assert reply.status_code == 409 and reply.json()["type"].endswith("/offline")
    assert time.monotonic() - started < DEVICE_TIMEOUT / 2


def test_silent_device_times_out_at_the_deadline(account, light, connect, admin_send, store):
    connect(account, [light], delay=DEVICE_TIMEOUT + 1)
    started = time.monotonic()
    reply = admin_send(light.id, "setPowerState", {"state": "On"})
    elapsed = time.monotonic() - started
    assert reply.status_code == 504 and reply.json()["type"].endswith("/timeout")
    assert DEVICE_TIMEOUT <= elapsed < DEVICE_TIMEOUT + 0.5
    request = eventually(lambda: store.messages.query(device_id=light.id, kind="request"))[0]
    assert request["outcome"] == "timeout"
    assert DEVICE_TIMEOUT * 1000 <= request["latency_ms"] < DEVICE_TIMEOUT * 1000 + 100
    assert "powerState" not in store.shadow.get(light.id)


def test_refusal_carries_the_device_message(account, light, connect, admin_send, store):
    online = connect(account, [light])

    def refuse(device_id, value, instance):
        raise Refused("bulb is broken")

    online.client.on("setPowerState", refuse)
    reply = admin_send(light.id, "setPowerState", {"state": "On"})
    assert reply.status_code == 422
    assert reply.json()["detail"] == "bulb is broken"
    [row] = eventually(lambda: store.messages.query(device_id=light.id, kind="request"))
    assert (row["outcome"], row["detail"]) == ("refused", "bulb is broken")
    assert "powerState" not in store.shadow.get(light.id)


def test_disconnect_mid_wait_fails_at_once(account, light, connect, admin_send):
    online = connect(account, [light], delay=5)
    threading.Timer(0.3, lambda: online.client._ws.sock.shutdown(socket.SHUT_RDWR)).start()
    started = time.monotonic()
    reply = admin_send(light.id, "setPowerState", {"state": "On"}, timeout=DEVICE_TIMEOUT)
    assert reply.status_code == 409 and reply.json()["type"].endswith("/disconnected")
    assert time.monotonic() - started < DEVICE_TIMEOUT


def test_invalid_commands_never_reach_the_device(account, light, connect, admin_send, store):
    connect(account, [light])
    reply = admin_send(light.id, "setBrightness", {"brightness": 500})
    assert reply.status_code == 422
    assert reply.json()["validRange"] == {"minimum": 0, "maximum": 100}
    assert admin_send(light.id, "setLockState", {"state": "LOCKED"}).status_code == 422
    assert store.messages.query(device_id=light.id, kind="request") == []


def test_many_concurrent_waits_share_one_worker(account, light, connect, admin_send):
    delay, count = 0.5, 60
    connect(account, [light], delay=delay, workers=count)
    started = time.monotonic()
    with ThreadPoolExecutor(count) as pool:
        replies = list(
            pool.map(
                lambda i: admin_send(light.id, "setBrightness", {"brightness": i}), range(count)
            )
        )
    assert [r.status_code for r in replies] == [200] * count
    assert sorted(r.json()["value"]["brightness"] for r in replies) == list(range(count))
    # Serialised waits would take count * delay = 30 s.
    assert time.monotonic() - started < count * delay / 4


class FakeSocket:
    """Stands in for a device socket: records what the hub sends."""

    open = True

    def __init__(self):
        self.sent: list[str] = []
        self.last_activity = time.time()

    def send(self, text):
        self.sent.append(text)


def fake_connection(hub, device_id="a" * 24) -> Connection:
    conn = Connection(FakeSocket(), User(1, "u", "k"), "s" * 40, {device_id: None})
    hub.attach(conn)
    return conn


def test_hub_timeout_fires_within_100_ms_of_the_deadline():
    hub = Hub()
    fake_connection(hub)
    started = time.monotonic()
    with pytest.raises(DeviceTimeout):
        hub.request(protocol.request("a" * 24, "x", {}), 0.3)
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 0.4
    assert len(hub.waiters) == 0


def test_hub_resolves_only_the_matching_waiter_and_connection():
    hub = Hub()
    conn = fake_connection(hub)
    other = fake_connection(hub, "b" * 24)
    payload = protocol.request("a" * 24, "x", {})
    answer = protocol.parse(protocol.envelope(protocol.response(payload, {"ok": 1}), "s" * 40))
    waiter = gevent.spawn(hub.request, payload, 2)
    gevent.sleep(0)
    assert not hub.resolve(other, answer)  # right token, wrong socket
    assert hub.resolve(conn, answer)
    assert waiter.get(timeout=1).value == {"ok": 1}
    assert not hub.resolve(conn, answer)  # nobody waits any more
    assert len(hub.waiters) == 0


def test_hub_detach_fails_waiters_and_reports_offline():
    hub = Hub()
    conn = fake_connection(hub)
    waiter = gevent.spawn(hub.request, protocol.request("a" * 24, "x", {}), 5)
    gevent.sleep(0)
    assert hub.detach(conn) == ["a" * 24]
    with pytest.raises(DeviceDisconnected):
        waiter.get(timeout=1)
    assert not hub.online("a" * 24)
    with pytest.raises(DeviceOffline):
        hub.request(protocol.request("a" * 24, "x", {}), 1)


def test_a_newer_connection_takes_over_a_device():
    hub = Hub()
    old = fake_connection(hub)
    new = Connection(FakeSocket(), User(1, "u", "k"), "s" * 40, {"a" * 24: None})
    assert hub.attach(new) == [old]
    assert hub.detach(old) == []  # the device stays online on the new socket
    assert hub.online("a" * 24)


class QuietSocket(FakeSocket):
    def __init__(self):
        super().__init__()
        self.pings = 0
        self.closed_with = None

    def ping(self):
        self.pings += 1

    def close(self, code=1000, reason=""):
        self.closed_with = (code, reason)


def test_sweep_pings_quiet_sockets_and_closes_silent_ones():
    hub = Hub()
    fresh, quiet, silent = (
        Connection(QuietSocket(), User(1, "u", "k"), "s" * 40, {c * 24: None}) for c in "abc"
    )
    for conn, age in ((fresh, 10), (quiet, 400), (silent, 700)):
        hub.attach(conn)
        conn.last_seen = 1000 - age
    hub.sweep(idle_timeout=660, now=1000)
    assert (fresh.ws.pings, quiet.ws.pings, silent.ws.pings) == (0, 1, 0)
    assert silent.ws.closed_with == (1001, "idle timeout") and fresh.ws.closed_with is None


class Told(EventIntake):
    """The event intake, keeping what it is told of connectivity."""

    def __init__(self) -> None:  # no store, no reports: connectivity is all it hears
        self.limiter = EventLimiter(LocalBus("w"), 0.0, 0.0)
        self.said: list[tuple[str, bool]] = []

    def connectivity(self, user: User, device_id: str, online: bool) -> None:
        self.said.append((device_id, online))


def test_a_closed_socket_is_told_offline_in_its_turn_and_not_for_a_device_back_since(tmp_path):
    store = Store(str(tmp_path / "e.db"), Vault("k"))
    hub, told, turn = Hub(), Told(), gevent.event.Event()
    endpoint = DeviceEndpoint(store, hub, told, window=60, max_bytes=4096, pace=turn.wait)
    back, gone = "a" * 24, "b" * 24
    old = Connection(FakeSocket(), User(1, "u", "k"), "s" * 40, {back: None, gone: None})
    hub.attach(old)
    closing = gevent.spawn(endpoint._close, old, "closed")
    gevent.sleep(0.05)
    assert told.said == [] and not hub.online(back)  # detached at once, told in its turn
    fake_connection(hub, back)  # the device is back on a new socket meanwhile
    turn.set()
    closing.join(2)
    assert told.said == [(gone, False)]  # no offline after the device's own online
    store.writer.flush()
    rows = store.messages.query(kind="connection")
    assert [(r["device_id"], r["outcome"]) for r in rows] == [(gone, "offline")]
    store.close()
