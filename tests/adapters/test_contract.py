"""The adapter contract: a plugin found by entry point, mounted, driven end to end."""

import pytest
import requests
from servers import eventually

from bridge import create_app
from bridge.http import webhooks
from bridge.plugin import Adapter


def test_the_test_plugin_is_discovered_by_entry_point():
    found = webhooks.discover()
    assert issubclass(found["echo"], Adapter)


def test_bridge_adapters_restricts_the_set(tmp_path):
    assert webhooks.discover(("other",)) == {}
    app = create_app({"database": str(tmp_path / "a.db"), "secret_key": "k", "adapters": ()})
    client = app.test_client()
    assert client.get("/").json["adapters"] == []
    reply = client.post("/voice/echo", json={})
    assert reply.status_code == 404
    assert reply.content_type == "application/problem+json"


def test_adapters_are_mounted_under_voice(tmp_path):
    app = create_app({"database": str(tmp_path / "a.db"), "secret_key": "k"})
    client = app.test_client()
    assert client.get("/").json["adapters"] == [
        "alexa",
        "echo",
        "google",
        "tmallgenie",
        "tuya",
        "xiaodu",
    ]
    json_body = {"content_type": "application/json"}
    assert client.post("/voice/echo", data=b"{oops", **json_body).json == {
        "error": "malformed",
        "message": "body is not a JSON object",
    }
    # Refused before the adapter runs, in the adapter's own format (the contract's default).
    wrong_type = client.post("/voice/echo", data=b"{}", content_type="text/plain")
    assert wrong_type.status_code == 415
    assert wrong_type.json == {
        "error": "bad_request",
        "message": "the body must be application/json",
    }


@pytest.fixture
def voice(server):
    def call(body):
        return requests.post(f"{server.url}/voice/echo", json=body, timeout=10)

    return call


def test_command_through_the_plugin_end_to_end(account, light, connect, voice, store):
    online = connect(account, [light])
    token = store.tokens.issue(account.user.id, "echo")
    listing = voice({"token": token, "op": "discover"}).json()
    assert listing["devices"] == [
        {
            "id": light.id,
            "type": "light",
            "name": "Kitchen light",
            "room": "Kitchen",
            "online": True,
            "state": {},
        }
    ]
    reply = voice(
        {
            "token": token,
            "op": "command",
            "device": light.id,
            "action": "setColor",
            "value": {"color": {"r": 9, "g": 8, "b": 7}},
        }
    )
    assert reply.json() == {"ok": True, "value": {"color": {"r": 9, "g": 8, "b": 7}}}
    assert online.virtual[light.id].state["color"] == {"r": 9, "g": 8, "b": 7}
    request = eventually(lambda: store.messages.query(device_id=light.id, kind="request"))[0]
    assert request["origin"] == "echo"


@pytest.mark.parametrize(
    "token, code",
    [(None, "missing_token"), ("nonsense", "invalid_token")],
)
def test_the_core_tells_the_adapter_why_a_token_fails(voice, token, code):
    reply = voice({"token": token, "op": "discover"})
    assert reply.status_code == 401 and reply.json()["error"] == code


def test_expired_token(voice, account, store):
    token = store.tokens.issue(account.user.id, "echo", ttl=-1)
    assert voice({"token": token, "op": "discover"}).json()["error"] == "expired_token"


def test_a_token_only_reaches_its_owners_devices(make_account, store, voice, connect):
    alice, bob = make_account(), make_account()
    lamp = store.devices.create(alice.user.id, "light", "Alice's lamp")
    connect(alice, [lamp])
    bob_token = store.tokens.issue(bob.user.id, "echo")
    assert voice({"token": bob_token, "op": "discover"}).json() == {"devices": []}
    foreign = voice(
        {
            "token": bob_token,
            "op": "command",
            "device": lamp.id,
            "action": "setPowerState",
            "value": {"state": "On"},
        }
    ).json()
    missing = voice(
        {
            "token": bob_token,
            "op": "command",
            "device": "0" * 24,
            "action": "setPowerState",
            "value": {"state": "On"},
        }
    ).json()
    assert foreign["error"] == missing["error"] == "no_such_device"
    assert foreign["message"].replace(lamp.id, "X") == missing["message"].replace("0" * 24, "X")
    assert store.messages.query(device_id=lamp.id, kind="request") == []


def test_offline_and_invalid_are_mapped_by_the_adapter(account, light, voice, store):
    token = store.tokens.issue(account.user.id, "echo")
    base = {"token": token, "op": "command", "device": light.id}
    assert (
        voice({**base, "action": "setPowerState", "value": {"state": "On"}}).json()["error"]
        == "offline"
    )
    assert (
        voice({**base, "action": "setPowerState", "value": {"state": 1}}).json()["error"]
        == "invalid"
    )


def test_an_adapter_sees_only_its_own_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("BRIDGE_ECHO_SOMETHING", "mine")
    monkeypatch.setenv("BRIDGE_ALEXA_CLIENT_SECRET", "not yours")
    monkeypatch.setenv("BRIDGE_SECRET_KEY", "never an adapter's")
    app = create_app({"database": str(tmp_path / "s.db")})
    echo = app.extensions["bridge"].adapters["echo"]
    assert echo.context.settings.something == "mine"
    assert not hasattr(echo.context.settings, "client_secret")
    assert echo.context.bridge.secret_key == "" and echo.context.bridge.plugin_settings == {}
    assert app.extensions["bridge"].settings.secret_key  # the core's own copy keeps it


def test_a_setting_that_does_not_parse_stops_the_bridge_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("BRIDGE_ALEXA_DEADLINE", "seven")
    with pytest.raises(SystemExit, match="BRIDGE_ALEXA_DEADLINE"):
        create_app({"database": str(tmp_path / "s.db")})


def test_an_adapter_serves_routes_of_its_own_as_a_transport_does(tmp_path):
    app = create_app({"database": str(tmp_path / "r.db")})
    assert app.test_client().get("/echo/ping").json == {"pong": "echo"}


def test_a_budget_that_bit_is_each_platforms_own_refusal():
    """Throttled, in every platform's terms: Alexa's and DuerOS's rate-limit errors (DuerOS
    names the limit a minute), Google's transient error, AliGenie's service error."""
    from adapters.alexa.errors import from_core as alexa
    from adapters.google.errors import from_core as google
    from adapters.tmallgenie.errors import from_core as genie
    from adapters.xiaodu.errors import from_core as xiaodu
    from bridge.model import Throttled

    exc = Throttled("throttled: 20 directives a second for this account", 0.5, 20.0)
    assert alexa(exc).error_type == "RATE_LIMIT_EXCEEDED"
    duer = xiaodu(exc, query=False)
    assert duer.code == "RateLimitExceededError"
    assert duer.details == {"errorInfo": {"rateLimit": 1200, "timeUnit": "MINUTE"}}
    assert google(exc).code == "transientError"
    assert (genie(exc).code, genie(exc).message) == ("SERVICE_ERROR", exc.message)
