"""A loopback fake of Tuya's Message Service: the Pulsar WebSocket consumer endpoint.

As Tuya's: the consumer must open `/ws/v2/consumer/persistent/<id>/out/<topic>/<id>-sub`
with `ackTimeoutMillis` and `subscriptionType=Failover`, and `username` and
`password` headers (md5 of the id and the md5 of the secret, characters 8 to
24); anything else is refused with 401. Messages are sent as Tuya sends them:
`{"messageId", "payload", "properties"}`, the payload base64 of `{protocol, pv,
t, data, sign}`, `data` AES-128-ECB (PKCS#7) or GCM under the secret's middle
16 characters (the service's setting, or per message with its `em` property),
`sign` the MD5 of the sorted `k=v` pairs and the secret. A message
not acked within the ack timeout is sent again, as a Pulsar subscription does,
and only one consumer at a time receives (a Failover subscription): others
wait until it goes.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import struct
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from websockets.sync.server import serve

PING_INTERVAL = 20.0
"""Seconds between the service's keep-alive pings (the websockets library's default)."""


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


class FakeMessageService:
    def __init__(self, access_id: str, secret: str, cipher: str = "ecb") -> None:
        self.access_id, self.secret, self.cipher = access_id, secret, cipher
        self.lock = threading.Condition()
        self.waiting: dict[str, dict[str, Any]] = {}  # messageId -> {"frame", "sent_at"}
        self.acked: list[str] = []
        self.deliveries: list[str] = []  # every messageId sent, redeliveries included
        self.refused_connections = 0
        self.consumers = 0  # connections accepted so far
        self.active: Any = None
        self.refusing = False
        """Refuse every connection (503), as a service that is down does."""
        self.ack_timeout = 3.0
        self._ids = itertools.count(1)
        # Keep-alive pings of its own (see _serve): the library's draw their payload from the
        # global `random` on its thread, which Hypothesis then finds moved in the middle of a
        # fuzz test's draw, whichever test runs when the ping is due.
        self.server = serve(
            self._consume, "127.0.0.1", 0, process_request=self._check, ping_interval=None
        )
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    # What tests do
    def publish(
        self, data: Any, *, signed: bool = True, protocol: int = 1000, em: str | None = None
    ) -> str:
        """Queue one message whose decrypted data is `data` (bytes are sent as they are).

        `em` (`aes_gcm`, `aes_ecb`): the message's own cipher, named in its properties as
        Tuya's service does; without it, the service's configured one."""
        plain = data if isinstance(data, bytes) else json.dumps(data).encode()
        envelope = {"protocol": protocol, "pv": "2.0", "t": int(time.time() * 1000)}
        cipher = {"aes_gcm": "gcm", "aes_ecb": "ecb"}.get(em or "", self.cipher)
        envelope["data"] = base64.b64encode(self._seal(plain, cipher)).decode()
        envelope["sign"] = self.signature(envelope) if signed else "0" * 32
        payload = base64.b64encode(json.dumps(envelope).encode()).decode()
        return self.send_raw(payload, {"em": em} if em else {})

    def send_raw(self, payload: str, properties: dict[str, str] | None = None) -> str:
        message_id = f"{next(self._ids)}:0:-1"
        frame = json.dumps(
            {"messageId": message_id, "payload": payload, "properties": properties or {}}
        )
        with self.lock:
            self.waiting[message_id] = {"frame": frame, "sent_at": 0.0}
            self.lock.notify_all()
        return message_id

    def send_frame(self, frame: str, message_id: str | None = None) -> None:
        """A frame as it is (malformed ones too). With the `message_id` it carries, it is
        redelivered until acked, as any message; without, it is sent once."""
        with self.lock:
            if message_id is not None:
                self.waiting[message_id] = {"frame": frame, "sent_at": 0.0}
            else:
                key = f"raw-{next(self._ids)}"
                self.waiting[key] = {"frame": frame, "sent_at": 0.0, "once": True}
            self.lock.notify_all()

    def wait_acked(self, message_id: str, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        with self.lock:
            while message_id not in self.acked and time.monotonic() < end:
                self.lock.wait(0.05)
            return message_id in self.acked

    def drop(self) -> None:
        """Close the active consumer's connection, as a broker restart would."""
        with self.lock:
            active = self.active
        if active is not None:
            active.close()

    def signature(self, envelope: dict[str, Any]) -> str:
        pairs = [f"{k}={envelope[k]}" for k in sorted(envelope) if k != "sign" and envelope[k]]
        return _md5("||".join([*pairs, self.secret]))

    def close(self) -> None:
        self.server.shutdown()

    # The service
    def _seal(self, plain: bytes, cipher: str) -> bytes:
        key = self.secret[8:24].encode()
        if cipher == "gcm":
            nonce = os.urandom(12)
            return nonce + AESGCM(key).encrypt(nonce, plain, None)
        padder = padding.PKCS7(128).padder()
        encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
        return encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()

    def _check(self, connection, request):
        url = urlsplit(request.path)
        query = parse_qs(url.query)
        expected = f"/ws/v2/consumer/persistent/{self.access_id}/out/event/{self.access_id}-sub"
        password = _md5(self.access_id + _md5(self.secret))[8:24]
        if self.refusing:
            return connection.respond(503, "Service Unavailable\n")
        if (
            url.path != expected
            or query.get("subscriptionType") != ["Failover"]
            or "ackTimeoutMillis" not in query
            or request.headers.get("username") != self.access_id
            or request.headers.get("password") != password
        ):
            with self.lock:
                self.refused_connections += 1
            return connection.respond(401, "Unauthorized\n")
        return None

    def _consume(self, ws) -> None:
        with self.lock:
            self.consumers += 1
        try:
            self._serve(ws)
        finally:
            with self.lock:
                if self.active is ws:
                    self.active = None

    def _serve(self, ws) -> None:
        pinged, pings = time.monotonic(), 0
        while True:
            now = time.monotonic()
            if now - pinged >= PING_INTERVAL:  # as the library's keep-alive, every 20 s
                pinged, pings = now, pings + 1
                try:
                    ws.ping(struct.pack("!I", pings))
                except Exception:
                    return  # the consumer went away
            with self.lock:
                if self.active is None:
                    self.active = ws
                if self.active is not ws:
                    self.lock.wait(0.05)
                    continue
                due = [
                    (mid, m)
                    for mid, m in self.waiting.items()
                    if now - m["sent_at"] > self.ack_timeout
                ]
                for mid, message in due:
                    message["sent_at"] = now
                    self.deliveries.append(mid)
                    if message.get("once"):
                        del self.waiting[mid]
            try:
                for _, message in due:
                    ws.send(message["frame"])
                reply = ws.recv(timeout=0.05)
            except TimeoutError:
                continue
            except Exception:
                return  # the consumer went away
            try:
                acked = json.loads(reply)["messageId"]
            except (ValueError, KeyError, TypeError):
                continue
            with self.lock:
                if self.waiting.pop(acked, None) is not None:
                    self.acked.append(acked)
                    self.lock.notify_all()
