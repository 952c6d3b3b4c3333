"""The composed Sigfox samples, answered as their `expected_response` says."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from servers import eventually

from bridge.cli import main

GOLDEN = Path(__file__).resolve().parents[3] / "golden" / "sigfox"


def sample(name: str) -> dict:
    return json.loads((GOLDEN / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def samples_device(server, server_env, store):
    """The samples' device (1A2B3C): a plug whose first bit is its power state."""

    def cli(*args: str) -> dict:
        result = CliRunner().invoke(main, list(args), env=server_env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    owner, _ = store.users.create("samples-" + uuid.uuid4().hex[:8], "password-for-samples")
    made = cli(
        "sigfox", "type", "create", "samples-" + uuid.uuid4().hex[:8],
        "--uplink", "powerState::bool:0", "--downlink", "powerState::bool:0",
        "--catalog-type", "plug",
    )  # fmt: skip
    sigfox_id = sample("uplink")["request"]["body"]["device"]
    device = cli(
        "device", "create", owner.name, "--type", "plug", "--name", "Sample plug",
        "--transport", "sigfox", "--sigfox-id", sigfox_id, "--sigfox-type", made["name"],
    )  # fmt: skip
    return {"id": device["id"], "secret": made["secret"]}


def replay(server, name: str, secret: str) -> requests.Response:
    """The sample's request, with this bridge's secret for the type's (the sample's is made up)."""
    request = sample(name)["request"]
    headers = {k: v for k, v in request["headers"].items() if k != "Authorization"}
    headers["Authorization"] = f"Bearer {secret}"
    return requests.request(
        request["method"],
        server.url + request["path"],
        params=request.get("query"),
        json=request.get("body"),
        headers=headers,
        timeout=10,
    )


def expect(reply: requests.Response, name: str) -> None:
    expected = sample(name)["expected_response"]
    assert reply.status_code == expected["status"], reply.text
    assert reply.elapsed.total_seconds() < expected["within_seconds"]
    for key, value in expected.get("headers", {}).items():
        assert reply.headers[key].startswith(value)
    if expected["status"] == 204:
        assert reply.content == b""


def test_uplink_then_bidir_with_and_without_a_downlink(server, samples_device, store, admin_send):
    expect(replay(server, "uplink", samples_device["secret"]), "uplink")
    eventually(lambda: store.shadow.values(samples_device["id"]).get("powerState") == "On")
    accepted = admin_send(samples_device["id"], "setPowerState", {"state": "On"})
    assert accepted.status_code == 202
    reply = replay(server, "bidir_with_downlink", samples_device["secret"])
    expect(reply, "bidir_with_downlink")
    expected = sample("bidir_with_downlink")["expected_response"]["body"]
    assert reply.json().keys() == expected.keys()  # the device id, exactly as sent
    [body] = reply.json().values()
    assert len(body["downlinkData"]) == 16 and body["downlinkData"] == "0100000000000000"
    expect(replay(server, "bidir_no_downlink", samples_device["secret"]), "bidir_no_downlink")
    expect(replay(server, "service_acknowledge", samples_device["secret"]), "service_acknowledge")
    assert store.pending.get(accepted.json()["command"]).state == "delivered"


def test_status_and_the_keepalive_error(server, samples_device, store):
    expect(replay(server, "service_status", samples_device["secret"]), "service_status")
    effect = sample("service_status")["bridge_effect"]
    eventually(
        lambda: store.shadow.values(samples_device["id"]).get("battery") == effect["battery_volts"]
    )
    expect(replay(server, "error_keepalive", samples_device["secret"]), "error_keepalive")
    device = requests.get(f"{server.url}/admin/api/devices/{samples_device['id']}", timeout=5)
    assert device.json()["online"] is False  # keep-alive breached: unreachable
