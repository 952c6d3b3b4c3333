"""A real Mosquitto configured by the bridge, and things run with the thing SDK."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bridge.store import Store
from bridge.thing_client import Credentials, ThingClient, unpack
from bridge.transports.mqtt import broker as broker_config
from bridge.transports.mqtt import things

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


@dataclass
class Broker:
    directory: Path
    port: int
    proc: subprocess.Popen

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def start_broker(store: Store, env: dict[str, str]) -> Broker:
    """Mosquitto with the files `bridge mqtt broker-config` writes, on the env's port."""
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed: apt-get install mosquitto", pytrace=False)
    port = int(env["BRIDGE_MQTT_URL"].rsplit(":", 1)[1])
    directory = Path(env["BRIDGE_MQTT_DIR"])
    paths = broker_config.write(store, directory, port=port, run_as=getpass.getuser())
    proc = subprocess.Popen(
        [MOSQUITTO, "-c", str(paths["conf"])],
        stdout=subprocess.DEVNULL,
        stderr=(directory / "mosquitto.log").open("w"),
    )
    end = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return Broker(directory, port, proc)
        except OSError:
            assert proc.poll() is None and time.monotonic() < end, (
                directory / "mosquitto.log"
            ).read_text()
            time.sleep(0.05)


@dataclass
class Things:
    """Things of one account: made in a batch, run with the thing SDK."""

    store: Store
    broker: Broker
    folder: Path
    running: list[ThingClient] = field(default_factory=list)

    def make(self, account, type_name: str = "light", count: int = 1) -> list[Credentials]:
        _, archive = things.batch(self.store, account.user, type_name, count, "Thing", "test")
        path = self.folder / f"{uuid.uuid4().hex}.zip"
        things.write_private(path, archive)
        return unpack(path, self.folder / path.stem)

    def run(self, creds: Credentials, handler, state: dict | None = None) -> ThingClient:
        client = ThingClient("127.0.0.1", self.broker.port, creds, handler).start(state)
        self.running.append(client)
        assert client.connected.wait(10), "thing did not connect"
        return client

    def stop(self) -> None:
        for client in self.running:
            client.stop()
