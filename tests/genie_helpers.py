"""Tmall Genie as a caller: directives to /voice/tmallgenie, from tests/golden samples."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

from servers import Webhook

SAMPLES = Path(__file__).resolve().parent / "golden" / "aligenie"
CONTROL = "AliGenie.Iot.Device.Control"
QUERY = "AliGenie.Iot.Device.Query"
DISCOVERY = "AliGenie.Iot.Device.Discovery"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def v1(
    namespace: str,
    name: str,
    token: str | None,
    device_id: str | None = None,
    value: str | None = None,
) -> dict:
    payload: dict = {"accessToken": token}
    if device_id:
        payload.update(deviceId=device_id, deviceType="light", extensions={})
    if value is not None:
        payload.update(attribute="x", value=value)
    return {
        "header": {
            "namespace": namespace,
            "name": name,
            "messageId": str(uuid.uuid4()),
            "payLoadVersion": 1,
        },
        "payload": payload,
    }


def v2(
    name: str,
    token: str,
    device_ids: list[str],
    params: dict | None = None,
    namespace: str = CONTROL,
) -> dict:
    payload = {"accessToken": token, "deviceIds": device_ids, "extensions": {}}
    if params is not None:
        payload["params"] = params
    return {
        "header": {
            "namespace": namespace,
            "name": name,
            "messageId": str(uuid.uuid4()),
            "payLoadVersion": 2,
        },
        "payload": payload,
    }


def from_sample(name: str, token: str | None, ids: dict[str, str]) -> dict:
    """A composed sample, speaking for a real user; sample device ids swapped for real ones."""
    text = json.dumps(sample(name))
    for old, new in ids.items():
        text = text.replace(old, new)
    body = json.loads(text)
    if token is not None:  # a request: make it speak for the test's user
        body["payload"]["accessToken"] = token
    return copy.deepcopy(body)


class Genie(Webhook):
    def __init__(self, base: str) -> None:
        super().__init__(base + "/voice/tmallgenie")

    def send(self, body: dict | bytes) -> dict:
        answer = self.post(body)
        if isinstance(body, dict):
            sent, got = body["header"], answer["header"]
            assert got["namespace"] == sent["namespace"]
            assert got["messageId"] == sent["messageId"]
            assert got["payLoadVersion"] == sent["payLoadVersion"]
        return answer


def error_code(answer: dict) -> str:
    assert answer["header"]["name"] == "ErrorResponse", answer
    return answer["payload"]["errorCode"]
