"""The bridge scaled out: two gunicorn workers sharing the Redis bus.

These fixtures replace `server` and `store` for the tests in this folder, so
the usual helpers (`connect`, `admin_send`, accounts) work on the scaled
set-up unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
import requests
from conftest import SECRET_KEY
from servers import BridgeServer

from bridge.secrets import Vault
from bridge.store import Store

HOLD_TTL = 2.0


@pytest.fixture(scope="session")
def scaled_env(tmp_path_factory, server_env, redis_server) -> dict[str, str]:
    db = tmp_path_factory.mktemp("bridge-scaled") / "bridge.db"
    return {
        **server_env,
        "BRIDGE_DATABASE": str(db),
        "BRIDGE_WORKERS": "2",
        "BRIDGE_REDIS_URL": redis_server.url,
        "BRIDGE_REDIS_PREFIX": f"scaled{uuid.uuid4().hex[:6]}",
        "BRIDGE_HOLD_TTL": str(HOLD_TTL),
    }


@pytest.fixture(scope="session")
def server(scaled_env) -> Iterator[BridgeServer]:
    srv = BridgeServer(scaled_env).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def store(scaled_env) -> Store:
    return Store(scaled_env["BRIDGE_DATABASE"], Vault(SECRET_KEY))


class Workers:
    """Reach one chosen worker: a keep-alive connection stays with the worker that took it."""

    def __init__(self, server: BridgeServer, env: dict[str, str]) -> None:
        self.server = server
        self.redis = redis.Redis.from_url(env["BRIDGE_REDIS_URL"], decode_responses=True)
        self.prefix = env["BRIDGE_REDIS_PREFIX"]

    def on(self, worker: str, tries: int = 200) -> requests.Session:
        """A session whose connection the given worker serves (checked just before use)."""
        for _ in range(tries):
            session = requests.Session()
            if session.get(self.server.url + "/healthz", timeout=5).json()["worker"] == worker:
                return session
            session.close()
        raise AssertionError(f"no connection reached worker {worker}")

    def all(self, tries: int = 200) -> list[str]:
        seen: set[str] = set()
        for _ in range(tries):
            with requests.Session() as session:
                seen.add(session.get(self.server.url + "/healthz", timeout=5).json()["worker"])
            if len(seen) == 2:
                return sorted(seen)
        raise AssertionError(f"only {seen} answered")

    def holder(self, device_id: str) -> str | None:
        return self.redis.get(f"{self.prefix}:dev:{device_id}")

    def other(self, worker: str) -> str:
        return next(w for w in self.all() if w != worker)


@pytest.fixture
def workers(server, scaled_env) -> Workers:
    return Workers(server, scaled_env)
