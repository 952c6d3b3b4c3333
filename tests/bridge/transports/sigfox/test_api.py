"""Device sync and missed-uplink recovery through Sigfox's REST API (a loopback fake)."""

from __future__ import annotations

import json
import random
import time
import uuid

import pytest
from click.testing import CliRunner
from fakes.sigfox import LOGIN, PASSWORD, FakeSigfoxApi
from servers import eventually

from bridge.cli import main


@pytest.fixture
def sigfox_api():
    fake = FakeSigfoxApi()
    yield fake
    fake.close()


@pytest.fixture
def api_cli(server_env, sigfox_api):
    env = {
        **server_env,
        "BRIDGE_SIGFOX_API_URL": sigfox_api.url,
        "BRIDGE_SIGFOX_API_LOGIN": LOGIN,
        "BRIDGE_SIGFOX_API_PASSWORD": PASSWORD,
    }

    def run(*args: str, ok: bool = True) -> dict | str:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        if not ok:
            assert result.exit_code != 0
            return result.output
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    return run


def make_type(api_cli) -> tuple[str, str]:
    name, type_id = f"t-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex[:24]
    api_cli(
        "sigfox", "type", "create", name, "--catalog-type", "plug",
        "--uplink", "powerState::bool:0", "--sigfox-type-id", type_id,
    )  # fmt: skip
    return name, type_id


def test_sync_registers_what_sigfox_lists_and_the_bridge_lacks(api_cli, sigfox_api, account, store):
    name, type_id = make_type(api_cli)
    ids = [f"{random.getrandbits(28):07X}" for _ in range(3)]
    sigfox_api.devices[type_id] = [{"id": i, "name": f"Plug {n}"} for n, i in enumerate(ids)]
    first = api_cli("sigfox", "sync", "--type", name, "--user", account.user.name)
    assert sorted(d["sigfox_id"] for d in first["added"]) == sorted(ids) and first["known"] == 0
    assert any("offset=2" in c for c in sigfox_api.calls)  # the second page was followed
    again = api_cli("sigfox", "sync", "--type", name, "--user", account.user.name)
    assert again == {"added": [], "known": 3}
    device = store.devices.get(first["added"][0]["id"])
    assert device.transport == "sigfox" and device.user_id == account.user.id


def test_recovery_applies_missed_uplinks_in_order_once(api_cli, sigfox_api, account, store):
    name, type_id = make_type(api_cli)
    sigfox_id = f"{random.getrandbits(28):07X}"
    sigfox_api.devices[type_id] = [{"id": sigfox_id, "name": "Heater"}]
    [added] = api_cli("sigfox", "sync", "--type", name, "--user", account.user.name)["added"]
    now_ms = int(time.time() * 1000)
    sigfox_api.messages[sigfox_id] = [
        {"device": {"id": sigfox_id}, "time": now_ms - 3000, "data": "01", "seqNumber": 1},
        {"device": {"id": sigfox_id}, "time": now_ms - 1000, "data": "00", "seqNumber": 3},
        {"device": {"id": sigfox_id}, "time": now_ms - 2000, "data": "01", "seqNumber": 2},
    ]
    first = api_cli("sigfox", "recover", "--type", name)
    assert first == {"applied": {sigfox_id: 3}}
    eventually(lambda: store.shadow.values(added["id"]).get("powerState") == "Off")  # the newest
    again = api_cli("sigfox", "recover", "--type", name)
    assert again == {"applied": {sigfox_id: 0}}  # seen frames are not applied twice
    events = store.messages.query(device_id=added["id"], kind="event")
    assert len(events) == 3


def test_wrong_api_credentials_fail_with_one_line(api_cli, server_env, sigfox_api, account):
    name, _ = make_type(api_cli)
    env = {
        **server_env,
        "BRIDGE_SIGFOX_API_URL": sigfox_api.url,
        "BRIDGE_SIGFOX_API_LOGIN": "someone",
        "BRIDGE_SIGFOX_API_PASSWORD": "wrong",
    }
    args = ["sigfox", "sync", "--type", name, "--user", account.user.name]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 1
    assert "answered 401" in result.output and result.output.strip().count("\n") == 0
