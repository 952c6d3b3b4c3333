"""Device SDK: connect devices to the bridge (or any Sinric-Pro-compatible server).

    client = DeviceClient("ws://127.0.0.1:8000/", app_key, app_secret, [device_id])
    client.on("setPowerState", lambda device_id, value, instance: value)
    client.start()
    client.send_event(device_id, "setPowerState", {"state": "On"})

A handler returns the new value (or raises Refused); every message is signed,
every incoming request verified, and a lost connection is retried with
jittered exponential backoff.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import websocket

from bridge.transports.sinric import protocol

log = logging.getLogger(__name__)
Handler = Callable[[str, dict[str, Any], str | None], dict[str, Any] | None]
VERSION = "1.0.0"


class Refused(Exception):
    """Raise from a handler to answer success: false with this message."""


def ws_url(url: str) -> str:
    """`http://host:port` (BRIDGE_URL) to the device socket's `ws://host:port/`."""
    if url.startswith("http"):
        url = "ws" + url[4:]
    return url if url.endswith("/") else url + "/"


def backoff_delay(attempt: int, low: float, high: float) -> float:
    """The longest wait before reconnect attempt `attempt`: doubling from `low`, capped at `high`.

    The client waits a random time between half of it and all of it, so a
    fleet cut off at once does not come back at once.
    """
    return min(high, low * 2 ** min(attempt, 16))


class DeviceClient:
    def __init__(
        self,
        url: str,
        app_key: str,
        app_secret: str,
        device_ids: list[str],
        *,
        platform: str = "bridge-client",
        backoff: tuple[float, float] = (0.5, 60.0),
        sslopt: dict[str, Any] | None = None,
        workers: int = 8,
    ) -> None:
        self.url = ws_url(url)
        self.app_key = app_key
        self.app_secret = app_secret
        self.device_ids = list(device_ids)
        self.platform = platform
        self.backoff = backoff
        self.sslopt = sslopt
        self.handlers: dict[str, Handler] = {}
        self.clock_offset = 0.0
        self.connected = threading.Event()
        self.close_reason: str | None = None
        self.last_error: str | None = None
        """Why the last session ended, when it was not a close frame."""
        self.sessions = 0
        """Connection attempts so far (each one after a backoff wait)."""
        self.ended: tuple[int, str] | None = None
        """The last session that ended, and why (the close reason, or the error)."""
        self._ws: websocket.WebSocket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="device")

    def on(self, action: str, handler: Handler) -> None:
        self.handlers[action] = handler

    def now(self) -> float:
        return time.time() + self.clock_offset

    def start(self) -> DeviceClient:
        self._thread = threading.Thread(target=self._run, name="device-client", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.close()
        if self._thread is not None:
            self._thread.join(5)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def send_raw(self, text: str) -> None:
        if self._ws is None or not self.connected.is_set():
            raise ConnectionError("not connected")
        self._ws.send(text)

    def send_event(
        self,
        device_id: str,
        action: str,
        value: dict[str, Any],
        *,
        cause: str = "PHYSICAL_INTERACTION",
        instance_id: str | None = None,
    ) -> dict[str, Any]:
        payload = protocol.event(
            device_id, action, value, cause=cause, instance_id=instance_id, now=self.now()
        )
        self.send_raw(protocol.envelope(payload, self.app_secret))
        return payload

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            started = time.monotonic()
            self.sessions += 1
            why = "closed"
            try:
                self._session()
                why = self.close_reason or why
            except Exception as exc:
                self.last_error = why = f"{type(exc).__name__}: {exc}"
                log.info("device connection failed: %s", exc)
            finally:
                self.connected.clear()
                self._ws = None
                self.ended = (self.sessions, why)
            if self._stop.is_set():
                break
            # A session that lasted resets the backoff; one cut short (a rejected
            # key, a twin device taking over) keeps growing it.
            attempt = 1 if time.monotonic() - started > 30 else attempt + 1
            delay = backoff_delay(attempt, *self.backoff)
            self._stop.wait(random.uniform(delay / 2, delay))

    def _session(self) -> None:
        headers = {
            "appkey": self.app_key,
            "deviceids": ";".join(self.device_ids),
            "platform": self.platform,
            "SDKVersion": VERSION,
        }
        ws = websocket.create_connection(
            self.url, header=headers, sslopt=self.sslopt, enable_multithread=True
        )
        # Quiet is not dead (the server pings an idle socket): no read timeout, whatever
        # default another library set for the whole process (Tuya's SDK sets 3 s).
        ws.settimeout(None)
        self._ws = ws
        while not self._stop.is_set():
            opcode, data = ws.recv_data(control_frame=False)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                self.close_reason = data[2:].decode("utf-8", "replace") if len(data) > 2 else ""
                return
            self._on_text(data.decode("utf-8"))

    def _on_text(self, text: str) -> None:
        if text.startswith('{"timestamp":'):
            self.clock_offset = json.loads(text)["timestamp"] - time.time()
            self.connected.set()
            return
        try:
            message = protocol.read(text, self.app_secret)
        except protocol.ProtocolError as exc:
            log.warning("dropped server message: %s", exc)
            with contextlib.suppress(protocol.ProtocolError):
                unsigned = protocol.parse(text)
                if unsigned.type == "request":  # tell the server, as Sinric's SDKs do
                    self._answer(unsigned.payload, {}, False, "Signature is invalid")
            return
        if message.type != "request":
            return
        self._pool.submit(self._handle, message)

    def _handle(self, message: protocol.Message) -> None:
        handler = self.handlers.get(message.action)
        if handler is None or message.device_id not in self.device_ids:
            self._answer(message.payload, {}, False, f'Device did not handle "{message.action}"')
            return
        try:
            value = handler(message.device_id, message.value, message.instance_id)
        except Refused as exc:
            self._answer(message.payload, {}, False, str(exc) or "refused")
            return
        except Exception as exc:
            log.exception("handler for %s failed", message.action)
            self._answer(message.payload, {}, False, f"handler failed: {exc}")
            return
        self._answer(message.payload, message.value if value is None else value, True, "OK")

    def _answer(self, request: protocol.Payload, value: dict, success: bool, text: str) -> None:
        payload = protocol.response(request, value, success=success, message=text, now=self.now())
        try:
            self.send_raw(protocol.envelope(payload, self.app_secret))
        except (ConnectionError, websocket.WebSocketException, OSError) as exc:
            log.info("response lost with the connection: %s", exc)
