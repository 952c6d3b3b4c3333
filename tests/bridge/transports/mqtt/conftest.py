"""A real Mosquitto configured by the bridge, and a bridge that serves its things."""

from __future__ import annotations

import pytest
from conftest import SECRET_KEY
from mosquitto import Broker, Things, start_broker
from servers import BridgeServer, free_port

from bridge.store import Store
from bridge.store.secrets import Vault


@pytest.fixture(scope="session")
def mqtt_env(tmp_path_factory, server_env) -> dict[str, str]:
    root = tmp_path_factory.mktemp("bridge-mqtt")
    return {
        **server_env,
        "BRIDGE_DATABASE": str(root / "bridge.db"),
        "BRIDGE_REDIS_PREFIX": "mqtt",  # a bridge of its own, should it share the Redis
        "BRIDGE_MQTT_DIR": str(root / "broker"),
        "BRIDGE_MQTT_URL": f"mqtts://127.0.0.1:{free_port()}",
        "BRIDGE_MQTT_THING_QUARANTINE": "2",  # a flooding thing's, to see it end
    }


@pytest.fixture(scope="session")
def store(mqtt_env) -> Store:
    return Store(mqtt_env["BRIDGE_DATABASE"], Vault(SECRET_KEY))


@pytest.fixture(scope="session")
def broker(mqtt_env, store) -> Broker:
    started = start_broker(store, mqtt_env)
    yield started
    started.stop()


@pytest.fixture(scope="session")
def server(mqtt_env, broker):
    srv = BridgeServer(mqtt_env).start()
    yield srv
    srv.stop()


@pytest.fixture
def fleet(store, broker, tmp_path) -> Things:
    made = Things(store, broker, tmp_path)
    yield made
    made.stop()
