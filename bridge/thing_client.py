"""Thing SDK: an MQTT thing with its certificate, talking to the bridge's device shadow.

Client id = thing name; the Last Will marks it disconnected; a delta from
the bridge goes to the handler, whose answer is reported with the delta's
clientToken (a Refused is reported as an `error` object).
"""

from __future__ import annotations

import json
import socket
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from bridge.transports.mqtt import nodelay, topics
from bridge.transports.mqtt.things import BROKER_FILE, WILL_PAYLOAD, write_private

Handler = Callable[[dict[str, Any]], dict[str, Any]]
"""Receives the delta (shadow names to desired values); returns what is now reported."""


class Refused(Exception):
    """Raised by a handler: the thing cannot do what was asked."""


@dataclass(frozen=True)
class Credentials:
    thing: str
    cert: Path
    key: Path
    ca: Path


def broker_of(archive: Path) -> str:
    """The broker URL a batch zip names (made knowing it), or ""."""
    with zipfile.ZipFile(archive) as zf:
        if BROKER_FILE not in zf.namelist():
            return ""
        return zf.read(BROKER_FILE).decode("utf-8", "replace").strip()


def unpack(archive: Path, into: Path) -> list[Credentials]:
    """The things of a batch zip, their files written 0600 under `into`."""
    found = []
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        into.mkdir(parents=True, exist_ok=True)
        ca = into / "ca.pem"
        write_private(ca, zf.read("ca.pem"))
        for name in sorted(n.split("/")[0] for n in names if n.endswith("/cert.pem")):
            folder = into / name
            folder.mkdir(parents=True, exist_ok=True)
            write_private(folder / "cert.pem", zf.read(f"{name}/cert.pem"))
            write_private(folder / "privkey.pem", zf.read(f"{name}/privkey.pem"))
            found.append(Credentials(name, folder / "cert.pem", folder / "privkey.pem", ca))
    return found


class ThingClient:
    def __init__(self, host: str, port: int, creds: Credentials, handler: Handler) -> None:
        self.creds = creds
        self.thing = creds.thing
        self.handler = handler
        self.connected = threading.Event()
        self.deltas: list[dict[str, Any]] = []
        self.on_state: Callable[[bool, str], None] | None = None
        """Told each connection and loss (with the broker's reason): what a person watches."""
        self._host, self._port = host, port
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=self.thing, protocol=mqtt.MQTTv311
        )
        client.tls_set(ca_certs=str(creds.ca), certfile=str(creds.cert), keyfile=str(creds.key))
        client.will_set(topics.WILL.format(thing=self.thing), WILL_PAYLOAD, qos=1)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = lambda client, userdata: self._tell(False, "no broker there")
        client.reconnect_delay_set(0.2, 5)
        self.client = client

    def start(self, state: dict[str, Any] | None = None) -> ThingClient:
        self._initial = dict(state or {})
        self.client.connect_async(self._host, self._port, keepalive=30)
        self.client.loop_start()
        return self

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            self._tell(False, str(reason))
            return
        nodelay(client)
        client.subscribe([(topics.DELTA.format(thing=self.thing), 1)])
        self.report({"connection_status": "connected", **self._initial})
        self.connected.set()
        self._tell(True, "")

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        if was:
            self._tell(False, str(reason))

    def _tell(self, connected: bool, why: str) -> None:
        if self.on_state is not None:
            self.on_state(connected, why)

    def _on_message(self, client, userdata, msg) -> None:
        try:
            delta = json.loads(msg.payload)
        except ValueError:
            return
        self.deltas.append(delta)
        token = delta.get("clientToken")
        try:
            reported = self.handler(delta.get("state", {}))
        except Refused as exc:
            self.report({"error": {"message": str(exc)}}, token)
            return
        self.report(reported, token)

    def report(
        self,
        reported: dict[str, Any],
        token: str | None = None,
        observed_ms: int | None = None,
    ) -> mqtt.MQTTMessageInfo:
        """Publish reported state (a physical change when no token comes with it).

        `observed_ms`: when the values were observed, if not just now (epoch ms).
        """
        body: dict[str, Any] = {"state": {"reported": reported}}
        if token:
            body["clientToken"] = token
        if observed_ms:
            body["timestamp"] = observed_ms
        return self.client.publish(topics.UPDATE.format(thing=self.thing), json.dumps(body), qos=1)

    def stop(self, clean: bool = True) -> None:
        """Say goodbye (clean) or vanish (the broker publishes the will)."""
        if clean and self.connected.is_set():
            self.report({"connection_status": "disconnected"}).wait_for_publish(2)
            self.client.disconnect()
        elif not clean and (sock := self.client.socket()) is not None:
            sock.shutdown(socket.SHUT_RDWR)  # the network drops: no DISCONNECT, the will fires
        self.client.loop_stop()
