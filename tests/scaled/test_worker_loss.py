"""Workers killed again and again, under load: every replacement boots and serves, and a
device that stays connected is never answered offline, whichever worker is asked."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import redis
import requests
from servers import BridgeServer, workers_answering, workers_of

from bridge.store import Store

WORKERS = 4
LIGHTS = 8
ONE_AT_A_TIME = 2 * WORKERS  # each worker killed twice, in turn
ALL_AT_ONCE = int(os.environ.get("LOSS_ROUNDS", "3"))
"""Rounds that kill all four at once; LOSS_ROUNDS=30 soaks (about 5 s a round)."""
SERVER_ENV = {"BRIDGE_WORKERS": str(WORKERS)}


@pytest.fixture(scope="module")
def server(module_server) -> BridgeServer:
    return module_server


@pytest.fixture(scope="module")
def store(module_store) -> Store:
    return module_store


@pytest.fixture
def holder(module_env) -> Iterator[Callable[[str], str | None]]:
    """The worker Redis names as a device's holder."""
    client = redis.Redis.from_url(module_env["BRIDGE_REDIS_URL"], decode_responses=True)
    yield lambda device_id: client.get(f"{module_env['BRIDGE_REDIS_PREFIX']}:dev:{device_id}")
    client.close()


@dataclass
class Load:
    """Commands through the admin endpoint, each on a fresh connection (any worker), to
    lights in turn; an offline answer for a light whose socket never closed is wrong."""

    server: BridgeServer
    lights: list
    online: list
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    disrupted: set[int] = field(default_factory=set)
    sent: int = 0
    answered: int = 0
    false_offline: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def disrupt(self, index: int) -> None:
        """The light's worker is about to die: until it reconnects, offline is true."""
        with self.lock:
            self.disrupted.add(index)

    def run(self) -> None:
        for index in itertools.cycle(range(len(self.lights))):
            if self.stop.is_set():
                return
            client = self.online[index].client
            with self.lock:
                if index in self.disrupted and client.connected.is_set():
                    self.disrupted.discard(index)  # reconnected since its worker died
                if index in self.disrupted or not client.connected.is_set():
                    continue
            sessions = client.sessions
            body = {"device": self.lights[index].id, "action": "setPowerState"}
            body["value"] = {"state": "On" if self.sent % 2 else "Off"}
            self.sent += 1
            try:
                reply = requests.post(self.server.url + "/admin/api/send", json=body, timeout=15)
            except requests.ConnectionError:
                continue  # the worker serving this request was killed under it
            except requests.RequestException as exc:  # a hang: a worker that never answers
                self.failures.append(f"{self.lights[index].id}: {exc!r}")
                continue
            if reply.ok:
                self.answered += 1
                continue
            with self.lock:
                steady = index not in self.disrupted
            kept = steady and client.sessions == sessions and client.connected.is_set()
            if kept and reply.json()["type"].endswith("/offline"):
                self.false_offline.append(f"{self.lights[index].id}: {reply.text}")


def pid_of(worker: str | None) -> int | None:
    """A worker id is `host:pid:tag`."""
    return int(worker.split(":")[1]) if worker else None


def test_workers_killed_in_turn_and_all_at_once_under_load_all_come_back(
    server, store, make_account, connect, holder
):
    account = make_account()
    lights = [store.devices.create(account.user.id, "light", f"Lamp {i}") for i in range(LIGHTS)]
    online = [connect(account, [light]) for light in lights]  # a socket each: spread
    load = Load(server, lights, online)
    driver = threading.Thread(target=load.run, daemon=True)
    driver.start()
    try:
        assert len(workers_answering(server.url, WORKERS, timeout=60)) == WORKERS
        rounds = [[i] for i in range(ONE_AT_A_TIME)] + [None] * ALL_AT_ONCE
        for number, victims in enumerate(rounds):
            before = workers_of(server)
            assert len(before) == WORKERS
            ordered = sorted(before)
            pids = set(ordered) if victims is None else {ordered[v % WORKERS] for v in victims}
            for i, light in enumerate(lights):
                held_by = pid_of(holder(light.id))
                if held_by is None or held_by in pids:
                    load.disrupt(i)
            answered = load.answered
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            end = time.monotonic() + 60
            while len(workers_of(server) - before) < len(pids) and time.monotonic() < end:
                time.sleep(0.05)
            assert len(workers_of(server) - before) == len(pids), f"round {number}"
            assert len(workers_answering(server.url, WORKERS, timeout=60)) == WORKERS, (
                f"round {number}: a replacement worker never served\n{server.log()[-4000:]}"
            )
            end = time.monotonic() + 30
            while load.answered < answered + LIGHTS and time.monotonic() < end:
                time.sleep(0.05)  # commands go through again before the next kill
            assert load.answered >= answered + LIGHTS, f"round {number}: commands stopped"
    finally:
        load.stop.set()
        driver.join(20)
    assert not load.failures, load.failures[:5]
    assert not load.false_offline, (
        f"{len(load.false_offline)} of {load.sent} commands to a connected light were "
        f"answered offline: {load.false_offline[:3]}"
    )
    assert "Traceback" not in server.log(), server.log()[-4000:]
