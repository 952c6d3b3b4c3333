"""Devices made with the public Sinric Pro SDK work unchanged over wss."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from alexa_helpers import Alexa, directive, prop
from conftest import ADMIN_TOKEN
from servers import eventually, in_time

SCRIPT = Path(__file__).parents[2] / "sdk" / "sinric_light.py"


def sdk_device(server, account, script: Path, **devices: str) -> subprocess.Popen:
    """An SDK script run against the test server with the account's keys; `devices` are
    its device ids, as BRIDGE_TEST_<NAME> variables."""
    env = {
        **os.environ,
        "SSL_CERT_FILE": str(server.ca),
        "BRIDGE_TEST_PORT": str(server.port),
        "BRIDGE_TEST_APP_KEY": account.app_key,
        "BRIDGE_TEST_APP_SECRET": account.secret,
        **{f"BRIDGE_TEST_{name.upper()}": device_id for name, device_id in devices.items()},
    }
    return subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def sdk_light(server, account, light):
    proc = sdk_device(server, account, SCRIPT, device=light.id)
    yield proc
    proc.kill()
    proc.wait()


def admin(server, path, **kw):
    return requests.request(
        "POST" if "json" in kw else "GET",
        server.url + path,
        verify=str(server.ca),
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Forwarded-For": "198.51.100.7"},
        timeout=15,
        **kw,
    )


def send(server, device_id: str, action: str, value: dict) -> dict:
    """A command through the admin API; the bridge's answer (an HTTP 200, asserted)."""
    reply = admin(
        server,
        "/admin/api/send",
        json={"device": device_id, "action": action, "value": value},
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def wait_until(check, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_sinric_sdk_light_is_controlled_through_the_bridge(server, sdk_light, light, store):
    wait_until(lambda: admin(server, f"/admin/api/devices/{light.id}").json()["online"])
    answer = send(server, light.id, "setPowerState", {"state": "On"})
    assert answer["success"] is True and answer["value"] == {"state": "On"}
    assert wait_until(lambda: store.shadow.get(light.id).get("powerState"))["value"] == "On"
    # The SDK's own signed event arrives and is accepted.
    wait_until(lambda: store.shadow.get(light.id).get("brightness"))
    assert store.shadow.get(light.id)["brightness"]["value"] == 77
    assert send(server, light.id, "setBrightness", {"brightness": 30})["value"] == {
        "brightness": 30
    }
    sdk_light.kill()
    output = sdk_light.communicate()[0]
    assert "power On" in output and "brightness 30" in output
    assert "Invalid message signature" not in output
    assert store.messages.query(user_id=light.user_id, kind="rejection") == []


def test_admin_token_opens_the_admin_api_behind_a_proxy(server, light):
    assert admin(server, f"/admin/api/devices/{light.id}").status_code == 200
    denied = requests.get(
        server.url + f"/admin/api/devices/{light.id}",
        verify=str(server.ca),
        timeout=5,
        headers={"Authorization": "Bearer wrong", "X-Forwarded-For": "x"},
    )
    assert denied.status_code == 403


def test_every_alexa_light_directive_reaches_an_sdk_light(server, sdk_light, light, store):
    """Amazon's light directives, on firmware with only the absolute setters.

    The relative ones (AdjustBrightness, Increase/DecreaseColorTemperature)
    become absolute from the shadow; a tone not yet known is taken as the middle
    of the light's range, and an off light counts its brightness from 0 (Amazon's
    BrightnessController test plan: +25 ends at 25 and ON, -25 stays OFF).
    """
    alexa = Alexa(server.url, verify=str(server.ca))
    token = store.tokens.issue(light.user_id, "alexa")
    wait_until(lambda: admin(server, f"/admin/api/devices/{light.id}").json()["online"])

    def send(namespace, name, payload=None):
        return alexa.send(directive(namespace, name, token, light.id, payload))

    def answered(namespace, name, payload, reads):
        event = send(namespace, name, payload)
        assert event["event"]["header"]["name"] == "Response", event
        return prop(event, namespace, reads)

    power, bright = "Alexa.PowerController", "Alexa.BrightnessController"
    white, kelvin = "Alexa.ColorTemperatureController", "colorTemperatureInKelvin"
    assert answered(white, "IncreaseColorTemperature", None, kelvin) == 5500  # from 4600 K
    assert answered(power, "TurnOn", None, "powerState") == "ON"
    wait_until(lambda: store.shadow.get(light.id).get("brightness"))  # the SDK's own event: 77
    red = {"hue": 0, "saturation": 1, "brightness": 1}
    script = [
        (bright, "SetBrightness", {"brightness": 40}, "brightness", 40),
        (bright, "AdjustBrightness", {"brightnessDelta": 25}, "brightness", 65),
        (bright, "AdjustBrightness", {"brightnessDelta": -100}, "brightness", 0),
        ("Alexa.ColorController", "SetColor", {"color": red}, "color", red),
        (white, "SetColorTemperature", {kelvin: 2700}, kelvin, 2700),
        *[(white, "IncreaseColorTemperature", None, kelvin, k) for k in (4000, 5500, 7000, 7000)],
        *[(white, "DecreaseColorTemperature", None, kelvin, k) for k in (5500, 4000, 2700, 2200)],
        (white, "DecreaseColorTemperature", None, kelvin, 2200),
    ]
    for namespace, name, payload, reads, expected in script:
        assert answered(namespace, name, payload, reads) == expected, (name, payload)
    state = send("Alexa", "ReportState")
    assert state["event"]["header"]["name"] == "StateReport"
    assert prop(state, white, kelvin) == 2200 and prop(state, bright, "brightness") == 0
    assert answered(power, "TurnOff", None, "powerState") == "OFF"
    dimmed = send(bright, "AdjustBrightness", {"brightnessDelta": -25})
    assert prop(dimmed, power, "powerState") == "OFF"  # nothing sent: it stays off
    raised = send(bright, "AdjustBrightness", {"brightnessDelta": 25})
    assert prop(raised, bright, "brightness") == 25 and prop(raised, power, "powerState") == "ON"
    sdk_light.kill()
    said = sdk_light.communicate()[0].splitlines()
    heard = {"brightness", "colorTemperature", "color"}
    assert [line for line in said if line.partition(" ")[0] in heard] == [
        "colorTemperature 5500",
        "brightness 40",
        "brightness 65",
        "brightness 0",
        "color 255 0 0",
        *[f"colorTemperature {k}" for k in (2700, 4000, 5500, 7000, 7000)],
        *[f"colorTemperature {k}" for k in (5500, 4000, 2700, 2200, 2200)],
        "brightness 25",
    ]
    assert [line for line in said if line.startswith("power")] == [
        "power On",
        "power Off",
        "power On",
    ]

    def request_rows() -> list[dict]:
        return store.messages.query(device_id=light.id, kind="request")

    # The last webhook's rows are written with its reply, behind: wait for all four levels.
    eventually(lambda: [m["action"] for m in request_rows()].count("setBrightness") == 4)
    # In time order: with several workers, each writes its history behind on its own.
    rows = sorted(request_rows(), key=in_time)
    sent = [m["action"] for m in rows]
    assert sent[0] == "setColorTemperature"  # no tone known yet: counted from mid-range
    assert not {"adjustBrightness", "increaseColorTemperature"} & set(sent)
    assert sent.count("setColorTemperature") == 11
    # Dimmed up from off: the level, then "on" (as the light heard them), in one journey.
    level = next(m for m in reversed(rows) if m["action"] == "setBrightness")
    on = next(m for m in reversed(rows) if m["action"] == "setPowerState")
    assert level["journey"] and level["journey"] == on["journey"]
    assert said.index("brightness 25") < len(said) - 1 - said[::-1].index("power On")


def test_an_sdk_garage_door_and_power_meter_work_unchanged(server, account, store):
    door = store.devices.create(account.user.id, "garage_door", "Garage")
    meter = store.devices.create(account.user.id, "energy_meter", "Mains")
    script = SCRIPT.with_name("sinric_garage_and_meter.py")
    proc = sdk_device(server, account, script, door=door.id, meter=meter.id)
    try:
        wait_until(lambda: admin(server, f"/admin/api/devices/{door.id}").json()["online"])
        assert send(server, door.id, "setMode", {"mode": "Open"})["value"] == {"mode": "Open"}
        # The SDK's own reading: 230 V x 0.5 A, its first (no energy counted before it)
        power = wait_until(lambda: store.shadow.get(meter.id).get("power"))
        assert power["value"] == 115.0
        [reading] = wait_until(lambda: store.readings.between(meter.id, 0, time.time() + 60))
        assert (reading.power, reading.watt_hours, reading.start) == (115.0, 0.0, None)
    finally:
        proc.kill()
    output = proc.communicate()[0]
    assert "mode Open instance ''" in output and "reading sent True" in output
    assert store.messages.query(user_id=account.user.id, kind="rejection") == []
