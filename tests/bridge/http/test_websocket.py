"""WebSocket framing: any frame is activity, and a ping probe tells a live peer from a dead one."""

import gevent
import pytest
from gevent import socket
from servers import upgrade_environ
from wsproto.events import Ping, Pong

from bridge.http.websocket import WebSocket


@pytest.fixture
def pair():
    """A server WebSocket over a socket pair, and a wsproto client on the other end."""
    server_end, client_end = socket.socketpair()
    environ, client = upgrade_environ(server_end)
    ws = WebSocket.accept(environ, 4096)
    client.receive_data(client_end.recv(4096))
    list(client.events())
    reader = gevent.spawn(ws.receive)
    yield ws, client, client_end
    reader.kill()
    server_end.close()
    client_end.close()


def test_pongs_and_pings_count_as_activity(pair):
    ws, client, sock = pair
    for frame in (Pong(b"x"), Ping(b"y")):
        ws.last_activity = 0.0
        sock.sendall(client.send(frame))
        gevent.sleep(0.05)
        assert ws.last_activity > 0.0


def test_answers_tells_a_live_peer_from_a_silent_one(pair):
    ws, client, sock = pair
    assert ws.answers(0.2) is False  # the client reads nothing, so it never pongs

    def answer_pings():
        client.receive_data(sock.recv(4096))
        for event in client.events():
            if isinstance(event, Ping):
                sock.sendall(client.send(event.response()))

    gevent.spawn(answer_pings)
    assert ws.answers(2.0) is True
