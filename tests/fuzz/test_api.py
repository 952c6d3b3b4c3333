"""The REST API fuzzed from its own OpenAPI document (schemathesis), and the admin endpoint."""

from __future__ import annotations

import json

import pytest
import requests
import schemathesis
from fuzz_harness import PROFILE, Watch, bodies, fingerprint
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode

PROBLEM = "application/problem+json"


def content_type(reply) -> str:
    """requests' headers, or schemathesis' (lower-case names, a list of values each)."""
    for name, value in reply.headers.items():
        if name.lower() == "content-type":
            return value[0] if isinstance(value, list) else value
    return ""


def problem_or_json(reply) -> bool:
    kind = content_type(reply)
    if reply.status_code >= 400:
        return kind.startswith(PROBLEM) and isinstance(reply.json().get("status"), int)
    return kind.startswith(("application/json", "text/event-stream"))


@pytest.fixture
def api_key(server, store, account, light):
    key, secret = store.keys.create(account.user.id, "inbound", ["light"])
    reply = requests.post(server.url + "/api/v1/token", auth=(key.id, secret), timeout=5)
    return key, reply.json()["access_token"]


def _operations(server):
    schema = schemathesis.openapi.from_url(server.url + "/api/v1/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_rest_api_fuzz(mode, server, store, api_key):
    key, token = api_key
    watch = Watch(f"/api/v1 ({mode.value})", server, store)
    # The SSE stream is long-lived by design; tests/bridge/api covers it.
    operations = [op for op in _operations(server) if not op.path.endswith("/stream")]
    strategy = st.one_of(*(op.as_strategy(generation_mode=mode) for op in operations))
    auth = st.sampled_from(
        [{"Authorization": f"Bearer {token}"}, {}, {"Authorization": "Bearer x"}]
    )

    @PROFILE
    @given(case=strategy, headers=auth, own_key=st.booleans())
    def run(case, headers, own_key) -> None:
        before = fingerprint(store)
        if own_key and case.path_parameters and "key_id" in case.path_parameters:
            case.path_parameters["key_id"] = key.id
        reply = case.call(base_url=server.url, headers=headers, timeout=10)
        refused = reply.status_code >= 400
        answer = (reply.status_code, content_type(reply), reply.text[:200])
        watch.check(
            reply.status_code,
            problem_or_json(reply),
            refused,
            before,
            (case.as_curl_command(), answer),
        )

    run()
    watch.finish()


def test_admin_endpoint_fuzz(server, store, account, light):
    seed = {"device": light.id, "action": "setPowerState", "value": {"state": "On"}, "timeout": 1}
    watch = Watch("/admin/api/send", server, store)

    @PROFILE
    @given(body=bodies(seed))
    def run(body: bytes) -> None:
        before = fingerprint(store)
        reply = requests.post(
            server.url + "/admin/api/send",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=15,
        )
        watch.check(
            reply.status_code, problem_or_json(reply), reply.status_code >= 400, before, body
        )

    run()
    watch.finish()


def test_schema_is_valid_openapi(server):
    assert json.loads(requests.get(server.url + "/api/v1/openapi.json", timeout=5).text)["openapi"]
    assert len(_operations(server)) >= 6
