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
    conf: Path
    proc: subprocess.Popen | None = None

    def start(self) -> Broker:
        """Start Mosquitto (again, on the same port and files); return once it listens."""
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=(self.directory / "mosquitto.log").open("a"),
        )
        end = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                assert self.proc.poll() is None and time.monotonic() < end, (
                    self.directory / "mosquitto.log"
                ).read_text()
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def start_broker(store: Store, env: dict[str, str]) -> Broker:
    """Mosquitto with the files `bridge mqtt broker-config` writes, on the env's port."""
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed: apt-get install mosquitto", pytrace=False)
    port = int(env["BRIDGE_MQTT_URL"].rsplit(":", 1)[1])
    directory = Path(env["BRIDGE_MQTT_DIR"])
    paths = broker_config.write(store, directory, port=port, run_as=getpass.getuser())
    return Broker(directory, port, Path(paths["conf"])).start()


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
