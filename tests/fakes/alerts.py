"""A loopback notifier that takes the bridge's alerts as a careful receiver would.

It checks the signature (HMAC-SHA256 over the timestamp, a dot and the body
bytes, compared in constant time) and the timestamp's age before it keeps
an alert; tests script failures to see the outbox retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from fakes import JsonService


class FakeNotifier(JsonService):
    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.alerts: list[dict] = []
        self.refused: list[str] = []
        self.fail_next = 0
        super().__init__()

    def answer(self, path: str, headers, body: bytes) -> tuple[int, dict | None]:
        stamp = headers.get("X-Bridge-Timestamp", "")
        sent = headers.get("X-Bridge-Signature", "").removeprefix("sha256=")
        expected = hmac.new(self.secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        with self.lock:
            if not (stamp.isdigit() and abs(time.time() - int(stamp)) < 300):
                self.refused.append("stale or missing timestamp")
                return 400, {"error": "timestamp"}
            if not hmac.compare_digest(sent, expected):
                self.refused.append("bad signature")
                return 401, {"error": "signature"}
            if self.fail_next:
                self.fail_next -= 1
                return 503, None
            self.alerts.append(json.loads(body))
            self.recorded()
            return 200, {"ok": True}
