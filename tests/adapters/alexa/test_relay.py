"""The Lambda relay and the webhook's shared secret."""

import importlib.util
from pathlib import Path

import pytest
from alexa_helpers import directive

from bridge import create_app

RELAY = Path(__file__).resolve().parents[3] / "adapters" / "alexa" / "lambda_relay.py"


@pytest.fixture
def guarded(tmp_path):
    settings = {"BRIDGE_ALEXA_RELAY_SECRET": "relay-s3cret"}
    app = create_app(
        {"database": str(tmp_path / "r.db"), "secret_key": "k", "plugin_settings": settings}
    )
    return app.test_client()


def test_webhook_refuses_calls_without_the_relay_secret(guarded):
    body = directive("Alexa.Discovery", "Discover", "some-token")
    assert guarded.post("/voice/alexa", json=body).status_code == 403
    wrong = guarded.post("/voice/alexa", json=body, headers={"X-Bridge-Relay-Secret": "nope"})
    assert wrong.status_code == 403
    right = guarded.post(
        "/voice/alexa", json=body, headers={"X-Bridge-Relay-Secret": "relay-s3cret"}
    )
    assert right.status_code == 200
    assert right.json["event"]["payload"]["type"] == "INVALID_AUTHORIZATION_CREDENTIAL"


def test_lambda_relay_forwards_directives_with_secret_and_region(server, monkeypatch, token, light):
    spec = importlib.util.spec_from_file_location("lambda_relay", RELAY)
    relay = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(relay)
    monkeypatch.setenv("BRIDGE_URL", server.url)
    monkeypatch.setenv("BRIDGE_RELAY_SECRET", "")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    reply = relay.handler(directive("Alexa.Discovery", "Discover", token))
    assert [e["endpointId"] for e in reply["event"]["payload"]["endpoints"]] == [light.id]
    assert "import requests" not in RELAY.read_text()  # dependency-free on purpose


@pytest.fixture
def relay(monkeypatch):
    spec = importlib.util.spec_from_file_location("lambda_relay_under_test", RELAY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("BRIDGE_RELAY_SECRET", "")
    monkeypatch.setenv("BRIDGE_RELAY_TIMEOUT", "0.5")
    return module


def _check(reply, error, sent):
    from fakes.amazon import schema_errors

    assert schema_errors(reply) == []
    assert reply["event"]["payload"]["type"] == error
    assert (
        reply["event"]["header"]["correlationToken"]
        == sent["directive"]["header"]["correlationToken"]
    )
    assert reply["event"]["endpoint"]["endpointId"] == sent["directive"]["endpoint"]["endpointId"]


def test_an_unreachable_bridge_is_an_alexa_error_not_a_lambda_failure(relay, monkeypatch):
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("BRIDGE_URL", f"http://127.0.0.1:{port}")
    sent = directive("Alexa.PowerController", "TurnOn", "t", "a" * 24)
    _check(relay.handler(sent), "BRIDGE_UNREACHABLE", sent)


def test_a_bridge_that_never_answers_is_endpoint_unreachable_in_time(relay, monkeypatch):
    import socket
    import time

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts, never answers
        monkeypatch.setenv("BRIDGE_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
        sent = directive("Alexa.PowerController", "TurnOn", "t", "a" * 24)
        started = time.monotonic()
        reply = relay.handler(sent)
    assert time.monotonic() - started < 3  # the timeout (0.5 s here, 7.5 s deployed)
    _check(reply, "ENDPOINT_UNREACHABLE", sent)
