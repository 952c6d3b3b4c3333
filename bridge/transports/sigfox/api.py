"""Sigfox's REST API v2, the little the bridge needs: a type's devices and their messages.

HTTP Basic with an API user's login and password; paging through
`paging.next`. Callbacks are how messages arrive; the API is the fallback
after an outage (it keeps the last days of messages).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests

MAX_PAGES = 100


class SigfoxApiError(Exception):
    """The API refused or failed; the message says how."""


class SigfoxApi:
    def __init__(self, base: str, login: str, password: str, http: requests.Session) -> None:
        if not login or not password:
            raise SigfoxApiError("set BRIDGE_SIGFOX_API_LOGIN and BRIDGE_SIGFOX_API_PASSWORD")
        self.base = base.rstrip("/")
        self.auth = (login, password)
        self.http = http

    def _pages(self, url: str, params: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
        for _ in range(MAX_PAGES):
            try:
                reply = self.http.get(url, params=params, auth=self.auth, timeout=30)
            except requests.RequestException as exc:
                raise SigfoxApiError(f"Sigfox's API is unreachable: {exc}") from None
            if reply.status_code != 200:
                raise SigfoxApiError(f"Sigfox's API answered {reply.status_code} for {url}")
            try:
                body = reply.json()
            except ValueError:
                raise SigfoxApiError("Sigfox's API answered something that is not JSON") from None
            yield from (item for item in body.get("data", []) if isinstance(item, dict))
            url = (body.get("paging") or {}).get("next")
            if not url:
                return
            params = None  # the next link carries them

    def devices(self, device_type_id: str) -> Iterator[dict[str, Any]]:
        return self._pages(f"{self.base}/devices", {"deviceTypeId": device_type_id})

    def messages(self, device_id: str, since_ms: int) -> list[dict[str, Any]]:
        """The device's messages since then, oldest first (the API gives newest first)."""
        found = list(self._pages(f"{self.base}/devices/{device_id}/messages", {"since": since_ms}))
        return sorted(found, key=lambda m: (m.get("time", 0), m.get("seqNumber", 0)))
