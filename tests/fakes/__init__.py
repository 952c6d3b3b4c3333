"""Loopback fakes of the platforms' services, as strict as the real ones."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonService:
    """A threaded loopback HTTP server that answers POSTs with JSON.

    A subclass implements `answer(path, headers, body)` and records what it
    accepts under `self.lock`; tests wait on what was recorded.
    """

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.outage: int | None = None
        """While set, every call is answered with this HTTP status and nothing is recorded:
        the service failing (5xx) or throttling (429), as a bench's faults have it."""
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._answer(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def do_GET(self) -> None:
                self._answer(b"")

            do_PUT = do_DELETE = do_POST

            def _answer(self, body: bytes) -> None:
                if service.outage:
                    status, reply = service.outage, {"error": {"code": service.outage}}
                else:
                    status, reply = service.answer_method(
                        self.command, self.path, self.headers, body
                    )
                data = json.dumps(reply).encode() if reply is not None else b""
                with contextlib.suppress(ConnectionError):  # the caller gone (killed) meanwhile
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def answer(self, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        raise NotImplementedError

    def answer_method(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        """For a service whose paths take several methods; by default `answer`."""
        return self.answer(path, headers, body)

    def recorded(self) -> None:
        """Call (holding the lock) after recording something: wakes the waiting tests."""
        self.lock.notify_all()

    def wait_for(
        self, items: list, predicate: Callable[[Any], bool], timeout: float = 10.0
    ) -> list:
        """Block until some recorded item satisfies the predicate; return those that do."""
        end = time.monotonic() + timeout
        with self.lock:
            while True:
                hits = [x for x in items if predicate(x)]
                if hits or time.monotonic() > end:
                    return hits
                self.lock.wait(0.1)

    def close(self) -> None:
        self.server.shutdown()
