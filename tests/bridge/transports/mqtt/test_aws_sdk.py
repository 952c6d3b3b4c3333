"""AWS's own Python device SDK, unchanged, as a shadow thing on the bridge's broker.

It does what AWS documents and nothing of this project's conventions: client id =
thing name, the certificates of the batch zip, state reported to the shadow topics,
no `connection_status` and no Last Will. The bridge must take it as it is.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
import requests
from AWSIoTPythonSDK.MQTTLib import AWSIoTMQTTShadowClient
from servers import eventually


class SdkThing:
    """A shadow handler of the SDK; calls wait for their callback."""

    def __init__(self, broker, creds) -> None:
        self.client = AWSIoTMQTTShadowClient(creds.thing)  # client id = thing name
        self.client.configureEndpoint("127.0.0.1", broker.port)
        self.client.configureCredentials(str(creds.ca), str(creds.key), str(creds.cert))
        self.client.configureConnectDisconnectTimeout(10)
        self.client.configureMQTTOperationTimeout(5)
        self.deltas: list[dict] = []
        self.handler = None
        self.thing = creds.thing

    def connect(self) -> SdkThing:
        assert self.client.connect()
        self.handler = self.client.createShadowHandlerWithName(self.thing, True)
        self.handler.shadowRegisterDeltaCallback(self._on_delta)
        return self

    def _on_delta(self, payload: str, status: str, token: str) -> None:
        delta = json.loads(payload)
        self.deltas.append(delta)
        self.call("shadowUpdate", json.dumps({"state": {"reported": delta["state"]}}))

    def call(self, name: str, *args) -> tuple[str, dict]:
        """One shadow request: (responseStatus, payload), as the SDK's callback got them."""
        done = threading.Event()
        got: dict = {}

        def callback(payload: str, status: str, token: str) -> None:
            got["status"], got["payload"] = status, payload
            done.set()

        getattr(self.handler, name)(*args, callback, 5)
        assert done.wait(10), f"{name}: no callback"
        body = json.loads(got["payload"]) if got["payload"].strip().startswith("{") else {}
        return got["status"], body

    def disconnect(self) -> None:
        self.client.disconnect()


@pytest.fixture
def sdk_thing(fleet, account) -> Iterator[SdkThing]:
    [creds] = fleet.make(account)
    thing = SdkThing(fleet.broker, creds).connect()
    yield thing
    thing.disconnect()


def online(server, thing: str) -> bool:
    url = f"{server.url}/admin/api/devices/{thing}"
    return requests.get(url, timeout=5).json()["online"]


def test_the_aws_sdk_thing_is_online_takes_commands_and_deletes_its_shadow(
    server, sdk_thing, admin_send, store
):
    assert not online(server, sdk_thing.thing)  # connected, but has said nothing yet
    status, accepted = sdk_thing.call(
        "shadowUpdate", json.dumps({"state": {"reported": {"powerState": "Off"}}})
    )
    assert status == "accepted" and accepted["version"] >= 1
    eventually(lambda: online(server, sdk_thing.thing))  # it spoke: it is connected
    reply = admin_send(sdk_thing.thing, "setPowerState", {"state": "On"})
    assert reply.status_code == 200, reply.text
    assert sdk_thing.deltas[-1]["state"] == {"powerState": "On"}
    status, got = sdk_thing.call("shadowGet")
    assert status == "accepted" and got["state"]["reported"]["powerState"] == "On"
    status, deleted = sdk_thing.call("shadowDelete")
    assert status == "accepted" and deleted["version"] == got["version"]
    status, none = sdk_thing.call("shadowDelete")
    assert status == "rejected" and none["code"] == 404
    status, none = sdk_thing.call("shadowGet")
    assert status == "rejected" and none["code"] == 404
    assert online(server, sdk_thing.thing)
