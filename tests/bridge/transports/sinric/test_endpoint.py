"""The device endpoint speaks Sinric Pro messaging and drops anything it cannot trust."""

import contextlib
import json
import threading
import time

import pytest
import requests
import websocket
from servers import close_frame, eventually, latest

from bridge.bus.local import LocalBus
from bridge.transports.sinric import protocol

POLICY_VIOLATION = 1008


@pytest.fixture
def mark(store):
    """The id of the newest history entry before the test acts."""
    rows = store.messages.query(limit=1)
    return rows[0]["id"] if rows else 0


@pytest.mark.parametrize("path", ["/", "/ws"])
def test_connect_gets_the_timestamp_first(raw, account, light, path):
    ws = raw(account.app_key, [light.id], path)
    message = json.loads(ws.recv())
    assert list(message) == ["timestamp"]
    assert abs(message["timestamp"] - time.time()) < 5


def test_unknown_app_key_is_closed_with_a_reason(raw, light, store, mark):
    ws = raw("00000000-0000-0000-0000-000000000000", [light.id])
    assert close_frame(ws) == (POLICY_VIOLATION, "unknown app key")
    assert latest(store, None, "rejection", mark)["detail"].startswith("connection refused")


def test_foreign_device_id_is_refused(raw, make_account, store, light):
    stranger = make_account()
    ws = raw(stranger.app_key, [light.id])
    code, reason = close_frame(ws)
    assert code == POLICY_VIOLATION and "not registered to this app key" in reason
    assert store.messages.query(device_id=light.id, kind="connection") == []


def test_malformed_device_ids_are_refused(raw, account):
    assert close_frame(raw(account.app_key, ["not-hex"]))[0] == POLICY_VIOLATION
    assert close_frame(raw(account.app_key, []))[0] == POLICY_VIOLATION


def test_ping_is_answered(raw, account, light):
    ws = raw(account.app_key, [light.id])
    ws.recv()
    ws.ping(b"are you there")
    opcode, data = ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_PONG and data == b"are you there"


def send_event(ws, account, device_id, *, secret=None, **kw):
    payload = protocol.event(device_id, "setPowerState", {"state": "On"}, **kw)
    ws.send(protocol.envelope(payload, secret or account.secret))
    return payload


def test_signed_event_updates_shadow_and_history(raw, account, light, store):
    ws = raw(account.app_key, [light.id])
    ws.recv()
    send_event(ws, account, light.id)
    event = latest(store, light.id, "event")
    assert (event["action"], event["outcome"], event["detail"]) == (
        "setPowerState",
        "ok",
        "PHYSICAL_INTERACTION",
    )
    assert store.shadow.get(light.id)["powerState"]["value"] == "On"


@pytest.mark.parametrize(
    "tamper, reason",
    [
        (lambda text, acc: text.replace('"On"', '"Off"'), "bad signature"),
        (
            lambda text, acc: text.replace(',"signature":{"HMAC"', ',"sig":{"x"'),
            "malformed message: Object contains unknown field `sig`",
        ),
        (
            lambda text, acc: text[:-1] + ',"payload":{}}',
            'malformed message: not valid JSON: Detected duplicate key "payload"',
        ),
        (lambda text, acc: "{not json", "malformed message: not valid JSON"),
    ],
)
def test_untrusted_messages_are_dropped_and_logged(
    raw, account, light, store, mark, tamper, reason
):
    ws = raw(account.app_key, [light.id])
    ws.recv()
    text = protocol.envelope(
        protocol.event(light.id, "setPowerState", {"state": "On"}), account.secret
    )
    ws.send(tamper(text, account))
    rejection = latest(store, None, "rejection", mark)
    assert rejection["detail"].startswith(reason) and rejection["user_id"] == account.user.id
    assert store.shadow.get(light.id) == {}
    assert store.messages.query(device_id=light.id, kind="event") == []
    ws.ping(b"still open")
    assert ws.recv_data(control_frame=True)[0] == websocket.ABNF.OPCODE_PONG


def test_wrong_secret_stale_and_replayed_events_change_nothing(raw, account, light, store, mark):
    ws = raw(account.app_key, [light.id])
    ws.recv()
    send_event(ws, account, light.id, secret="x" * 40)
    rejected = latest(store, None, "rejection", mark)
    assert rejected["detail"] == "bad signature"
    send_event(ws, account, light.id, now=time.time() - 120)
    rejected = latest(store, None, "rejection", rejected["id"])
    assert rejected["detail"].startswith("stale createdAt")
    assert store.shadow.get(light.id) == {}
    first = protocol.event(light.id, "setPowerState", {"state": "On"})
    ws.send(protocol.envelope(first, account.secret))
    latest(store, light.id, "event")
    replay = dict(first, value={"state": "Off"})
    ws.send(protocol.envelope(replay, account.secret))
    assert latest(store, None, "rejection", rejected["id"])["detail"] == "reused replyToken"
    assert store.shadow.get(light.id)["powerState"]["value"] == "On"


def test_events_for_devices_not_on_the_connection_are_dropped(raw, account, light, store, mark):
    other = store.devices.create(account.user.id, "switch", "Other")
    ws = raw(account.app_key, [light.id])
    ws.recv()
    send_event(ws, account, other.id)
    assert latest(store, None, "rejection", mark)["detail"] == "device not on this connection"
    assert store.shadow.get(other.id) == {}


def test_unsolicited_response_is_dropped(raw, account, light, store):
    ws = raw(account.app_key, [light.id])
    ws.recv()
    request = protocol.request(light.id, "setPowerState", {"state": "On"})
    ws.send(protocol.envelope(protocol.response(request, {"state": "On"}), account.secret))
    assert latest(store, light.id, "rejection")["detail"].startswith("response nobody waits for")
    assert store.shadow.get(light.id) == {}


def test_oversized_message_closes_the_socket(raw, account, light, store, mark, server_env):
    limit = int(server_env["BRIDGE_MAX_MESSAGE_BYTES"])
    ws = raw(account.app_key, [light.id])
    ws.recv()
    ws.send("x" * (limit + 1))
    assert close_frame(ws)[0] == 1009
    assert "message over" in latest(store, None, "rejection", mark)["detail"]


def test_events_over_the_rate_limit_are_recorded_but_flagged(raw, account, light, store):
    ws = raw(account.app_key, [light.id])
    ws.recv()
    send_event(ws, account, light.id)
    ws.send(
        protocol.envelope(
            protocol.event(light.id, "setPowerState", {"state": "Off"}), account.secret
        )
    )
    end = time.monotonic() + 5
    while len(store.messages.query(device_id=light.id, kind="event")) < 2:
        assert time.monotonic() < end
        time.sleep(0.02)
    outcomes = [m["outcome"] for m in store.messages.query(device_id=light.id, kind="event")]
    assert outcomes == ["flagged", "ok"]
    assert store.shadow.get(light.id)["powerState"]["value"] == "Off"


def test_online_and_offline_are_tracked(raw, account, light, store, server):
    def online() -> bool:
        return requests.get(f"{server.url}/admin/api/devices/{light.id}", timeout=5).json()[
            "online"
        ]

    ws = raw(account.app_key, [light.id])
    ws.recv()
    assert eventually(online)
    assert latest(store, light.id, "connection")["outcome"] == "online"
    ws.close()
    eventually(lambda: not online())
    eventually(
        lambda: (
            store.messages.query(device_id=light.id, kind="connection", limit=1)[0]["outcome"]
            == "offline"
        )
    )


def test_events_of_a_deleted_device_are_dropped(raw, account, light, store, mark):
    ws = raw(account.app_key, [light.id])
    ws.recv()
    store.devices.delete(light.id)
    eventually(
        lambda: (
            send_event(ws, account, light.id)
            and store.messages.query(device_id=light.id, kind="rejection")
        )
    )
    # The server notices another process's deletion within ~50 ms (its cache
    # polls PRAGMA data_version); from then on the device's events are refused.
    assert latest(store, None, "rejection", mark)["detail"] == "device no longer registered"


def _keep_answering(ws):
    """A live device: its reader answers the bridge's pings (websocket-client pongs on recv)."""

    def loop():
        with contextlib.suppress(Exception):
            while True:
                ws.recv()

    threading.Thread(target=loop, daemon=True).start()


def test_a_live_socket_keeps_its_devices(raw, account, light, store, mark):
    first = raw(account.app_key, [light.id])
    first.recv()
    _keep_answering(first)
    intruder = raw(account.app_key, [light.id])
    assert close_frame(intruder) == (1008, "device is connected on another live socket")
    rejection = latest(store, None, "rejection", mark)
    assert rejection["detail"] == "connection refused: device is connected on another live socket"
    send_event(first, account, light.id)  # the first socket still holds the device
    assert latest(store, light.id, "event", mark)["outcome"] == "ok"


def test_a_dead_socket_is_taken_over_after_the_grace(raw, account, light, store, mark):
    stale = raw(account.app_key, [light.id])
    stale.recv()  # then never reads again: it cannot answer a ping
    started = time.monotonic()
    fresh = raw(account.app_key, [light.id])
    assert list(json.loads(fresh.recv())) == ["timestamp"]
    assert time.monotonic() - started >= 0.4  # the grace (0.5 s in tests) passed first
    send_event(fresh, account, light.id)
    assert latest(store, light.id, "event", mark)["outcome"] == "ok"


def test_a_storage_fault_while_opening_leaves_no_ghost_online(tmp_path, monkeypatch):
    """The open step runs inside the socket's cleanup: a fault there still detaches it."""
    import gevent
    from gevent import socket as gsocket
    from servers import upgrade_environ

    from bridge.devices.events import EventIntake
    from bridge.devices.limits import EventLimiter
    from bridge.reports.delivery import Reporter
    from bridge.store import Store
    from bridge.store.secrets import Vault
    from bridge.transports.sinric.endpoint import DeviceEndpoint
    from bridge.transports.sinric.hub import Hub

    store = Store(str(tmp_path / "ghost.db"), Vault("k"))
    user, _ = store.users.create("ghost", "password1")
    device = store.devices.create(user.id, "light", "Lamp")
    hub = Hub()
    reporter = Reporter(store, dict, retry_base=1, max_attempts=1)
    endpoint = DeviceEndpoint(
        store,
        hub,
        EventIntake(store, reporter, EventLimiter(LocalBus("t"), 1, 1)),
        window=60,
        max_bytes=4096,
    )

    def broken(entry):
        raise OSError("disk full")

    monkeypatch.setattr(store.messages, "record", broken)
    server_end, client_end = gsocket.socketpair()
    environ, _ = upgrade_environ(server_end, appkey=user.app_key, deviceids=device.id)
    serving = gevent.spawn(endpoint.serve, environ)
    serving.join(timeout=5)
    assert isinstance(serving.exception, OSError)
    assert not hub.online(device.id) and hub.connections == set()
    client_end.close()
