"""Signed calls to Tuya's OpenAPI against a fake that checks every signature."""

import pytest
import requests
from fakes.tuya import ACCESS_ID, ACCESS_SECRET

from adapters.tuya.openapi import OpenApi, TuyaError, canonical_url, sign, string_to_sign
from bridge.plugin import RetryLater

REGISTER = "/v1.0/iot-03/3rdcloud/devices/abc123/register"
BODY = {"device_name": "Desk lamp", "product_id": "prod-light-01"}


class Clock:
    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def api(fake_tuya, clock):
    return OpenApi(fake_tuya.base, ACCESS_ID, ACCESS_SECRET, requests.Session(), clock=clock)


def test_the_string_to_sign_sorts_the_query_and_hashes_the_body():
    url = canonical_url("/v1.0/token", {"grant_type": 1, "a": "x"})
    assert url == "/v1.0/token?a=x&grant_type=1"
    text = string_to_sign("get", b"", url)
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert text == f"GET\n{empty}\n\n/v1.0/token?a=x&grant_type=1"
    signed = sign("secret", "id", "1700000000000", "n", text, "tok")
    assert signed == signed.upper() and len(signed) == 64
    assert signed != sign("secret", "id", "1700000000000", "n", text)  # the token is signed


def test_a_call_gets_a_token_once_and_the_fake_accepts_its_signatures(api, fake_tuya):
    first = api.call("POST", REGISTER, BODY)
    again = api.call("POST", REGISTER, BODY)
    assert first["device_id"] == again["device_id"] == fake_tuya.by_bridge_id("abc123")["id"]
    assert fake_tuya.token_calls == 1 and fake_tuya.refused == []


def test_a_wrong_secret_is_refused_by_the_signature_check(fake_tuya, clock):
    wrong = OpenApi(fake_tuya.base, ACCESS_ID, "not-the-secret", requests.Session(), clock=clock)
    with pytest.raises(TuyaError) as refused:
        wrong.call("POST", REGISTER, BODY)
    assert refused.value.code == 1004
    assert fake_tuya.devices == {}


def test_the_token_is_refreshed_ahead_of_its_expiry(fake_tuya, clock):
    fake_tuya.token_ttl = 100
    api = OpenApi(fake_tuya.base, ACCESS_ID, ACCESS_SECRET, requests.Session(), clock=clock)
    api.call("POST", REGISTER, BODY)
    clock.now += 30  # 70 s left: kept
    api.call("POST", REGISTER, BODY)
    assert fake_tuya.token_calls == 1
    clock.now += 15  # 55 s left: refreshed (through the refresh token)
    api.call("POST", REGISTER, BODY)
    assert fake_tuya.token_calls == 2 and "ref-1" not in fake_tuya.refresh


def test_token_invalid_gets_a_new_token_and_one_more_try(api, fake_tuya):
    api.call("POST", REGISTER, BODY)
    fake_tuya.expire_tokens()  # Tuya forgot them (a restart, a revocation)
    assert api.call("POST", REGISTER, BODY)["device_id"]
    assert [r["code"] for r in fake_tuya.refused] == [1010]
    assert fake_tuya.token_calls == 2


def test_refusals_and_outages_are_told_apart(api, fake_tuya):
    with pytest.raises(TuyaError) as refused:
        api.call("POST", REGISTER, {"device_name": "no", "product_id": "prod-light-01"})
    assert refused.value.code == 1109
    fake_tuya.outage = True
    with pytest.raises(RetryLater):
        api.call("POST", REGISTER, BODY)
    nobody = OpenApi("http://127.0.0.1:9", ACCESS_ID, ACCESS_SECRET, requests.Session(), timeout=1)
    with pytest.raises(RetryLater):
        nobody.call("POST", REGISTER, BODY)
