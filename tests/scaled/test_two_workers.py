"""Two workers behave as one: forwarding, deadlines, takeover, shared facts, one delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest
import websocket
from conftest import DEVICE_TIMEOUT
from servers import ROOT, StreamListener, eventually

from bridge.store.secrets import hash_token
from bridge.transports.sinric import protocol


@pytest.fixture
def held(account, light, connect, workers):
    """A connected light, and the worker that holds its socket."""
    online = connect(account, [light])
    holder = eventually(lambda: workers.holder(light.id))
    return online, holder


def test_a_command_at_the_worker_without_the_device_is_forwarded_to_it(
    server, store, light, held, workers
):
    online, holder = held
    far = workers.other(holder)
    reply = workers.send(far, light.id, "setPowerState", {"state": "On"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["value"] == {"state": "On"}
    assert online.virtual[light.id].state["powerState"] == "On"
    # The journey names the worker that held the device, not the one that asked.
    sent = eventually(lambda: store.messages.query(device_id=light.id, kind="request", limit=1))
    assert sent[0]["via"] == f"sinric on {holder}"
    near = holder
    assert workers.send(near, light.id, "setPowerState", {"state": "Off"}).json()["value"] == {
        "state": "Off"
    }


def test_a_device_nobody_holds_is_offline_at_once_on_every_worker(server, light, workers):
    for worker in workers.all():
        session = workers.on(worker)
        started = time.monotonic()
        reply = workers.send(session, light.id, "setPowerState", {"state": "On"})
        assert workers.error(reply) == "offline"
        assert time.monotonic() - started < DEVICE_TIMEOUT / 2


def test_a_slow_device_times_out_within_the_deadline_across_the_hop(
    server, account, light, connect, workers
):
    connect(account, [light], delay=DEVICE_TIMEOUT + 1.0)
    holder = eventually(lambda: workers.holder(light.id))
    far = workers.on(workers.other(holder))
    started = time.monotonic()
    reply = workers.send(far, light.id, "setPowerState", {"state": "On"})
    took = time.monotonic() - started
    assert workers.error(reply) == "timeout"
    assert DEVICE_TIMEOUT <= took < DEVICE_TIMEOUT + 0.5  # as in one worker


def test_a_disconnect_mid_wait_is_answered_at_once_across_the_hop(
    server, account, light, connect, workers
):
    import threading

    online = connect(account, [light], delay=DEVICE_TIMEOUT * 0.9)
    holder = eventually(lambda: workers.holder(light.id))
    far = workers.on(workers.other(holder))
    threading.Timer(0.2, online.client.stop).start()
    started = time.monotonic()
    reply = workers.send(far, light.id, "setPowerState", {"state": "On"})
    assert workers.error(reply) == "disconnected"
    assert time.monotonic() - started < DEVICE_TIMEOUT * 0.9


def test_a_worker_that_dies_drops_its_devices_and_they_reconnect_elsewhere(
    server, light, held, workers
):
    online, holder = held
    os.kill(int(holder.split(":")[1]), signal.SIGKILL)
    online.client.connected.clear()
    assert online.client.connected.wait(15), "the device did not reconnect"
    eventually(lambda: workers.holder(light.id) not in {None, holder}, timeout=15)
    for worker in workers.all():
        reply = workers.send(worker, light.id, "setPowerState", {"state": "On"})
        assert reply.status_code == 200, reply.text


def raw_socket(server, account, light, workers, worker, tries=100):
    """A bare device socket held by the chosen worker."""
    for _ in range(tries):
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{server.port}/",
            header={"appkey": account.app_key, "deviceids": light.id},
            timeout=5,
        )
        ws.recv()  # the bridge's timestamp
        if eventually(lambda: workers.holder(light.id)) == worker:
            return ws
        ws.close()
        eventually(lambda: workers.holder(light.id) is None)
    raise AssertionError(f"no socket reached {worker}")


def test_a_replayed_event_sent_to_the_other_worker_is_refused(
    server, account, light, store, workers
):
    first, second = workers.all()
    event = protocol.envelope(
        protocol.event(light.id, "setPowerState", {"state": "On"}), account.secret
    )
    ws = raw_socket(server, account, light, workers, first)
    ws.send(event)
    eventually(lambda: store.shadow.get(light.id).get("powerState"))
    ws.close()
    eventually(lambda: workers.holder(light.id) is None)
    ws = raw_socket(server, account, light, workers, second)
    ws.send(event)
    rows = eventually(
        lambda: [r for r in store.messages.query(device_id=light.id) if r["outcome"] == "rejected"]
    )
    assert "reused replyToken" in rows[0]["detail"]
    ws.close()


def test_each_report_is_delivered_once_by_one_of_the_workers(account, store, connect, recorder):
    lights = [store.devices.create(account.user.id, "light", f"Light {i}") for i in range(8)]
    online = connect(account, lights)
    for light in lights:
        online.client.send_event(light.id, "setPowerState", {"state": "On"})
    ids = {light.id for light in lights}
    eventually(lambda: {r["device"] for r in recorder.received} >= ids, timeout=10)
    eventually(  # every report row is done: nobody can deliver it again
        lambda: all(
            row["delivered_at"]
            for row in store.db["outbox"].rows_where("adapter = 'echo'")
            if row["device_id"] in ids
        )
    )
    delivered = [r["device"] for r in recorder.received if r["device"] in ids]
    assert sorted(delivered) == sorted(ids)  # once each, not once per worker


def test_a_stream_on_one_worker_sees_a_command_made_through_the_other(
    account, light, connect, store, workers, server
):
    connect(account, [light])
    key, secret = store.keys.create(account.user.id, "inbound", ["light"])
    first, second = workers.all()
    token = (
        workers.on(first)
        .post(server.url + "/api/v1/token", auth=(key.id, secret), timeout=10)
        .json()["access_token"]
    )
    auth = {"Authorization": f"Bearer {token}"}
    stream = workers.on(first)
    listener = StreamListener(stream, server.url + "/api/v1/stream", auth).start()
    reply = workers.on(second).post(
        f"{server.url}/api/v1/devices/{light.id}/commands",
        json={"action": "setPowerState", "value": {"state": "On"}},
        headers=auth,
        timeout=15,
    )
    assert reply.status_code == 200, reply.text
    events = listener.join(10)
    assert events and events[-1]["action"] == "setPowerState"


def test_a_token_revoked_from_the_cli_is_refused_by_every_worker_at_once(
    account, light, store, workers, server
):
    token = store.tokens.issue(account.user.id, "echo")
    first, second = workers.all()
    body = {"token": token, "op": "discover"}
    for worker in (first, second):  # both have it cached now
        assert workers.on(worker).post(server.url + "/voice/echo", json=body, timeout=10).ok
    sessions = [workers.on(worker) for worker in (first, second)]
    store.tokens.forget([hash_token(token)])  # as `bridge` would, from another process
    time.sleep(0.25)  # workers look every 50 ms; the rest is a margin for a busy machine
    for session in sessions:
        reply = session.post(server.url + "/voice/echo", json=body, timeout=10)
        assert reply.status_code == 401, reply.text


def test_hundreds_of_devices_connecting_at_once_are_all_registered(account, store, workers):
    """Each socket registers on the bus as it opens: hundreds at once must not exhaust the
    Redis pool (redis-py's default pool raises instead of waiting, which closed sockets)."""
    count = 300
    with store.db.atomic():
        ids = [store.devices.create(account.user.id, "switch", f"S{i}").id for i in range(count)]
    ids_file = workers.root / f"ids-{uuid.uuid4().hex}.txt"
    ids_file.write_text("\n".join(ids))
    url = "ws" + workers.server.url[4:] + "/"
    fleet = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "devices.py"),
            url,
            account.app_key,
            account.secret,
            str(ids_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fleet.stdout.readline().split()[:2] == ["ready", str(count)]
        eventually(lambda: sum(workers.holder(d) is not None for d in ids) == count, timeout=10)
        assert fleet.poll() is None  # no socket of the fleet was closed on it
    finally:
        fleet.terminate()
        fleet.wait(10)
