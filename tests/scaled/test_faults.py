"""Faults on the scaled set-up, with real servers: a part goes away and comes back.

Each time readiness names the part within seconds, commands get an answer
that is not a 500 and not past the deadline, nothing unhandled reaches the
log, and everything is back within 30 s of the part's return, without a
restart of the bridge.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
from conftest import DEVICE_TIMEOUT
from postgres import PostgresServer
from servers import BridgeServer, RedisServer, eventually, shadowed

from bridge.store import Store
from bridge.transports.sinric import protocol

RECOVERY = 30.0
PLATFORM_DEADLINE = 8.0
"""What a voice platform waits at most (the tests' device timeout is shorter)."""
NOTICED = 10.0
"""Seconds readiness may take to name a part that went away (its budget, and a poll)."""


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory) -> Iterator[RedisServer]:
    """A Redis of this module's own: the tests stop it."""
    server = RedisServer(tmp_path_factory.mktemp("redis-faults"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL of this module's own: the tests restart it."""
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_env(module_env, own_redis, own_postgres) -> dict[str, str]:
    return {
        **module_env,
        "BRIDGE_REDIS_URL": own_redis.url,
        "BRIDGE_DATABASE": own_postgres.database(),
    }


@pytest.fixture(scope="module")
def server(module_server) -> BridgeServer:
    return module_server


@pytest.fixture(scope="module")
def store(module_store) -> Store:
    return module_store


def unhandled(log: str) -> str:
    """The first trace in a log excerpt, with what led to it ('' when there is none)."""
    at = log.find("Traceback")
    return "" if at < 0 else log[max(0, log.rfind("\n", 0, max(0, at - 300))) : at + 3000]


def readiness(server: BridgeServer) -> tuple[int, dict]:
    """One worker's readiness (whichever answers)."""
    answer = requests.get(server.url + "/readyz", timeout=5)
    return answer.status_code, answer.json()


def every_worker_ready(server: BridgeServer, tries: int = 8) -> bool:
    """Several fresh connections (both workers, most likely) all say ready."""
    return all(readiness(server)[0] == 200 for _ in range(tries))


@dataclass
class Load:
    """Commands to a light at a steady rate on fresh connections (either worker)."""

    server: BridgeServer
    device_id: str
    statuses: Counter = field(default_factory=Counter)
    slowest: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                reply = requests.post(
                    self.server.url + "/admin/api/send",
                    json={
                        "device": self.device_id,
                        "action": "setPowerState",
                        "value": {"state": "On"},
                    },
                    timeout=DEVICE_TIMEOUT + 5,
                )
                self.statuses[reply.status_code] += 1
            except requests.RequestException as exc:
                self.statuses[type(exc).__name__] += 1
            self.slowest = max(self.slowest, time.monotonic() - started)
            self.stop.wait(0.1)

    def __enter__(self) -> Load:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(DEVICE_TIMEOUT + 10)


def test_redis_stopped_and_started_empty(
    server, store, own_redis, account, light, connect, recorder
):
    online = connect(account, [light])
    assert eventually(lambda: every_worker_ready(server), timeout=RECOVERY)
    seen = protocol.envelope(
        protocol.event(light.id, "setPowerState", {"state": "Off"}),
        account.secret,
    )
    online.client.send_raw(seen)
    shadowed(store, light.id, {"powerState": "Off"})
    log_before = len(server.log())

    with Load(server, light.id) as load:
        own_redis.stop()
        _, body = eventually(
            lambda: (found := readiness(server))[0] == 503 and found, timeout=NOTICED
        )
        assert any(part.startswith("bus") for part in body["failing"]), body
        # A change at the device while Redis is away is held, not dropped.
        online.client.send_event(light.id, "setBrightness", {"brightness": 42})
        time.sleep(2)
        own_redis.start()
        eventually(lambda: every_worker_ready(server), timeout=RECOVERY)
    assert 500 not in load.statuses, load.statuses
    eventually(lambda: store.shadow.values(light.id).get("brightness") == 42, timeout=RECOVERY)
    eventually(  # and reported: nothing in the outbox was lost with the bus
        lambda: any(
            r["device"] == light.id and r["properties"].get("brightness") == 42
            for r in recorder.received
        ),
        timeout=RECOVERY,
    )
    assert load.slowest < PLATFORM_DEADLINE, load.slowest

    # Both workers reach the light again: its holder took it back and said so.
    def answered_on_both() -> bool:
        replies = [
            requests.post(
                server.url + "/admin/api/send",
                json={"device": light.id, "action": "setPowerState", "value": {"state": "On"}},
                timeout=DEVICE_TIMEOUT + 5,
            ).status_code
            for _ in range(6)
        ]
        return replies == [200] * 6

    assert eventually(answered_on_both, timeout=RECOVERY)

    # The event sent before Redis forgot everything is still a replay.
    online.client.send_raw(seen)
    refused = eventually(
        lambda: [
            r
            for r in store.messages.query(device_id=light.id, limit=20)
            if r["outcome"] == "rejected" and "replyToken" in (r["detail"] or "")
        ]
    )
    assert refused
    assert store.shadow.values(light.id)["powerState"] == "On"
    assert not unhandled(server.log()[log_before:]), unhandled(server.log()[log_before:])


def test_postgresql_restarted(server, store, own_postgres, account, light, connect, recorder):
    online = connect(account, [light])
    assert eventually(lambda: every_worker_ready(server), timeout=RECOVERY)
    log_before = len(server.log())

    with Load(server, light.id) as load:
        own_postgres.halt()
        _, body = eventually(
            lambda: (found := readiness(server))[0] == 503 and found, timeout=NOTICED
        )
        assert any(part.startswith("store") for part in body["failing"]), body
        # A change at the device while the database is away is held, then applied and
        # reported: never in the history without its report.
        client = online.client
        noise = ("error connecting", "\tIs the server", "reconnection attempt")
        lines = [line for line in server.log().splitlines() if not line.startswith(noise)]
        why = (client.close_reason, client.last_error, client.sessions, lines[-40:])
        assert client.connected.is_set(), why  # the socket outlives the database's absence
        client.send_event(light.id, "setBrightness", {"brightness": 55})
        time.sleep(2)
        own_postgres.start()
        eventually(lambda: every_worker_ready(server), timeout=RECOVERY)
    assert 500 not in load.statuses, load.statuses
    assert load.slowest < PLATFORM_DEADLINE, load.slowest
    assert load.statuses[200] > 0
    eventually(lambda: store.shadow.values(light.id).get("brightness") == 55, timeout=RECOVERY)
    reported = eventually(
        lambda: [
            r
            for r in recorder.received
            if r["device"] == light.id and r["properties"].get("brightness") == 55
        ],
        timeout=RECOVERY,
    )
    assert reported
    events = [
        r
        for r in store.messages.query(device_id=light.id, kind="event", limit=50)
        if "brightness" in (r["payload"] or "")
    ]
    assert len(events) == 1, events  # held once, written once
    assert not unhandled(server.log()[log_before:]), unhandled(server.log()[log_before:])
