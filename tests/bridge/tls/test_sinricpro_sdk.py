"""Devices made with the public Sinric Pro SDK work unchanged over wss."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from conftest import ADMIN_TOKEN

SCRIPT = Path(__file__).parents[2] / "sdk" / "sinric_light.py"


@pytest.fixture
def sdk_light(tls_server, account, light):
    env = {
        **os.environ,
        "SSL_CERT_FILE": str(tls_server.ca),
        "BRIDGE_TEST_PORT": str(tls_server.port),
        "BRIDGE_TEST_DEVICE": light.id,
        "BRIDGE_TEST_APP_KEY": account.app_key,
        "BRIDGE_TEST_APP_SECRET": account.secret,
    }
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield proc
    proc.kill()
    proc.wait()


def admin(tls_server, path, **kw):
    return requests.request(
        "POST" if "json" in kw else "GET",
        tls_server.url + path,
        verify=str(tls_server.ca),
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Forwarded-For": "198.51.100.7"},
        timeout=15,
        **kw,
    )


def wait_until(check, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_sinric_sdk_light_is_controlled_through_the_bridge(tls_server, sdk_light, light, store):
    wait_until(lambda: admin(tls_server, f"/admin/api/devices/{light.id}").json()["online"])
    reply = admin(
        tls_server,
        "/admin/api/send",
        json={"device": light.id, "action": "setPowerState", "value": {"state": "On"}},
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["success"] is True and reply.json()["value"] == {"state": "On"}
    assert wait_until(lambda: store.shadow.get(light.id).get("powerState"))["value"] == "On"
    # The SDK's own signed event arrives and is accepted.
    wait_until(lambda: store.shadow.get(light.id).get("brightness"))
    assert store.shadow.get(light.id)["brightness"]["value"] == 77
    reply = admin(
        tls_server,
        "/admin/api/send",
        json={"device": light.id, "action": "setBrightness", "value": {"brightness": 30}},
    )
    assert reply.json()["value"] == {"brightness": 30}
    sdk_light.kill()
    output = sdk_light.communicate()[0]
    assert "power On" in output and "brightness 30" in output
    assert "Invalid message signature" not in output
    assert store.messages.query(user_id=light.user_id, kind="rejection") == []


def test_admin_token_opens_the_admin_api_behind_a_proxy(tls_server, light):
    assert admin(tls_server, f"/admin/api/devices/{light.id}").status_code == 200
    denied = requests.get(
        tls_server.url + f"/admin/api/devices/{light.id}",
        verify=str(tls_server.ca),
        timeout=5,
        headers={"Authorization": "Bearer wrong", "X-Forwarded-For": "x"},
    )
    assert denied.status_code == 403
