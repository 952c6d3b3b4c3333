"""Alexa as a caller: directives to /voice/alexa, every reply checked against the schema."""

from __future__ import annotations

import uuid

import requests
from fakes.amazon import schema_errors


def directive(
    namespace: str,
    name: str,
    token: str | None,
    endpoint_id: str | None = None,
    payload: dict | None = None,
    instance: str | None = None,
) -> dict:
    header = {
        "namespace": namespace,
        "name": name,
        "payloadVersion": "3",
        "messageId": str(uuid.uuid4()),
        "correlationToken": "corr-" + uuid.uuid4().hex,
    }
    if instance:
        header["instance"] = instance
    body: dict = {"header": header, "payload": payload or {}}
    if endpoint_id is not None:
        body["endpoint"] = {
            "scope": {"type": "BearerToken", "token": token},
            "endpointId": endpoint_id,
            "cookie": {},
        }
    elif token is not None:
        body["payload"] = {**body["payload"], "scope": {"type": "BearerToken", "token": token}}
    return {"directive": body}


class Alexa:
    def __init__(self, base: str, verify: str | bool = True) -> None:
        self.url = base + "/voice/alexa"
        self.verify = verify

    def send(self, body: dict | bytes, headers: dict | None = None) -> dict:
        """Post a directive; assert the reply is a schema-valid event; return it."""
        if isinstance(body, bytes):
            reply = requests.post(
                self.url, data=body, headers=headers, timeout=15, verify=self.verify
            )
        else:
            reply = requests.post(
                self.url, json=body, headers=headers, timeout=15, verify=self.verify
            )
        assert reply.status_code == 200, reply.text
        event = reply.json()
        assert schema_errors(event) == [], (event, schema_errors(event))
        if isinstance(body, dict):
            sent = body["directive"]["header"]
            header = event["event"]["header"]
            assert header["messageId"] != sent["messageId"]
            if "correlationToken" in sent and header["name"] not in (
                "Discover.Response",
                "AcceptGrant.Response",
            ):
                assert header["correlationToken"] == sent["correlationToken"]
        return event


def error_type(event: dict) -> str:
    assert event["event"]["header"]["name"] == "ErrorResponse", event
    return event["event"]["payload"]["type"]


def prop(event: dict, namespace: str, name: str, instance: str | None = None):
    for p in event["context"]["properties"]:
        if (p["namespace"], p["name"], p.get("instance")) == (namespace, name, instance):
            return p["value"]
    raise AssertionError(f"no {namespace}.{name} in {event['context']['properties']}")


def accept_grant(alexa: Alexa, code: str, token: str, headers: dict | None = None) -> dict:
    """Alexa's AcceptGrant (no endpoint, no correlation token), as the user enables the skill."""
    body = directive(
        "Alexa.Authorization",
        "AcceptGrant",
        None,
        payload={
            "grant": {"type": "OAuth2.AuthorizationCode", "code": code},
            "grantee": {"type": "BearerToken", "token": token},
        },
    )
    del body["directive"]["header"]["correlationToken"]
    return alexa.send(body, headers)
