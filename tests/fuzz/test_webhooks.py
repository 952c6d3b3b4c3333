"""Every voice webhook, fuzzed: mutated directives, random JSON and raw bytes."""

from __future__ import annotations

import json

import pytest
import requests
from alexa_helpers import directive
from fuzz_harness import PROFILE, Watch, bodies, fingerprint
from genie_helpers import CONTROL, DISCOVERY, QUERY, v1, v2
from google_helpers import execute as google_execute
from google_helpers import intent as google_intent
from google_helpers import query as google_query
from hypothesis import given
from xiaodu_helpers import request as dueros

JSON = {"Content-Type": "application/json"}


def _answer(reply: requests.Response) -> dict | None:
    try:
        doc = reply.json()
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def alexa_verdict(doc: dict) -> tuple[bool, bool]:
    """(in Alexa's format, refused)."""
    header = doc.get("event", {}).get("header", {})
    return isinstance(header.get("name"), str), header.get("name") == "ErrorResponse"


def xiaodu_verdict(doc: dict) -> tuple[bool, bool]:
    name = doc.get("header", {}).get("name")
    return isinstance(name, str) and isinstance(doc.get("payload"), dict), str(name).endswith(
        "Error"
    )


GENIE_REFUSALS = {"INVALIDATE_PARAMS", "DEVICE_NOT_SUPPORT_FUNCTION", "ACCESS_TOKEN_INVALIDATE"}


def genie_verdict(doc: dict) -> tuple[bool, bool]:
    header, payload = doc.get("header", {}), doc.get("payload")
    in_format = isinstance(header.get("name"), str) and isinstance(payload, dict)
    refused = header.get("name") == "ErrorResponse" and payload.get("errorCode") in GENIE_REFUSALS
    return in_format, refused


def tuya_verdict(doc: dict) -> tuple[bool, bool]:
    """Tuya calls no webhook: whatever comes is refused in Tuya's envelope."""
    return doc.get("success") is False and isinstance(doc.get("code"), int), True


def google_verdict(doc: dict) -> tuple[bool, bool]:
    """Google's envelope (or DISCONNECT's empty object); a whole-request errorCode refuses."""
    payload = doc.get("payload")
    if doc == {}:
        return True, False
    refused = isinstance(payload, dict) and "errorCode" in payload
    return isinstance(doc.get("requestId"), str) and isinstance(payload, dict), refused


def seeds(adapter: str, token: str, light: str, stat: str) -> list[dict]:
    if adapter == "google":
        on = {"command": "OnOff", "params": {"on": True}}
        setpoint = {
            "command": "ThermostatTemperatureSetpoint",
            "params": {"thermostatTemperatureSetpoint": 21},
        }
        return [
            google_intent("SYNC"),
            google_query(light, stat),
            google_execute(([light, stat], [on]), ([stat], [setpoint])),
            google_execute(
                ([light], [{"command": "ColorAbsolute", "params": {"color": {"spectrumRGB": 255}}}])
            ),
            google_execute(([light], [{**on, "challenge": {"pin": "1234"}}])),
        ]
    if adapter == "alexa":
        return [
            directive("Alexa.PowerController", "TurnOn", token, light),
            directive(
                "Alexa.BrightnessController", "SetBrightness", token, light, {"brightness": 5}
            ),
            directive(
                "Alexa.ColorController",
                "SetColor",
                token,
                light,
                {"color": {"hue": 1, "saturation": 1, "brightness": 1}},
            ),
            directive(
                "Alexa.ThermostatController",
                "SetTargetTemperature",
                token,
                stat,
                {"targetSetpoint": {"value": 21, "scale": "CELSIUS"}},
            ),
            directive("Alexa", "ReportState", token, light),
            directive("Alexa.Discovery", "Discover", token),
        ]
    if adapter == "tuya":
        return [
            {"protocol": 1000, "pv": "2.0", "t": 1700000000000, "data": "AAAA", "sign": "x"},
            {"msg_id": "m1", "data": {"switch_led": {"value": True, "time": 1700000000000}}},
            {"device_id": light, "properties": '{"switch_led": true}'},
        ]
    if adapter == "xiaodu":
        control, query = "DuerOS.ConnectedHome.Control", "DuerOS.ConnectedHome.Query"
        return [
            dueros("DuerOS.ConnectedHome.Discovery", "DiscoverAppliancesRequest", token),
            dueros(control, "TurnOnRequest", token, light),
            dueros(
                control, "SetBrightnessPercentageRequest", token, light, brightness={"value": 5}
            ),
            dueros(control, "SetTemperatureRequest", token, stat, targetTemperature={"value": 21}),
            dueros(query, "GetTemperatureReadingRequest", token, stat),
            dueros(query, "ReportStateRequest", token, light),
        ]
    return [
        v1(DISCOVERY, "DiscoveryDevices", token),
        v1(CONTROL, "SetBrightness", token, light, "50"),
        v1(QUERY, "Query", token, light),
        v2("thing.attribute.set", token, [light, stat], {"powerstate": 1, "temperature": 21}),
        v2("thing.attribute.get", token, [light], namespace=QUERY),
    ]


VERDICTS = {
    "alexa": alexa_verdict,
    "google": google_verdict,
    "xiaodu": xiaodu_verdict,
    "tmallgenie": genie_verdict,
    "tuya": tuya_verdict,
}


@pytest.mark.parametrize("adapter", sorted(VERDICTS))
def test_webhook_fuzz(adapter, server, store, account):
    light = store.devices.create(account.user.id, "light", "Fuzz light", "Lab")
    stat = store.devices.create(account.user.id, "thermostat", "Fuzz stat", "Lab")
    token = store.tokens.issue(account.user.id, adapter, 86400)
    url = f"{server.url}/voice/{adapter}"
    verdict = VERDICTS[adapter]
    headers = {**JSON, "Authorization": f"Bearer {token}"} if adapter == "google" else JSON
    watch = Watch(f"/voice/{adapter}", server, store)

    @PROFILE
    @given(body=bodies(*seeds(adapter, token, light.id, stat.id)))
    def run(body: bytes) -> None:
        before = fingerprint(store)
        reply = requests.post(url, data=body, headers=headers, timeout=15)
        doc = _answer(reply)
        in_format, refused = verdict(doc) if doc is not None else (False, True)
        watch.check(reply.status_code, in_format and reply.status_code < 500, refused, before, body)

    run()
    watch.finish()


def test_an_adapters_internal_error_is_the_last_resort(server, store, account):
    """An adapter that raises: the core answers with that adapter's `internal_error()`."""
    token = store.tokens.issue(account.user.id, "echo")
    reply = requests.post(
        server.url + "/voice/echo",
        data=json.dumps({"token": token, "op": "explode"}),
        headers=JSON,
        timeout=5,
    )
    assert reply.status_code == 500
    assert reply.json() == {"error": "internal error"}
