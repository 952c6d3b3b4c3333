"""The device SDK: reconnects by itself, answers what it handles, refuses the rest."""

import socket
import time

from servers import eventually

from bridge.client import DeviceClient, backoff_delay, ws_url


def test_ws_url_from_bridge_url():
    assert ws_url("http://127.0.0.1:8000") == "ws://127.0.0.1:8000/"
    assert ws_url("https://bridge.example") == "wss://bridge.example/"
    assert ws_url("ws://h/") == "ws://h/"


def test_client_reconnects_after_losing_the_socket(account, light, connect, admin_send):
    online = connect(account, [light])
    online.client._ws.sock.shutdown(socket.SHUT_RDWR)
    end = time.monotonic() + 5
    while online.client.connected.is_set():
        assert time.monotonic() < end
        time.sleep(0.01)
    assert online.client.connected.wait(10)
    end = time.monotonic() + 5
    while (reply := admin_send(light.id, "setPowerState", {"state": "On"})).status_code != 200:
        assert time.monotonic() < end, reply.text
        time.sleep(0.05)
    assert reply.json()["value"] == {"state": "On"}


def test_unhandled_action_is_refused_like_the_esp_sdk_does(account, light, connect, admin_send):
    online = connect(account, [light])
    del online.client.handlers["setColor"]
    reply = admin_send(light.id, "setColor", {"color": {"r": 1, "g": 2, "b": 3}})
    assert reply.status_code == 422
    assert reply.json()["detail"] == 'Device did not handle "setColor"'


def test_wrong_app_secret_never_gets_an_answer_accepted(server, account, light, admin_send):
    client = DeviceClient(server.url, account.app_key, "w" * 40, [light.id])
    client.on("setPowerState", lambda d, v, i: v)
    client.start()
    try:
        assert client.connected.wait(10)
        reply = admin_send(light.id, "setPowerState", {"state": "On"})
        assert reply.status_code == 504  # the bridge dropped the unverifiable answer
    finally:
        client.stop()


def test_rejected_key_is_retried_with_growing_backoff(server, light):
    client = DeviceClient(
        server.url,
        "00000000-0000-0000-0000-000000000000",
        "x" * 40,
        [light.id],
        backoff=(0.05, 0.2),
    )
    client.start()
    try:
        eventually(lambda: client.sessions >= 3, timeout=10)  # 0.05-0.1 s, then 0.1-0.2 s
        assert client.close_reason == "unknown app key"
        assert not client.connected.is_set()
    finally:
        client.stop()
    assert [backoff_delay(n, 0.05, 0.2) for n in (1, 2, 3, 20)] == [0.1, 0.2, 0.2, 0.2]
    assert [backoff_delay(n, 0.5, 60.0) for n in (1, 2, 3, 7, 8)] == [1, 2, 4, 60, 60]
