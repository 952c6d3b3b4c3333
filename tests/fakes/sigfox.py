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
