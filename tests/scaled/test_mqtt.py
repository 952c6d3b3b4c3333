"""MQTT things with two workers: one holds the broker session, the other forwards to it."""

from __future__ import annotations

import os
import signal

import requests
from servers import eventually

from bridge.transports.mqtt import ROLE

from .conftest import HOLD_TTL


def test_every_worker_reaches_a_thing_through_the_one_holding_the_broker_session(
    fleet, account, workers
):
    [creds] = fleet.make(account)
    seen = []
    fleet.run(creds, lambda d: seen.append(d) or dict(d), {"powerState": "Off"})
    assert eventually(lambda: workers.leader(ROLE))
    for worker, state in zip(workers.all(), ["On", "Off"], strict=True):
        eventually(lambda worker=worker: workers.online(worker, creds.thing), timeout=10)
        reply = workers.send(worker, creds.thing, "setPowerState", {"state": state})
        assert reply.status_code == 200, reply.text
        assert reply.json()["value"] == {"state": state}
    assert seen == [{"powerState": "On"}, {"powerState": "Off"}]


def test_the_broker_session_moves_to_another_worker_when_its_worker_dies(fleet, account, workers):
    [creds] = fleet.make(account)
    fleet.run(creds, dict, {"powerState": "Off"})
    leader = eventually(lambda: workers.leader(ROLE))
    os.kill(int(leader.split(":")[1]), signal.SIGKILL)
    eventually(lambda: workers.leader(ROLE) not in {None, leader}, timeout=HOLD_TTL * 3 + 10)
    for worker in workers.all():
        eventually(lambda worker=worker: workers.online(worker, creds.thing), timeout=10)
        reply = workers.send(worker, creds.thing, "setPowerState", {"state": "On"})
        assert reply.status_code == 200, reply.text
        assert reply.json()["value"] == {"state": "On"}


def test_a_broker_restart_is_named_by_readiness_and_every_worker_reaches_things_again(
    fleet, account, workers, broker, server
):
    [creds] = fleet.make(account)
    fleet.run(creds, dict, {"powerState": "Off"})
    eventually(lambda: workers.leader(ROLE))
    log_before = len(server.log())
    broker.stop()

    def named() -> bool:  # the leader names it (the other worker does not hold the session)
        answer = requests.get(server.url + "/readyz", timeout=5)
        return answer.status_code == 503 and "mqtt broker" in answer.json()["failing"]

    eventually(named, timeout=15)
    reply = workers.send(workers.leader(ROLE), creds.thing, "setPowerState", {"state": "On"})
    assert reply.status_code in (409, 503, 504), reply.text  # the thing is away: not a 500
    broker.start()
    assert eventually(
        lambda: all(
            requests.get(server.url + "/readyz", timeout=5).status_code == 200 for _ in range(6)
        ),
        timeout=30,
    )
    for worker in workers.all():  # the session and the thing are back: both reach it

        def reached(worker: str = worker) -> bool:
            reply = workers.send(worker, creds.thing, "setPowerState", {"state": "On"})
            return reply.status_code == 200

        eventually(reached, timeout=30, interval=0.5)
    assert "Traceback" not in server.log()[log_before:]
