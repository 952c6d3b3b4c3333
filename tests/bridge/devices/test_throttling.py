"""Budgets an account's callers spend, on a bridge of their own: directives per linked
account on a platform, commands per device. Past either the caller hears its own refusal
(Alexa's RATE_LIMIT_EXCEEDED, the API's 429 with Retry-After), other accounts and devices
do not notice, and the journey that met it says why."""

from __future__ import annotations

import pytest
import requests
from alexa_helpers import Alexa, directive, error_type
from conftest import SECRET_KEY
from servers import BridgeServer, eventually

from bridge.store import Store
from bridge.store.secrets import Vault


@pytest.fixture(scope="module")
def budgeted(tmp_path_factory, server_env):
    """A directive per account every 5 s (a burst of three), a command per device every 5 s
    (a burst of two): slow enough that no token comes back while a test runs, on the
    slowest machine; on the scaled set-up both workers spend from one bucket."""
    db = tmp_path_factory.mktemp("budgets") / "b.db"
    env = {
        **server_env,
        "BRIDGE_DATABASE": str(db),
        "BRIDGE_DIRECTIVE_RATE": "0.2",
        "BRIDGE_DIRECTIVE_BURST": "3",
        "BRIDGE_COMMAND_RATE": "0.2",
        "BRIDGE_COMMAND_BURST": "2",
    }
    srv = BridgeServer(env).start()
    yield srv
    srv.stop()


@pytest.fixture
def store(budgeted):
    opened = Store(budgeted.env["BRIDGE_DATABASE"], Vault(SECRET_KEY))
    yield opened
    opened.close()


def discover(token: str) -> dict:
    return directive("Alexa.Discovery", "Discover", token, None)


def api_token(server, store, user_id: int) -> str:
    key, secret = store.keys.create(user_id, "inbound", ["light"])
    reply = requests.post(server.url + "/api/v1/token", auth=(key.id, secret), timeout=10)
    return reply.json()["access_token"]


def test_an_accounts_directives_past_its_budget_hear_alexas_rate_limit(budgeted, store):
    alice, _ = store.users.create("alice", "password1")
    bob, _ = store.users.create("bob", "password1")
    alexa = Alexa(budgeted.url)
    token = store.tokens.issue(alice.id, "alexa")
    answers = [alexa.send(discover(token)) for _ in range(4)]  # each schema-checked
    names = [a["event"]["header"]["name"] for a in answers]
    assert names[:3] == ["Discover.Response"] * 3
    assert error_type(answers[3]) == "RATE_LIMIT_EXCEEDED"
    other = alexa.send(discover(store.tokens.issue(bob.id, "alexa")))
    assert other["event"]["header"]["name"] == "Discover.Response"  # its own budget

    def throttled() -> list[dict]:
        store.writer.flush()
        rows = store.messages.query(user_id=alice.id, kind="event")
        return [r for r in rows if r["outcome"] == "throttled"]

    [row] = eventually(throttled)
    assert row["detail"] == "0.2 directives a second for this account"

    def webhooks() -> int:
        store.writer.flush()
        return len(store.messages.query(user_id=alice.id, kind="webhook"))

    written = eventually(lambda: webhooks() == 4 and 4)  # three served, the flood's first
    for _ in range(3):  # the flood goes on: each refused, counted, and no row
        assert error_type(alexa.send(discover(token))) == "RATE_LIMIT_EXCEEDED"
    other = alexa.send(discover(store.tokens.issue(bob.id, "alexa")))  # a row, written after
    eventually(lambda: len(store.messages.query(user_id=bob.id, kind="webhook")) == 2)
    assert webhooks() == written
    bearer = {"Authorization": f"Bearer {api_token(budgeted, store, alice.id)}"}
    reply = requests.get(
        f"{budgeted.url}/api/v1/messages/{row['id']}/journey", headers=bearer, timeout=10
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["explanation"] == "throttled: 0.2 directives a second for this account"
    metrics = requests.get(budgeted.url + "/metrics", timeout=10).text
    assert 'bridge_budget_refused_total{budget="directives"}' in metrics


def test_commands_to_one_device_past_its_budget_are_429_and_other_devices_go_on(budgeted, store):
    carol, _ = store.users.create("carol", "password1")
    lamp = store.devices.create(carol.id, "light", "Lamp")
    other = store.devices.create(carol.id, "light", "Other lamp")
    bearer = {"Authorization": f"Bearer {api_token(budgeted, store, carol.id)}"}

    def command(device_id: str) -> requests.Response:
        body = {"action": "setPowerState", "value": {"state": "On"}}
        url = f"{budgeted.url}/api/v1/devices/{device_id}/commands"
        return requests.post(url, json=body, headers=bearer, timeout=15)

    statuses = [command(lamp.id).status_code for _ in range(2)]
    assert statuses == [409, 409]  # offline, but spent
    refused = command(lamp.id)
    assert refused.status_code == 429, refused.text
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert refused.json()["title"] == "throttled"
    assert refused.json()["detail"] == "throttled: 0.2 commands a second for this device"
    assert int(refused.headers["Retry-After"]) >= 1
    assert command(other.id).status_code == 409  # its own budget
