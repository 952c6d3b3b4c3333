"""Fixtures: a real bridge under gunicorn, accounts, devices and device clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from fakes.amazon import CLIENT_ID, CLIENT_SECRET, FakeAmazon
from fakes.dueros import BOT_ID as DUEROS_BOT_ID
from fakes.dueros import FakeDuerOS
from fakes.google import FakeGoogle
from fakes.taobao import APP_KEY as TOP_APP_KEY
from fakes.taobao import APP_SECRET as TOP_APP_SECRET
from fakes.taobao import SKILL_ID as TOP_SKILL_ID
from fakes.taobao import FakeTaobao
from fakes.tuya import ACCESS_ID as TUYA_ACCESS_ID
from fakes.tuya import ACCESS_SECRET as TUYA_ACCESS_SECRET
from fakes.tuya import PRODUCTS as TUYA_PRODUCTS
from fakes.tuya import FakeTuya
from fakes.tuya_mq import FakeMessageService
from linking import Platform
from postgres import PostgresServer
from servers import STATE_EVENT_INTERVAL, BridgeServer, Recorder, RedisServer
from tls import make_ca_and_server_cert

from bridge.client import DeviceClient
from bridge.model import Device, User
from bridge.simulator import VirtualDevice, attach
from bridge.store import Store
from bridge.store.secrets import Vault

SECRET_KEY = "test-secret-key-not-for-production"
DEVICE_TIMEOUT = 1.0
ACCESS_TOKEN_TTL = 600  # expiry is tested by moving a store's clock, never by waiting
ADMIN_TOKEN = "admin-token-for-tests"
ALEXA_DEADLINE = 0.8
ATTRIBUTE_INTERVAL = 1.0
GENIE_DEADLINE = 0.4
SYNC_INTERVAL = 0.5


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    """One real Redis for the session; each user takes a prefix of its own."""
    try:
        server = RedisServer(tmp_path_factory.mktemp("redis"))
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One real PostgreSQL for the session; each user takes a database of its own."""
    try:
        server = PostgresServer()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    """A fresh database: a file, or a new database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "t.db")
    return request.getfixturevalue("postgres_server").database()


@pytest.fixture
def open_store(database) -> Iterator[Callable[[], Store]]:
    """Open the test's database (again: another worker or process on the same data)."""
    opened: list[Store] = []

    def open_() -> Store:
        opened.append(Store(database, Vault("k")))
        return opened[-1]

    yield open_
    for store in opened:
        store.close()


@pytest.fixture(scope="session")
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.close()


@pytest.fixture(scope="session")
def amazon() -> Iterator[FakeAmazon]:
    fake = FakeAmazon()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def dueros() -> Iterator[FakeDuerOS]:
    fake = FakeDuerOS()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def google(tmp_path_factory) -> Iterator[FakeGoogle]:
    fake = FakeGoogle(tmp_path_factory.mktemp("google"))
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def tuya() -> Iterator[FakeTuya]:
    fake = FakeTuya()
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def tuya_mq() -> Iterator[FakeMessageService]:
    fake = FakeMessageService(TUYA_ACCESS_ID, TUYA_ACCESS_SECRET)
    yield fake
    fake.close()


@pytest.fixture(scope="session")
def taobao() -> Iterator[FakeTaobao]:
    fake = FakeTaobao()
    yield fake
    fake.close()


SCALED = os.environ.get("BRIDGE_TEST_SCALED") == "1"
"""Run the end-to-end suite on the scaled set-up: two workers, Redis, PostgreSQL."""


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bridge")


def platform_env(
    amazon: FakeAmazon, dueros: FakeDuerOS, taobao: FakeTaobao, tuya: FakeTuya, google: FakeGoogle
) -> dict[str, str]:
    """The settings that point every platform adapter at its fake (also bench/accuracy.py's)."""
    return {
        "BRIDGE_TMALLGENIE_GATEWAY_URL": taobao.url,
        "BRIDGE_TMALLGENIE_APP_KEY": TOP_APP_KEY,
        "BRIDGE_TMALLGENIE_APP_SECRET": TOP_APP_SECRET,
        "BRIDGE_TMALLGENIE_SKILL_ID": TOP_SKILL_ID,
        "BRIDGE_TMALLGENIE_DEADLINE": str(GENIE_DEADLINE),
        "BRIDGE_GOOGLE_SERVICE_ACCOUNT": str(google.key_file),
        "BRIDGE_GOOGLE_HOMEGRAPH_URL": google.base,
        "BRIDGE_GOOGLE_DEADLINE": str(GENIE_DEADLINE),
        "BRIDGE_GOOGLE_SYNC_INTERVAL": str(SYNC_INTERVAL),
        "BRIDGE_TUYA_API_URL": tuya.base,
        "BRIDGE_TUYA_ACCESS_ID": TUYA_ACCESS_ID,
        "BRIDGE_TUYA_ACCESS_SECRET": TUYA_ACCESS_SECRET,
        **{f"BRIDGE_TUYA_PRODUCT_{t.upper()}": p for t, p in TUYA_PRODUCTS.items()},
        "BRIDGE_XIAODU_BOT_ID": DUEROS_BOT_ID,
        "BRIDGE_XIAODU_REPORT_URL": dueros.url,
        "BRIDGE_XIAODU_DEADLINE": str(ALEXA_DEADLINE),
        "BRIDGE_XIAODU_ATTRIBUTE_INTERVAL": str(ATTRIBUTE_INTERVAL),
        "BRIDGE_ALEXA_CLIENT_ID": CLIENT_ID,
        "BRIDGE_ALEXA_CLIENT_SECRET": CLIENT_SECRET,
        "BRIDGE_ALEXA_LWA_URL": amazon.lwa_url,
        "BRIDGE_ALEXA_GATEWAY_URL": amazon.gateway_url,
        "BRIDGE_ALEXA_DEADLINE": str(ALEXA_DEADLINE),
    }


@pytest.fixture(scope="session")
def server_env(
    request: pytest.FixtureRequest,
    server_logs: Path,
    recorder: Recorder,
    amazon: FakeAmazon,
    dueros: FakeDuerOS,
    taobao: FakeTaobao,
    tuya: FakeTuya,
    google: FakeGoogle,
) -> dict[str, str]:
    db: Path | str = server_logs / "bridge.db"
    scaled: dict[str, str] = {}
    if SCALED:
        db = request.getfixturevalue("postgres_server").database()
        scaled = {
            "BRIDGE_WORKERS": "2",
            "BRIDGE_REDIS_URL": request.getfixturevalue("redis_server").url,
            "BRIDGE_REDIS_PREFIX": "e2e",
        }
    return {
        **scaled,
        **platform_env(amazon, dueros, taobao, tuya, google),
        "BRIDGE_DATABASE": str(db),
        "BRIDGE_GRACEFUL_TIMEOUT": "1",
        "BRIDGE_SECRET_KEY": SECRET_KEY,
        "BRIDGE_DEVICE_TIMEOUT": str(DEVICE_TIMEOUT),
        "BRIDGE_ECHO_REPORT_URL": recorder.url,
        "BRIDGE_REPORT_RETRY_BASE": "0.2",
        "BRIDGE_TAKEOVER_GRACE": "0.5",
        "BRIDGE_BODY_TIMEOUT": "2",
        "BRIDGE_MAX_MESSAGE_BYTES": "16384",
        "BRIDGE_ACCESS_TOKEN_TTL": str(ACCESS_TOKEN_TTL),
        "BRIDGE_STATE_EVENT_INTERVAL": str(STATE_EVENT_INTERVAL),
        # Every test calls from 127.0.0.1: sampling would keep only the session's first
        # refusals of each kind (tests/bridge/store/test_sampling.py tests it).
        "BRIDGE_REFUSALS_KEPT": "1000000",
        "BRIDGE_DIRECTIVE_RATE": "0",  # budgets have tests of their own (a server each)
        "BRIDGE_COMMAND_RATE": "0",
        # Repairs and read-backs have a server of their own (tests/adapters/google/
        # test_accuracy.py): here they would add reports to other tests' counts.
        "BRIDGE_ACCURACY_GRACE": "86400",
        "BRIDGE_GOOGLE_READBACK": "0",
    }


@pytest.fixture(scope="session")
def server(
    server_env: dict[str, str], server_logs: Path, dueros: FakeDuerOS, tuya_mq: FakeMessageService
) -> Iterator[BridgeServer]:
    # Only this server consumes Tuya's messages (the others made from server_env do not).
    env = {**server_env, "BRIDGE_TUYA_MQ_URL": tuya_mq.url}
    srv = BridgeServer(env, logs=server_logs).start()
    dueros.bridge_url = srv.url
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def tls_env(tmp_path_factory, server_env: dict[str, str]) -> dict[str, str]:
    """A second bridge's settings: its own database (one database takes one server)."""
    db = tmp_path_factory.mktemp("bridge-tls") / "bridge.db"
    return {
        **server_env,
        "BRIDGE_DATABASE": str(db),
        "BRIDGE_ADMIN_TOKEN": ADMIN_TOKEN,
        "BRIDGE_REDIS_PREFIX": "tls",  # a bridge of its own, should it share the Redis
    }


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory, tls_env: dict[str, str]) -> Iterator[BridgeServer]:
    """The bridge over https/wss, with a test CA (`.ca`) and an admin token."""
    ca, cert, key = make_ca_and_server_cert(tmp_path_factory.mktemp("tls"))
    srv = BridgeServer(tls_env, tls=(cert, key))
    srv.ca = ca
    yield srv.start(verify=str(ca))
    srv.stop()


@pytest.fixture(scope="session")
def tls_store(tls_env: dict[str, str]) -> Store:
    return Store(tls_env["BRIDGE_DATABASE"], Vault(SECRET_KEY))


@pytest.fixture(scope="session")
def store(server_env: dict[str, str]) -> Store:
    """The server's own database, opened beside it (WAL allows both)."""
    return Store(server_env["BRIDGE_DATABASE"], Vault(SECRET_KEY))


@dataclass
class Account:
    user: User
    secret: str
    password: str

    @property
    def app_key(self) -> str:
        return self.user.app_key


@pytest.fixture
def make_account(store: Store) -> Callable[[], Account]:
    def make() -> Account:
        password = "pw-" + uuid.uuid4().hex
        user, secret = store.users.create("u" + uuid.uuid4().hex[:12], password)
        store.links("echo").put(user.id, {}, reports=True)  # the tests' platform hears them
        return Account(user, secret, password)

    return make


@pytest.fixture
def account(make_account: Callable[[], Account]) -> Account:
    return make_account()


@pytest.fixture
def light(store: Store, account: Account) -> Device:
    return store.devices.create(account.user.id, "light", "Kitchen light", "Kitchen")


@dataclass
class Online:
    """A connected device client with virtual devices behind it."""

    client: DeviceClient
    virtual: dict[str, VirtualDevice]


@pytest.fixture
def connect(server: BridgeServer) -> Iterator[Callable[..., Online]]:
    started: list[DeviceClient] = []

    def connect(
        account: Account, devices: list[Device], delay: float = 0.0, workers: int = 8
    ) -> Online:
        client = DeviceClient(
            server.url, account.app_key, account.secret, [d.id for d in devices], workers=workers
        )
        virtual = attach(client, devices, delay)
        started.append(client.start())
        assert client.connected.wait(10), "device did not connect"
        return Online(client, virtual)

    yield connect
    for client in started:
        client.stop()


@pytest.fixture
def admin_send(server: BridgeServer) -> Callable[..., requests.Response]:
    def send(device_id: str, action: str, value: dict | None = None, **extra) -> requests.Response:
        body = {"device": device_id, "action": action, "value": value or {}, **extra}
        return requests.post(server.url + "/admin/api/send", json=body, timeout=15)

    return send


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """test-output/<test name>/ for screenshots and other artefacts."""
    path = Path(__file__).resolve().parent.parent / "test-output" / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def make_platform(store, recorder):
    def make(base: str, adapter: str = "echo") -> Platform:
        name = "Platform " + uuid.uuid4().hex  # one session store: names never repeat
        redirect_uri = f"{recorder.base}/callback/{uuid.uuid4().hex[:8]}"
        client, secret = store.clients.create(name, [redirect_uri], adapter)
        return Platform(base, client.client_id, secret, name, redirect_uri)

    return make


@pytest.fixture
def platform(make_platform, server) -> Platform:
    return make_platform(server.url)


CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium (installed by .ci/run), driven by Playwright."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("BRIDGE_TEST_CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(
            f"no browser at {executable}: install Chromium (Debian: apt-get install chromium)"
            " or point BRIDGE_TEST_CHROMIUM at one",
            pytrace=False,
        )
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()
