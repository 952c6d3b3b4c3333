"""Settings the shared test server does not use: a PIN for unlocking, a relay secret, a
small quota. Each on an in-process bridge of its own."""

import pytest
from google_helpers import execute, intent

from bridge import create_app
from bridge.plugin import RetryLater


@pytest.fixture
def make_bridge(tmp_path, google):
    def make(**settings: str):
        values = {
            "BRIDGE_GOOGLE_SERVICE_ACCOUNT": str(google.key_file),
            "BRIDGE_GOOGLE_HOMEGRAPH_URL": google.base,
            **{f"BRIDGE_GOOGLE_{k.upper()}": v for k, v in settings.items()},
        }
        app = create_app(
            {"database": str(tmp_path / "g.db"), "secret_key": "k", "plugin_settings": values}
        )
        bridge = app.extensions["bridge"]
        user, _ = bridge.store.users.create("pin-user", "pw-pin-user-123")
        return app.test_client(), bridge, user, bridge.store.tokens.issue(user.id, "google")

    return make


def _unlock(client, token, lock_id, challenge=None) -> dict:
    execution = {"command": "LockUnlock", "params": {"lock": False}}
    if challenge is not None:
        execution["challenge"] = challenge
    reply = client.post(
        "/voice/google",
        json=execute(([lock_id], [execution])),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert reply.status_code == 200
    [result] = reply.json["payload"]["commands"]
    return result


def test_unlocking_with_a_pin(make_bridge):
    client, bridge, user, token = make_bridge(unlock_challenge="pin", unlock_pin="4321")
    lock = bridge.store.devices.create(user.id, "lock", "Front door")
    assert _unlock(client, token, lock.id)["challengeNeeded"] == {"type": "pinNeeded"}
    assert _unlock(client, token, lock.id, {"ack": True})["challengeNeeded"] == {
        "type": "pinNeeded"
    }
    wrong = _unlock(client, token, lock.id, {"pin": "0000"})
    assert wrong["errorCode"] == "challengeNeeded"
    assert wrong["challengeNeeded"] == {"type": "challengeFailedPinNeeded"}
    # The right PIN passes the challenge (the lock is offline here: that is what is left).
    assert _unlock(client, token, lock.id, {"pin": "4321"})["errorCode"] == "deviceOffline"
    for _ in range(3):
        _unlock(client, token, lock.id, {"pin": "1111"})
    # Five PINs said: the sixth, right or wrong, waits.
    assert _unlock(client, token, lock.id, {"pin": "4321"})["errorCode"] == "tooManyFailedAttempts"


def test_a_pin_challenge_without_a_pin_is_not_set_up(make_bridge):
    client, bridge, user, token = make_bridge(unlock_challenge="pin")
    lock = bridge.store.devices.create(user.id, "lock", "Front door")
    result = _unlock(client, token, lock.id, {"pin": ""})
    assert result["errorCode"] == "challengeFailedNotSetup"


def test_no_challenge_when_turned_off(make_bridge):
    client, bridge, user, token = make_bridge(unlock_challenge="none")
    lock = bridge.store.devices.create(user.id, "lock", "Front door")
    assert _unlock(client, token, lock.id)["errorCode"] == "deviceOffline"


def test_the_relay_secret_is_required_when_set(make_bridge):
    client, _, _, token = make_bridge(relay_secret="proxy-s3cret")
    auth = {"Authorization": f"Bearer {token}"}
    for headers in (auth, {**auth, "X-Bridge-Relay-Secret": "nope"}):
        reply = client.post("/voice/google", json=intent("SYNC"), headers=headers)
        assert reply.status_code == 403
        assert reply.json["payload"] == {"errorCode": "authFailure"}
    right = {**auth, "X-Bridge-Relay-Secret": "proxy-s3cret"}
    reply = client.post("/voice/google", json=intent("SYNC"), headers=right)
    assert reply.status_code == 200 and reply.json["payload"]["devices"] == []


def test_the_bridge_keeps_within_the_quota_itself(make_bridge, google):
    _, bridge, user, _ = make_bridge(quota="20")  # a burst of 2, then 18 a minute
    homegraph = bridge.adapters["google"].homegraph
    agent = bridge.adapters["google"].context.pseudonym(user)
    google.agents.add(agent)
    body = {"agentUserId": agent, "async": True}
    before = len(google.syncs)
    homegraph.call("requestSync", body)
    homegraph.call("requestSync", body)
    with pytest.raises(RetryLater) as refused:
        homegraph.call("requestSync", body)
    assert refused.value.throttled and 2 < refused.value.after <= 60 / 18 + 0.1
    assert len(google.syncs) == before + 2  # the third never left


def test_an_unreadable_key_retries_later(make_bridge, tmp_path):
    _, bridge, _, _ = make_bridge(service_account=str(tmp_path / "missing.json"))
    with pytest.raises(RetryLater, match="cannot be read"):
        bridge.adapters["google"].homegraph.token()
