"""A real Mosquitto configured by the bridge, and a bridge that serves its things."""

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
from conftest import SECRET_KEY, Account
from servers import BridgeServer, free_port

from bridge.secrets import Vault
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


@pytest.fixture(scope="session")
def mqtt_env(tmp_path_factory, server_env) -> dict[str, str]:
    root = tmp_path_factory.mktemp("bridge-mqtt")
    return {
        **server_env,
        "BRIDGE_DATABASE": str(root / "bridge.db"),
        "BRIDGE_MQTT_DIR": str(root / "broker"),
        "BRIDGE_MQTT_URL": f"mqtts://127.0.0.1:{free_port()}",
    }


@pytest.fixture(scope="session")
def store(mqtt_env) -> Store:
    return Store(mqtt_env["BRIDGE_DATABASE"], Vault(SECRET_KEY))


@pytest.fixture(scope="session")
def broker(mqtt_env, store) -> Broker:
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed: apt-get install mosquitto", pytrace=False)
    port = int(mqtt_env["BRIDGE_MQTT_URL"].rsplit(":", 1)[1])
    directory = Path(mqtt_env["BRIDGE_MQTT_DIR"])
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
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < end, (
                directory / "mosquitto.log"
            ).read_text()
            time.sleep(0.05)
    yield Broker(directory, port, proc)
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def server(mqtt_env, broker):
    srv = BridgeServer(mqtt_env).start()
    yield srv
    srv.stop()


@dataclass
class Things:
    """Things of one account: made in a batch, run with the thing SDK."""

    store: Store
    broker: Broker
    folder: Path
    running: list[ThingClient] = field(default_factory=list)

    def make(self, account: Account, type_name: str = "light", count: int = 1) -> list[Credentials]:
        _, archive = things.batch(self.store, account.user, type_name, count, "Thing", "test")
        path = self.folder / f"{uuid.uuid4().hex}.zip"
        things.write_private(path, archive)
        return unpack(path, self.folder / path.stem)

    def run(self, creds: Credentials, handler, state: dict | None = None) -> ThingClient:
        client = ThingClient("127.0.0.1", self.broker.port, creds, handler).start(state)
        self.running.append(client)
        assert client.connected.wait(10), "thing did not connect"
        return client


@pytest.fixture
def fleet(store, broker, tmp_path) -> Things:
    made = Things(store, broker, tmp_path)
    yield made
    for client in made.running:
        client.stop()
