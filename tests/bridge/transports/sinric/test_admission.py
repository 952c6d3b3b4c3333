"""A storm of device sockets is let in at the worker's pace: in arrival order, each waiting
for its own turn, and past the patience told to come back (503, Retry-After) before any
work is done for it."""

from __future__ import annotations

import threading
import time

import pytest
import websocket
from conftest import SECRET_KEY
from servers import BridgeServer

from bridge.store import Store
from bridge.store.secrets import Vault

RATE, BURST, PATIENCE = 4, 2, 0.6


@pytest.fixture(scope="module")
def paced(tmp_path_factory, server_env):
    """A bridge of its own (one worker: the pace is a worker's) that lets in four device
    sockets a second."""
    db = tmp_path_factory.mktemp("paced") / "p.db"
    env = {
        **server_env,
        "BRIDGE_DATABASE": str(db),
        "BRIDGE_WORKERS": "1",
        "BRIDGE_SINRIC_UPGRADE_RATE": str(RATE),
        "BRIDGE_SINRIC_UPGRADE_BURST": str(BURST),
        "BRIDGE_SINRIC_UPGRADE_PATIENCE": str(PATIENCE),
    }
    srv = BridgeServer(env).start()
    yield srv
    srv.stop()


def test_a_crowd_of_sockets_is_let_in_at_the_pace_and_the_rest_told_to_come_back(paced):
    store = Store(paced.env["BRIDGE_DATABASE"], Vault(SECRET_KEY))
    user, _ = store.users.create("storm", "password1")
    devices = [store.devices.create(user.id, "switch", f"S{n}").id for n in range(6)]
    store.close()
    results: dict[str, tuple[float, int, str]] = {}
    start = threading.Barrier(len(devices))

    def connect(device: str) -> None:
        start.wait()
        began = time.monotonic()
        try:
            ws = websocket.create_connection(
                f"ws://127.0.0.1:{paced.port}/",
                header={"appkey": user.app_key, "deviceids": device},
                timeout=10,
            )
            ws.recv()  # the timestamp: it is in
            results[device] = (time.monotonic() - began, 101, "")
            ws.close()
        except websocket.WebSocketBadStatusException as exc:
            after = exc.resp_headers.get("retry-after", "")
            results[device] = (time.monotonic() - began, exc.status_code, after)

    threads = [threading.Thread(target=connect, args=(d,)) for d in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    let_in = sorted(took for took, status, _ in results.values() if status == 101)
    refused = [(status, after) for _, status, after in results.values() if status != 101]
    assert len(let_in) == 4, results  # the burst, then two turns within the patience
    assert let_in[2] >= 0.2 and let_in[3] >= 0.45, let_in  # 0.25 s apart
    assert refused == [(503, "1")] * 2, results
    assert all(took < 0.5 for took, status, _ in results.values() if status == 503)
