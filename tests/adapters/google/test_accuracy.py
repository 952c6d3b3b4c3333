"""State accuracy against the fake HomeGraph: a report Google took and lost is found by
reading HomeGraph back, and repaired, on a server that checks twice a second."""

import pytest
import requests
from conftest import SECRET_KEY
from google_helpers import Google, intent
from linking import CSRF
from servers import BridgeServer, eventually, past_event_limit

from bridge.client import DeviceClient
from bridge.simulator import attach
from bridge.store import Store
from bridge.store.secrets import Vault


@pytest.fixture(scope="module")
def checking(tmp_path_factory, server_env):
    env = {
        **server_env,
        "BRIDGE_DATABASE": str(tmp_path_factory.mktemp("accuracy") / "a.db"),
        "BRIDGE_REDIS_PREFIX": "accuracy",  # its own leader for the check
        "BRIDGE_ACCURACY_EVERY": "0.3",
        "BRIDGE_ACCURACY_GRACE": "1",
        "BRIDGE_GOOGLE_READBACK": "600",
    }
    srv = BridgeServer(env).start()
    yield srv
    srv.stop()


@pytest.fixture
def store(checking):
    opened = Store(checking.env["BRIDGE_DATABASE"], Vault(SECRET_KEY))
    yield opened
    opened.close()


def test_a_report_homegraph_lost_is_read_back_as_drift_and_sent_again(checking, store, google):
    user, secret = store.users.create("reader", "password-reader")
    light = store.devices.create(user.id, "light", "Hall light")
    token = store.tokens.issue(user.id, "google")
    agent = Google(checking.url).call(intent("SYNC"), token)["payload"]["agentUserId"]
    google.agents.add(agent)
    client = DeviceClient(checking.url, user.app_key, secret, [light.id])
    attach(client, [light], 0.0)
    client.start()
    try:
        assert client.connected.wait(10)
        client.send_event(light.id, "setBrightness", {"brightness": 40})
        eventually(lambda: google.graph.get(agent, {}).get(light.id, {}).get("brightness") == 40)
        past_event_limit()
        google.drop_every = 1  # HomeGraph answers 200 and keeps nothing
        client.send_event(light.id, "setBrightness", {"brightness": 70})
        eventually(lambda: google.dropped >= 1)
        google.drop_every = 0
        # Read back, found apart for longer than the grace, and resent: Google holds 70.
        eventually(lambda: google.graph[agent][light.id].get("brightness") == 70, timeout=20)
        assert google.queries and all(q["agentUserId"] == agent for q in google.queries)
        [repair, *_] = eventually(lambda: store.messages.query(device_id=light.id, kind="repair"))
        assert repair["origin"] == "google" and repair["outcome"] == "resent"
        assert (
            "Google held brightness 40 (read back), the device has brightness 70"
            in (repair["detail"])
        )
        metrics = requests.get(checking.url + "/metrics", timeout=10).text
        assert 'bridge_state_accuracy{platform="google"}' in metrics
        # The owner's console: Google's accuracy against its target, agreeing again.
        browser = requests.Session()
        page = browser.get(checking.url + "/console/login", timeout=10)
        signed = browser.post(
            checking.url + "/oauth/login?next=/console",
            data={
                "csrf_token": CSRF.search(page.text).group(1),
                "username": "reader",
                "password": "password-reader",
            },
            allow_redirects=False,
            timeout=10,
        )
        assert signed.status_code == 303
        home = browser.get(checking.url + "/console", timeout=10).text
        assert "state accuracy 100.0% of" in home and "(at least 99.5%)" in home
    finally:
        google.drop_every = 0
        client.stop()
