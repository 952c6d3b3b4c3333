"""The full scaled set-up: two gunicorn workers, the Redis bus, PostgreSQL (and a broker).

These fixtures replace `server` and `store` for the tests in this folder, so
the usual helpers (`connect`, `admin_send`, accounts) work on the scaled
set-up unchanged.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from conftest import SECRET_KEY
from mosquitto import Broker, Things, start_broker
from servers import BridgeServer, free_port, workers_answering

from bridge.store import Store
from bridge.store.secrets import Vault

HOLD_TTL = 2.0


@pytest.fixture(scope="session")
def scaled_root(tmp_path_factory) -> Path:
    """Logs and the broker's files (the data is in PostgreSQL)."""
    return tmp_path_factory.mktemp("bridge-scaled")


@pytest.fixture(scope="session")
def scaled_env(scaled_root, server_env, redis_server, postgres_server) -> dict[str, str]:
    root = scaled_root
    return {
        **server_env,
        "BRIDGE_DATABASE": postgres_server.database(),
        "BRIDGE_MQTT_DIR": str(root / "broker"),
        "BRIDGE_MQTT_URL": f"mqtts://127.0.0.1:{free_port()}",
        "BRIDGE_WORKERS": "2",
        "BRIDGE_REDIS_URL": redis_server.url,
        "BRIDGE_REDIS_PREFIX": f"scaled{uuid.uuid4().hex[:6]}",
        "BRIDGE_HOLD_TTL": str(HOLD_TTL),
    }


@pytest.fixture(scope="module")
def module_env(request, scaled_env, postgres_server) -> dict[str, str]:
    """The scaled set-up on a database and a Redis prefix of the module's own, with its
    `SERVER_ENV` (its workers, its limits), and without the broker (whose certificates the
    session's broker fixture makes): for a server of one test module."""
    env = {k: v for k, v in scaled_env.items() if not k.startswith("BRIDGE_MQTT_")}
    env["BRIDGE_DATABASE"] = postgres_server.database()
    env["BRIDGE_REDIS_PREFIX"] = f"own{uuid.uuid4().hex[:6]}"
    return {**env, **getattr(request.module, "SERVER_ENV", {})}


@pytest.fixture(scope="module")
def module_server(module_env, scaled_root) -> Iterator[BridgeServer]:
    """A server of the module's own, on `module_env`."""
    srv = BridgeServer(module_env, logs=scaled_root).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def module_store(module_env) -> Iterator[Store]:
    opened = Store(module_env["BRIDGE_DATABASE"], Vault(SECRET_KEY))
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def broker(scaled_env, store) -> Iterator[Broker]:
    started = start_broker(store, scaled_env)
    yield started
    started.stop()


@pytest.fixture
def fleet(store, broker, tmp_path) -> Iterator[Things]:
    made = Things(store, broker, tmp_path)
    yield made
    made.stop()


@pytest.fixture(scope="session")
def server(scaled_env, scaled_root, broker) -> Iterator[BridgeServer]:
    srv = BridgeServer(scaled_env, logs=scaled_root).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def store(scaled_env) -> Store:
    return Store(scaled_env["BRIDGE_DATABASE"], Vault(SECRET_KEY))


class Workers:
    """Reach one chosen worker: a keep-alive connection stays with the worker that took it."""

    def __init__(self, server: BridgeServer, env: dict[str, str], root: Path) -> None:
        self.server = server
        self.root = root
        self.redis = redis.Redis.from_url(env["BRIDGE_REDIS_URL"], decode_responses=True)
        self.prefix = env["BRIDGE_REDIS_PREFIX"]

    def on(self, worker: str, timeout: float = 30.0) -> requests.Session:
        """A session whose connection the given worker serves (checked just before use)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            session = requests.Session()
            if session.get(self.server.url + "/healthz", timeout=5).json()["worker"] == worker:
                return session
            session.close()
        raise AssertionError(f"no connection reached worker {worker}")

    def all(self) -> list[str]:
        seen = workers_answering(self.server.url, 2)
        assert len(seen) == 2, f"only {seen} answered"
        return sorted(seen)

    def send(self, worker: str | requests.Session, device_id: str, action: str, value=None):
        """A command through the admin endpoint of the chosen worker (or its session)."""
        body = {"device": device_id, "action": action, "value": value or {}}
        session = self.on(worker) if isinstance(worker, str) else worker
        with session:
            return session.post(self.server.url + "/admin/api/send", json=body, timeout=15)

    @staticmethod
    def error(reply) -> str:
        """The core error code of a refused send (its problem type's last part)."""
        return reply.json()["type"].rsplit("/", 1)[-1]

    def online(self, worker: str, device_id: str) -> bool:
        with self.on(worker) as session:
            url = f"{self.server.url}/admin/api/devices/{device_id}"
            return session.get(url, timeout=5).json()["online"]

    def holder(self, device_id: str) -> str | None:
        return self.redis.get(f"{self.prefix}:dev:{device_id}")

    def leader(self, role: str) -> str | None:
        return self.redis.get(f"{self.prefix}:lead:{role}")

    def other(self, worker: str) -> str:
        return next(w for w in self.all() if w != worker)


@pytest.fixture
def workers(server, scaled_env, scaled_root) -> Workers:
    return Workers(server, scaled_env, scaled_root)
