"""Login throttling and cookie settings, each against a server of its own where needed."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from linking import Platform
from servers import BridgeServer

FREE = 3


@pytest.fixture(scope="module")
def throttled(tmp_path_factory, server_env):
    """A bridge of its own: throttling by address must not slow the other tests."""
    db = tmp_path_factory.mktemp("throttle") / "t.db"
    env = {**server_env, "BRIDGE_DATABASE": str(db), "BRIDGE_LOGIN_FREE_FAILURES": str(FREE)}
    srv = BridgeServer(env).start()
    yield srv
    srv.stop()


@pytest.fixture
def throttled_platform(throttled, recorder):
    from conftest import SECRET_KEY

    from bridge.store import Store
    from bridge.store.secrets import Vault

    store = Store(throttled.env["BRIDGE_DATABASE"], Vault(SECRET_KEY))
    name = "u" + uuid.uuid4().hex[:8]
    store.users.create(name, "right-password")
    redirect = recorder.base + "/callback"
    client, secret = store.clients.create("T " + name, [redirect])
    yield Platform(throttled.url, client.client_id, secret, client.name, redirect), name, store
    store.close()


def test_repeated_failures_are_slowed_and_a_flood_leaves_no_rows(throttled_platform):
    platform, name, store = throttled_platform
    path = platform.authorize_path()
    statuses = [platform.login(path, name, "wrong-password").status_code for _ in range(FREE)]
    assert statuses == [401] * FREE
    slowed = platform.login(path, name, "right-password")
    assert slowed.status_code == 429 and "Too many failed attempts" in slowed.text
    assert "Location" not in slowed.headers  # even the right password waits
    for _ in range(30):  # an attacker keeps trying while turned away
        assert platform.login(path, name, "guess").status_code == 429
    rows = store.db.execute(
        "select success from login_attempts where name = ? order by id", [name]
    ).fetchall()
    assert [r[0] for r in rows] == [0] * FREE  # the checked passwords only


def _login_rush(platform, attempts):
    """Post many logins at once, each from its own browser session; their statuses."""
    from concurrent.futures import ThreadPoolExecutor

    path = platform.authorize_path()
    login = "/oauth/login?" + urlencode({"next": path})
    browsers = [Platform(**{**platform.__dict__, "session": requests.Session()}) for _ in attempts]
    pages = [b.get(path) for b in browsers]
    with ThreadPoolExecutor(len(browsers)) as pool:
        rush = [
            pool.submit(b.post_form, login, page, username=user, password=password)
            for b, page, (user, password) in zip(browsers, pages, attempts, strict=True)
        ]
        return [f.result().status_code for f in rush]


def test_concurrent_tries_on_one_account_count_each_other(throttled_platform):
    platform, name, _ = throttled_platform
    statuses = _login_rush(platform, [(name, f"guess-{i}") for i in range(40)])
    assert statuses.count(401) <= FREE  # only the free tries reach the password check
    assert statuses.count(429) >= 40 - FREE


def test_a_spray_from_one_address_is_slowed_even_between_own_successes(
    throttled_platform, throttled
):
    platform, own, store = throttled_platform
    victims = [f"v{uuid.uuid4().hex[:8]}" for _ in range(30)]
    for victim in victims:
        store.users.create(victim, "victim-password")
    path = platform.authorize_path()
    statuses = []
    for i, victim in enumerate(victims):
        if i % 5 == 0:  # the attacker signs into their own account now and then
            platform.session = requests.Session()
            platform.login(path, own, "right-password")
        platform.session = requests.Session()
        statuses.append(platform.login(path, victim, "guess").status_code)
    assert 429 in statuses  # the address is slowed down, own successes notwithstanding
    assert statuses.count(401) <= FREE * 4


def test_client_commands(server_env, store, account):
    bridge = str(Path(sys.executable).with_name("bridge"))
    env = {**os.environ, **server_env}

    def run(*args):
        return subprocess.run(
            [bridge, "client", *args], env=env, capture_output=True, text=True, timeout=30
        )

    name = "cli-" + uuid.uuid4().hex[:6]
    made = run(
        "create",
        name,
        "--redirect-uri",
        "https://a.example/cb",
        "--redirect-uri",
        "https://b.example/cb",
    )
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    client = store.clients.get(created["client_id"])
    assert client.redirect_uris == ("https://a.example/cb", "https://b.example/cb")
    assert created["client_secret"] not in str(
        store.db.execute("select * from oauth_clients").fetchall()
    )
    assert name in run("list").stdout and created["client_secret"] not in run("list").stdout
    assert (
        "must be https" in run("create", name + "x", "--redirect-uri", "http://a.example/").stderr
    )
    assert created["adapter"] == name  # by default, the client's name selects the adapter
    legacy = store.tokens.issue(account.user.id, name, client_id=created["client_id"])
    bound = run("bind", name, "--adapter", "echo")
    assert bound.returncode == 0 and "now serves echo" in bound.stdout
    assert store.clients.get(created["client_id"]).adapter == "echo"
    assert store.tokens.resolve(legacy, adapter="echo") == account.user  # its tokens follow
    assert run("delete", name).returncode == 0
    assert store.clients.get(created["client_id"]) is None


def test_password_hashing_does_not_stall_the_devices(
    platform, account, make_account, light, connect, admin_send
):
    """Each login costs ~100 ms of scrypt; on the event loop, sixteen would stall a command
    for all sixteen hashes. Off the loop, the command competes for the two cores with the
    hashing threads, so the bound is a few hashes' time, measured here, not a constant."""
    from concurrent.futures import ThreadPoolExecutor

    from bridge.store.secrets import hash_password

    started = time.process_time()
    hash_password("a password")
    one_hash = time.process_time() - started
    connect(account, [light])
    people = [make_account() for _ in range(16)]  # sixteen people signing in at once
    path = platform.authorize_path()
    login = "/oauth/login?" + urlencode({"next": path})
    browsers = [Platform(**{**platform.__dict__, "session": requests.Session()}) for _ in people]
    pages = [b.get(path) for b in browsers]  # every form is ready before the rush
    assert admin_send(light.id, "setPowerState", {"state": "On"}).ok
    with ThreadPoolExecutor(len(browsers)) as pool:
        rush = [
            pool.submit(b.post_form, login, page, username=p.user.name, password=p.password)
            for b, page, p in zip(browsers, pages, people, strict=True)
        ]
        time.sleep(0.05)  # the hashes are running now
        before = time.monotonic()
        assert admin_send(light.id, "setPowerState", {"state": "Off"}).ok
        latency = time.monotonic() - before
        assert [f.result().status_code for f in rush] == [303] * len(browsers)
    bound = max(0.3, 6 * one_hash)  # a stall would be at least 16 hashes
    assert latency < bound, f"a command waited {latency:.2f} s behind password hashing"
