"""A fake of Sigfox's REST API v2: HTTP Basic, paging, a type's devices and their messages."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fakes import JsonService

LOGIN, PASSWORD = "api-user-for-tests", "api-password-for-tests"
PAGE = 2  # small pages, so paging is exercised


class FakeSigfoxApi(JsonService):
    def __init__(self) -> None:
        super().__init__()
        self.url = self.base + "/v2"
        self.devices: dict[str, list[dict]] = {}  # deviceTypeId -> devices
        self.messages: dict[str, list[dict]] = {}  # device id -> messages, any order
        self.calls: list[str] = []

    def answer(self, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        expected = "Basic " + base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {"message": "Unauthorized"}
        parts = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.calls.append(path)
        if parts.path == "/v2/devices":
            items = self.devices.get(query.get("deviceTypeId", ""), [])
        elif parts.path.startswith("/v2/devices/") and parts.path.endswith("/messages"):
            device = parts.path.split("/")[3]
            since = int(query.get("since", "0"))
            found = [m for m in self.messages.get(device, []) if m["time"] >= since]
            items = sorted(found, key=lambda m: -m["time"])  # newest first, as Sigfox lists
        else:
            return 404, {"message": "Not found"}
        offset = int(query.get("offset", "0"))
        page = items[offset : offset + PAGE]
        paging: dict[str, str] = {}
        if offset + PAGE < len(items):
            rest = {k: v for k, v in query.items() if k != "offset"}
            tail = "&".join(f"{k}={v}" for k, v in rest.items())
            paging["next"] = f"{self.base}{parts.path}?{tail}&offset={offset + PAGE}"
        return 200, {"data": page, "paging": paging}


RETRIES = (60.0, 120.0, 240.0)
"""Sigfox retries a callback 1, 2 and 4 minutes after a timeout or an error."""


class FakeSigfoxBackend:
    """Sigfox's cloud making callbacks: templates rendered by text substitution, 10 s to
    answer with a 2xx, retries after 1, 2 and 4 minutes on an injected clock.

    `lose_answers` drops that many answers as if they never came back in time (the
    bridge did its work; Sigfox does not know it), the way a slow network makes
    Sigfox retry a callback the bridge already handled.
    """

    def __init__(self, bridge_url: str, secret: str, timeout: float = 10.0) -> None:
        self.bridge_url, self.secret, self.timeout = bridge_url, secret, timeout
        self.now = 0.0
        self.lose_answers = 0
        self.attempts: list[tuple[float, int | None]] = []  # (clock, status or None)
        self._due: list[tuple[float, int, dict]] = []

    def render(self, callback: dict, variables: dict[str, Any]) -> dict:
        """The request Sigfox would make for these variables (text substitution, as Sigfox)."""

        def fill(text: str) -> str:
            for name, value in variables.items():
                text = text.replace(
                    "{" + name + "}", str(value).lower() if isinstance(value, bool) else str(value)
                )
            return text

        url = fill(callback["urlPattern"]).replace("https://bridge.example.test", self.bridge_url)
        headers = {k: fill(v) for k, v in callback.get("headers", {}).items()}
        headers["Authorization"] = f"Bearer {self.secret}"  # this bridge's, not the sample's
        if callback.get("contentType"):
            headers["Content-Type"] = callback["contentType"]
        body = fill(callback["bodyTemplate"]) if callback.get("bodyTemplate") else None
        return {"method": callback["httpMethod"], "url": url, "headers": headers, "body": body}

    def emit(self, callback: dict, variables: dict[str, Any]) -> int | None:
        request = self.render(callback, variables)
        return self._attempt(request, 0)

    def _attempt(self, request: dict, retry: int) -> int | None:
        import requests

        try:
            reply = requests.request(
                request["method"],
                request["url"],
                data=request["body"],
                headers=request["headers"],
                timeout=self.timeout,
            )
            status: int | None = reply.status_code
        except requests.RequestException:
            status = None
        if status is not None and self.lose_answers:
            self.lose_answers -= 1
            status = None  # handled, but the answer came too late for Sigfox
        self.attempts.append((self.now, status))
        if (status is None or not 200 <= status < 300) and retry < len(RETRIES):
            self._due.append((self.now + RETRIES[retry], retry + 1, request))
        return status

    def advance(self, seconds: float) -> None:
        """Let time pass: every retry that falls due is made, in order."""
        self.now += seconds
        while due := sorted((d for d in self._due if d[0] <= self.now), key=lambda d: d[:2]):
            _, retry, request = due[0]
            self._due.remove(due[0])
            self._attempt(request, retry)

    @property
    def waiting(self) -> int:
        return len(self._due)
