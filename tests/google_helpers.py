"""Google as a caller: intents to /voice/google, from the samples in tests/golden/google."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import requests
from jsonschema import Draft7Validator

SAMPLES = Path(__file__).resolve().parent / "golden" / "google"
STATES = Draft7Validator(json.loads((SAMPLES / "states.schema.json").read_text()))
COMMAND = "action.devices.commands."


def sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def state_errors(state: dict) -> list[str]:
    """What in a device's state Google's trait reference does not allow."""
    return [e.message for e in STATES.iter_errors(state)][:3]


def intent(name: str, **payload) -> dict:
    body: dict = {"requestId": uuid.uuid4().hex, "inputs": [{"intent": f"action.devices.{name}"}]}
    if payload:
        body["inputs"][0]["payload"] = payload
    return body


def execute(*groups: tuple[list[str], list[dict]]) -> dict:
    """EXECUTE of (device ids, executions) groups; an execution is {command, params, ...}."""
    return intent(
        "EXECUTE",
        commands=[
            {
                "devices": [{"id": i} for i in ids],
                "execution": [{**e, "command": COMMAND + e["command"]} for e in executions],
            }
            for ids, executions in groups
        ],
    )


def query(*ids: str) -> dict:
    return intent("QUERY", devices=[{"id": i} for i in ids])


def from_sample(name: str, **ids: str) -> dict:
    """A composed sample request with its device ids ("123", "456") replaced."""
    text = json.dumps(sample(name))
    for placeholder, real in ids.items():
        text = text.replace(f'"{placeholder.removeprefix("_")}"', json.dumps(real))
    return copy.deepcopy(json.loads(text))


class Google:
    """Posts intents with a bearer token, as Google's fulfillment calls do."""

    def __init__(self, base: str) -> None:
        self.url = base + "/voice/google"

    def call(self, body: dict | bytes, token: str | None, status: int = 200, **headers) -> dict:
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
        reply = requests.post(self.url, data=data, headers=headers, timeout=15)
        assert reply.status_code == status, reply.text
        answer = reply.json()
        if isinstance(body, dict) and "payload" in answer:
            assert answer["requestId"] == body["requestId"]
        return answer

    def results(self, body: dict, token: str) -> dict[str, dict]:
        """EXECUTE's results by device id (one id per result, as the bridge answers)."""
        commands = self.call(body, token)["payload"]["commands"]
        out = {}
        for result in commands:
            [device_id] = result["ids"]
            if "states" in result:
                assert state_errors(result["states"]) == [], result
            out[device_id] = result
        return out

    def devices(self, body: dict, token: str) -> dict[str, dict]:
        """QUERY's devices, each state held to Google's schema."""
        found = self.call(body, token)["payload"]["devices"]
        for state in found.values():
            plain = {k: v for k, v in state.items() if k not in ("status", "errorCode")}
            assert state_errors(plain) == [], state
        return found
