"""An integrator's side of the REST API; every answer is checked against the OpenAPI document."""

from __future__ import annotations

import re

import pytest
import requests
from jsonschema import Draft202012Validator

from bridge.api.openapi import document

DOC = document()


def _schema_for(path: str, method: str, status: int) -> dict | None:
    for template, item in DOC["paths"].items():
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path):
            responses = item[method.lower()]["responses"]
            answer = responses.get(str(status))
            assert answer is not None, f"{method} {path} answered {status}, undocumented"
            return answer
    raise AssertionError(f"{path} is not in the OpenAPI document")


def conforms(reply: requests.Response) -> requests.Response:
    """The reply's status, content type and body are what the document promises."""
    path = reply.request.path_url.split("?")[0]
    answer = _schema_for(path, reply.request.method, reply.status_code)
    [(media, content)] = answer["content"].items()
    assert reply.headers["Content-Type"].startswith(media), (media, reply.headers)
    if media.endswith("json"):
        schema = {**content["schema"], "components": DOC["components"]}
        errors = list(Draft202012Validator(schema).iter_errors(reply.json()))
        assert errors == [], [e.message for e in errors]
    return reply


class Integrator:
    def __init__(self, base: str, key_id: str, secret: str) -> None:
        self.base, self.key_id, self.secret = base, key_id, secret
        self.token = ""

    def login(self) -> requests.Response:
        reply = conforms(
            requests.post(self.base + "/api/v1/token", auth=(self.key_id, self.secret), timeout=10)
        )
        if reply.ok:
            self.token = reply.json()["access_token"]
        return reply

    def call(self, method: str, path: str, **kw) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        return conforms(
            requests.request(
                method, self.base + "/api/v1" + path, headers=headers, timeout=15, **kw
            )
        )


@pytest.fixture
def integrator(server, store, account):
    def make(
        purpose: str = "inbound", products: tuple[str, ...] = ("light", "switch"), owner=None
    ) -> Integrator:
        key, secret = store.keys.create((owner or account).user.id, purpose, list(products))
        client = Integrator(server.url, key.id, secret)
        assert client.login().status_code == 200
        return client

    return make
