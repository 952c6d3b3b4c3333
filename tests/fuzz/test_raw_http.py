"""What only a raw socket can send: broken chunked bodies, huge headers, slow senders, bad upgrades.

Each case must be answered by the bridge (4xx, in the path's format) or cut off, never a
5xx or a traceback in the log, and the server must keep serving.
"""

from __future__ import annotations

import socket
import time

import pytest
import requests
from fuzz_harness import Watch, fingerprint

JSON_POST = (
    "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    "Connection: close\r\n"
)
CHUNKED = JSON_POST + "Transfer-Encoding: chunked\r\n\r\n"
UPGRADE = (
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "appkey: x\r\ndeviceids: x\r\n"
)

CASES = {
    "bad chunk size": CHUNKED + "zz\r\n{}\r\n0\r\n\r\n",
    "chunk without terminator": CHUNKED + "2\r\n{}XX0\r\n\r\n",
    "chunk longer than sent": CHUNKED + "ffff\r\n{}",
    "negative chunk": CHUNKED + "-5\r\n{}\r\n0\r\n\r\n",
    "chunked over the size limit": CHUNKED + ("100000\r\n" + "x" * 0x100000 + "\r\n") * 2,
    "Content-Length over the limit": JSON_POST + "Content-Length: 99999999\r\n\r\n{}",
    "Content-Length not a number": JSON_POST + "Content-Length: 12abc\r\n\r\n{}",
    "body shorter than Content-Length": JSON_POST + "Content-Length: 50\r\n\r\n{}",
    "unknown transfer coding": JSON_POST + "Transfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}",
    "non-UTF-8 body": JSON_POST + "Content-Length: 4\r\n\r\n\xff\xfe{}",
    "huge header": JSON_POST + "X-Big: " + "a" * 20000 + "\r\nContent-Length: 2\r\n\r\n{}",
    "too many headers": JSON_POST + "".join(f"X-{i}: 1\r\n" for i in range(300)) + "\r\n{}",
    "header line without colon": JSON_POST + "nonsense\r\nContent-Length: 2\r\n\r\n{}",
    "upgrade without key": UPGRADE + "Sec-WebSocket-Version: 13\r\n\r\n",
    "upgrade with a bad key": UPGRADE + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: x\r\n\r\n",
    "upgrade, unsupported version": UPGRADE + "Sec-WebSocket-Version: 8\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
}
PATHS = ["/voice/alexa", "/api/v1/devices/x/commands", "/oauth/token", "/admin/api/send"]


def exchange(port: int, raw: str, timeout: float = 15.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(raw.encode("latin-1"))
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may stop reading and close first: that is an answer too
        chunks = []
        try:
            while data := sock.recv(65536):
                chunks.append(data)
        except (ConnectionResetError, TimeoutError):
            pass
    return b"".join(chunks)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("path", PATHS)
def test_malformed_requests_are_answered_not_crashed(case, path, server, store):
    watch = Watch("raw HTTP", server, store)
    before = fingerprint(store)
    answer = exchange(server.port, CASES[case].replace("{path}", path))
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    # cut off, refused, or (Alexa's convention) an ErrorResponse inside a 200
    alexa_error = path == "/voice/alexa" and status == 200 and b'"ErrorResponse"' in answer
    answered = status == 0 or 400 <= status < 500 or alexa_error
    watch.check(status, answered, True, before, (case, path, answer[:300]))
    watch.finish()
    assert requests.get(server.url + "/healthz", timeout=5).ok


def test_a_refusal_is_in_the_paths_format(server):
    raw = CASES["bad chunk size"]
    alexa = exchange(server.port, raw.replace("{path}", "/voice/alexa"))
    assert b'"ErrorResponse"' in alexa and b"INVALID_DIRECTIVE" in alexa
    api = exchange(server.port, raw.replace("{path}", "/api/v1/devices/x/commands"))
    assert b"400 Bad Request" in api and b"application/problem+json" in api
    oauth = exchange(server.port, raw.replace("{path}", "/oauth/token"))
    assert b'"invalid_request"' in oauth
    upgrade = exchange(server.port, CASES["upgrade, unsupported version"])
    assert upgrade.startswith(b"HTTP/1.1 426") and b"Sec-WebSocket-Version: 13" in upgrade


def test_a_slow_body_is_cut_off_and_the_worker_keeps_serving(server, store):
    """A sender that stops mid-body holds a greenlet until BRIDGE_BODY_TIMEOUT, not forever."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        head = JSON_POST.replace("{path}", "/admin/api/send") + "Content-Length: 100\r\n\r\n{"
        sock.sendall(head.encode())
        assert requests.get(server.url + "/healthz", timeout=5).ok  # others are served meanwhile
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 408") and b"application/problem+json" in answer
    assert time.monotonic() - started < 10


def test_slow_headers_are_cut_off(server_env, tmp_path):
    """A sender that never finishes its headers is dropped after BRIDGE_HEADER_TIMEOUT."""
    from servers import BridgeServer

    env = {**server_env, "BRIDGE_DATABASE": str(tmp_path / "h.db"), "BRIDGE_HEADER_TIMEOUT": "1"}
    slow_server = BridgeServer(env).start()
    try:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", slow_server.port), timeout=20) as sock:
            sock.sendall(b"POST /voice/alexa HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            assert sock.recv(65536) == b""  # closed by the bridge, no answer owed
        assert time.monotonic() - started < 10
        assert requests.get(slow_server.url + "/healthz", timeout=5).ok
    finally:
        slow_server.stop()
