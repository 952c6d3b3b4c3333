"""Real processes and loopback fakes the tests talk to."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
import websocket

from bridge.reports.messages import Reachability, decode

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BridgeServer:
    """The bridge under gunicorn's gevent worker, exactly as `make run` serves it."""

    def __init__(
        self, env: dict[str, str], tls: tuple[Path, Path] | None = None, logs: Path | None = None
    ) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env, "PORT": str(self.port)}
        self.env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests" / "plugins")])
        if tls:
            self.env["BRIDGE_TLS_CERT"], self.env["BRIDGE_TLS_KEY"] = map(str, tls)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        folder = logs or Path(env["BRIDGE_DATABASE"]).parent
        self.log_path = folder / f"bridge.{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, verify: str | bool = True) -> BridgeServer:
        log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [str(GUNICORN), "-c", "config/gunicorn.conf.py", "app:app"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bridge exited:\n{self.log_path.read_text()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1, verify=verify).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"bridge did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def log(self) -> str:
        return self.log_path.read_text()


class Recorder:
    """A loopback HTTP endpoint that keeps what it receives; can fail on purpose."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.visits: list[str] = []
        self.fail_next = 0
        self.event = threading.Condition()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with recorder.event:
                    if recorder.fail_next:
                        recorder.fail_next -= 1
                        status = 503
                    else:
                        recorder.received.append(json.loads(body))
                        status = 202
                    recorder.event.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                """A platform's redirect target: remember the query, show a small page."""
                with recorder.event:
                    recorder.visits.append(self.path)
                    recorder.event.notify_all()
                body = b"<!doctype html><title>Linked</title><h1>Back at the platform</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = self.base + "/report"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate, timeout: float = 10.0) -> list[dict]:
        """Block until some received report satisfies the predicate; return those that do."""
        end = time.monotonic() + timeout
        with self.event:
            while True:
                hits = [r for r in self.received if predicate(r)]
                if hits or time.monotonic() > end:
                    return hits
                self.event.wait(0.1)

    def close(self) -> None:
        self.server.shutdown()


def eventually(check, timeout: float = 5.0, interval: float = 0.02):
    """Poll until `check()` returns something truthy; return it.

    The server writes history and shadow behind (every ~50 ms), so a test
    that reads the database right after an HTTP reply waits for it here.
    """
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > end:
            assert value, "condition not met in time"
            return value
        time.sleep(interval)


def shadowed(store, device_id: str, values: dict) -> None:
    """Wait until the server has stored these shadow values (it writes behind, ~50 ms)."""
    eventually(lambda: values.items() <= store.shadow.values(device_id).items())


STATE_EVENT_INTERVAL = 0.3
"""The bridge's per-capability event spacing in tests (BRIDGE_STATE_EVENT_INTERVAL)."""


def past_event_limit() -> None:
    """Wait out the event limiter after a device event the test has seen handled.

    The spacing is the server's own rule, in its own time: lowered for the
    suite, never slept for at its production value (1 s).
    """
    time.sleep(STATE_EVENT_INTERVAL + 0.1)


def workers_answering(url: str, count: int, timeout: float = 30.0) -> set[str]:
    """The workers that answer /healthz on fresh connections, until `count` have.

    A server answers as soon as its first worker is up; the others may still be
    booting, so this waits on the clock, not on a number of tries.
    """
    seen: set[str] = set()
    end = time.monotonic() + timeout
    while len(seen) < count and time.monotonic() < end:
        # A connection waits in the backlog until a worker has booted (seconds, when several
        # boot at once on a busy machine); a worker that never serves is not retried away.
        with requests.Session() as session:
            reply = session.get(url + "/healthz", timeout=30)
            assert reply.ok, reply.text
            seen.add(reply.json()["worker"])
    return seen


def workers_of(server: BridgeServer) -> set[int]:
    """The pids of a server's workers (its master's children)."""
    master = server.proc.pid
    return {int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()}


def in_time(entry: dict) -> tuple:
    """History in time order: with several workers, each writes its history behind on
    its own, so ids interleave."""
    return entry["at"], entry["id"]


def queued_for(store, adapter: str, device_id: str) -> list[str]:
    """The actions ever queued as reports of a device for one adapter, oldest first.

    The reporter decides who hears of a change in one transaction over the
    outbox, so reading it there answers "was it sent?" at once: a test
    needs no sleep to prove that something never comes.
    """
    rows = store.db["outbox"].rows_where(
        "adapter = ? and device_id = ?", [adapter, device_id], order_by="id"
    )
    messages = [decode(r["change"]) for r in rows]
    return [m.action for m in messages if m is not None and not isinstance(m, Reachability)]


class Webhook:
    """A voice platform posting directives to one of the bridge's webhooks."""

    def __init__(self, url: str) -> None:
        self.url = url

    def post(self, body: dict | bytes) -> dict:
        """Post JSON (or raw bytes); the bridge must answer HTTP 200 with a JSON body."""
        if isinstance(body, bytes):
            reply = requests.post(
                self.url, data=body, timeout=15, headers={"Content-Type": "application/json"}
            )
        else:
            reply = requests.post(self.url, json=body, timeout=15)
        assert reply.status_code == 200, reply.text
        return reply.json()


def latest(store, device_id, kind, after=0):
    """The newest entry of a kind (of a device, if given) newer than id `after`."""
    end = time.monotonic() + 5
    while time.monotonic() < end:
        rows = store.messages.query(device_id=device_id, kind=kind, limit=1)
        if rows and rows[0]["id"] > after:
            return rows[0]
        time.sleep(0.02)
    raise AssertionError(f"no {kind} recorded")


def close_frame(ws) -> tuple[int, str]:
    """Read until the server's close frame; return its code and reason."""
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(data[:2], "big"), data[2:].decode()


def upgrade_environ(server_end, **headers: str) -> tuple[dict, object]:
    """The WSGI environ of a WebSocket upgrade on one end of a socket pair, and the
    wsproto client whose key it carries (to speak for the other end)."""
    import re

    from wsproto import ConnectionType, WSConnection
    from wsproto.events import Request

    client = WSConnection(ConnectionType.CLIENT)
    request = client.send(Request(host="device", target="/"))
    key = re.search(rb"Sec-WebSocket-Key: (\S+)", request).group(1).decode()
    environ = {
        "gunicorn.socket": server_end,
        "RAW_URI": "/",
        "HTTP_HOST": "device",
        "HTTP_UPGRADE": "websocket",
        "HTTP_CONNECTION": "Upgrade",
        "HTTP_SEC_WEBSOCKET_KEY": key,
        "HTTP_SEC_WEBSOCKET_VERSION": "13",
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    return environ, client


REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer:
    """A real redis-server on a free loopback port, keeping nothing on disk (a restart
    starts empty, as `Procfile.scaled` runs it)."""

    def __init__(self, directory: Path) -> None:
        if not Path(REDIS).exists():
            raise RuntimeError("redis-server is not installed: apt-get install redis-server")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.log_path = directory / "redis.log"
        self.start()

    def start(self) -> None:
        """Start it (again, on the same port)."""
        self.proc = subprocess.Popen(
            [
                REDIS,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(self.log_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not start: {self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class StreamListener:
    """Reads an SSE stream in a thread until an event of `until` kind arrives."""

    def __init__(self, session, url: str, headers: dict[str, str], until: str = "request"):
        self.events: list[dict] = []
        self.ready = threading.Event()
        self._args = session, url, headers, until
        self._thread = threading.Thread(target=self._listen, daemon=True)

    def start(self) -> StreamListener:
        self._thread.start()
        assert self.ready.wait(10), "the stream did not open"
        return self

    def join(self, timeout: float = 10) -> list[dict]:
        self._thread.join(timeout)
        return self.events

    def _listen(self) -> None:
        session, url, headers, until = self._args
        with session.get(url, stream=True, timeout=15, headers=headers) as reply:
            assert reply.headers["Content-Type"].startswith("text/event-stream")
            for line in reply.iter_lines(decode_unicode=True):
                if line.startswith(": connected"):
                    self.ready.set()
                if line.startswith("data: "):
                    self.events.append(json.loads(line[6:]))
                    if self.events[-1]["kind"] == until:
                        return
