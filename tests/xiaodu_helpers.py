"""DuerOS as a caller: directives to /voice/xiaodu, from the samples in tests/golden."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

from servers import Webhook

SAMPLES = Path(__file__).resolve().parent / "golden" / "dueros"
CONTROL = "DuerOS.ConnectedHome.Control"
QUERY = "DuerOS.ConnectedHome.Query"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def request(
    namespace: str, name: str, token: str | None, appliance_id: str | None = None, **extra
) -> dict:
    payload: dict = {"accessToken": token} if token is not None else {}
    if appliance_id is not None:
        payload["appliance"] = {"applianceId": appliance_id, "additionalApplianceDetails": {}}
    payload.update(extra)
    return {
        "header": {
            "namespace": namespace,
            "name": name,
            "messageId": uuid.uuid4().hex,
            "payloadVersion": "1",
        },
        "payload": payload,
    }


def from_sample(name: str, token: str, appliance_id: str | None = None) -> dict:
    """A composed sample request, made to speak for a real user and device."""
    body = copy.deepcopy(sample(name))
    body["payload"]["accessToken"] = token
    if appliance_id and "appliance" in body["payload"]:
        body["payload"]["appliance"]["applianceId"] = appliance_id
    return body


class DuerOS(Webhook):
    def __init__(self, base: str) -> None:
        super().__init__(base + "/voice/xiaodu")

    def send(self, body: dict | bytes) -> dict:
        answer = self.post(body)
        assert set(answer) == {"header", "payload"}
        assert answer["header"]["payloadVersion"] == "1"
        if isinstance(body, dict):
            assert answer["header"]["messageId"] == body["header"]["messageId"]
        return answer


def attributes(answer: dict) -> dict:
    return {a["name"]: a["value"] for a in answer["payload"]["attributes"]}


def same_shape(ours: dict, theirs: dict) -> None:
    """Our answer has the sample's envelope and the keys of each of its objects."""
    assert ours["header"]["namespace"] == theirs["header"]["namespace"]
    assert ours["header"]["name"] == theirs["header"]["name"]
    for attribute in ours["payload"].get("attributes", []):
        assert {"name", "value", "scale", "timestampOfSample", "uncertaintyInMilliseconds"} <= set(
            attribute
        )
