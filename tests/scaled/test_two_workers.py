"""Two workers behave as one: forwarding, deadlines, takeover, shared facts, one delivery."""

from __future__ import annotations

import os
import signal
import time

import pytest
import websocket
from conftest import DEVICE_TIMEOUT
from servers import eventually

from bridge.transports.sinric import protocol


def send(session, server, device_id, action, value=None):
    body = {"device": device_id, "action": action, "value": value or {}}
    return session.post(server.url + "/admin/api/send", json=body, timeout=15)


def error(reply) -> str:
    """The core error code of a refused send (its problem type's last part)."""
    return reply.json()["type"].rsplit("/", 1)[-1]


@pytest.fixture
def held(account, light, connect, workers):
    """A connected light, and the worker that holds its socket."""
    online = connect(account, [light])
    holder = eventually(lambda: workers.holder(light.id))
    return online, holder


def test_a_command_at_the_worker_without_the_device_is_forwarded_to_it(
    server, light, held, workers
):
    online, holder = held
    far = workers.on(workers.other(holder))
    reply = send(far, server, light.id, "setPowerState", {"state": "On"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["value"] == {"state": "On"}
    assert online.virtual[light.id].state["powerState"] == "On"
    near = workers.on(holder)
    assert send(near, server, light.id, "setPowerState", {"state": "Off"}).json()["value"] == {
        "state": "Off"
    }


def test_a_device_nobody_holds_is_offline_at_once_on_every_worker(server, light, workers):
    for worker in workers.all():
        started = time.monotonic()
        reply = send(workers.on(worker), server, light.id, "setPowerState", {"state": "On"})
        assert error(reply) == "offline"
        assert time.monotonic() - started < DEVICE_TIMEOUT / 2


def test_a_slow_device_times_out_within_the_deadline_across_the_hop(
    server, account, light, connect, workers
):
    connect(account, [light], delay=DEVICE_TIMEOUT + 1.0)
    holder = eventually(lambda: workers.holder(light.id))
    far = workers.on(workers.other(holder))
    started = time.monotonic()
    reply = send(far, server, light.id, "setPowerState", {"state": "On"})
    took = time.monotonic() - started
    assert error(reply) == "timeout"
    assert DEVICE_TIMEOUT * 0.8 < took < DEVICE_TIMEOUT + 0.5


def test_a_disconnect_mid_wait_is_answered_at_once_across_the_hop(
    server, account, light, connect, workers
):
    import threading

    online = connect(account, [light], delay=DEVICE_TIMEOUT * 0.9)
    holder = eventually(lambda: workers.holder(light.id))
    far = workers.on(workers.other(holder))
    threading.Timer(0.2, online.client.stop).start()
    started = time.monotonic()
    reply = send(far, server, light.id, "setPowerState", {"state": "On"})
    assert error(reply) == "disconnected"
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
        reply = send(workers.on(worker), server, light.id, "setPowerState", {"state": "On"})
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
