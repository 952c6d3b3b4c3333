"""Tmall Genie pushes through the Taobao Open Platform: reports, late results, list updates."""

import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import GENIE_DEADLINE
from fakes.taobao import SKILL_ID
from genie_helpers import CONTROL, QUERY, v1, v2
from servers import eventually, in_time, past_event_limit, queued_for

REPORT = "alibaba.ailabs.iot.cloud.device.report"
NOTIFY = "alibaba.ailabs.iot.device.control.notify"
LIST = "alibaba.ailabs.iot.device.list.update.notify"


def reports(device_id, report_type=1):
    return lambda c: (
        c["method"] == REPORT
        and c["cloud_report_param"]["device_id"] == device_id
        and c["cloud_report_param"]["report_type"] == report_type
    )


def test_physical_change_is_reported_in_the_users_protocol(
    genie, taobao, token, pair, account, connect
):
    genie.send(
        v2("thing.attribute.get", token, [pair[0].id], namespace="AliGenie.Iot.Device.Query")
    )
    online = connect(account, [pair[0]])
    online.client.send_event(pair[0].id, "setBrightness", {"brightness": 45})
    [call] = taobao.wait_for(reports(pair[0].id))
    param = call["cloud_report_param"]
    assert param["payload"] == {"brightness": 45}  # v2: numbers
    assert param["user_access_token"] == token and param["payload_version"] == 2
    assert str(param["skill_id"]) == SKILL_ID and param["account_type"] == 1


def test_v1_users_get_strings_and_no_echo(
    genie, taobao, token, pair, account, connect, admin_send, store
):
    connect(account, [pair[0]])
    genie.send(v1(CONTROL, "TurnOn", token, pair[0].id))  # Tmall Genie caused this one
    assert admin_send(pair[0].id, "setBrightness", {"brightness": 12}).ok  # the sentinel
    [call] = taobao.wait_for(reports(pair[0].id))
    assert call["cloud_report_param"]["payload"] == {"brightness": "12"}
    assert queued_for(store, "tmallgenie", pair[0].id) == ["setBrightness"]


def test_slow_device_answers_late_and_is_reported(genie, taobao, token, pair, account, connect):
    connect(account, [pair[0]], delay=GENIE_DEADLINE + 0.3)
    started = time.monotonic()
    body = v1(CONTROL, "TurnOn", token, pair[0].id)
    answer = genie.send(body)
    assert time.monotonic() - started < GENIE_DEADLINE + 0.25
    assert answer["header"]["name"] == "TurnOnResponse"  # accepted; the result follows
    [notify] = taobao.wait_for(
        lambda c: (
            c["method"] == NOTIFY
            and c["notify_control_params"]["payload"]["device_id"] == pair[0].id
        )
    )
    params = notify["notify_control_params"]
    assert params["payload"]["error_code"] == "SUCCESS"
    assert params["header"]["name"] == "TurnOnResponse"
    assert params["header"]["message_id"] == body["header"]["messageId"]
    assert {"name": "powerstate", "value": "on"} in params["properties"]
    [state] = taobao.wait_for(reports(pair[0].id))
    assert state["cloud_report_param"]["payload"]["powerstate"] == "on"


def test_device_that_never_answers_is_notified_as_offline(
    genie, taobao, token, pair, account, connect
):
    connect(account, [pair[0]], delay=5)
    genie.send(v2("thing.attribute.set", token, [pair[0].id], {"powerstate": 1}))
    [notify] = taobao.wait_for(
        lambda c: (
            c["method"] == NOTIFY
            and c["notify_control_params"]["payload"]["device_id"] == pair[0].id
        )
    )
    assert notify["notify_control_params"]["payload"]["error_code"] == "IOT_DEVICE_OFFLINE"
    assert notify["notify_control_params"]["header"]["name"] == "ErrorResponse"


def test_device_list_changes_notify(genie, taobao, token, pair, server_env, account):
    genie.send(v1(QUERY, "Query", token, pair[0].id))  # the bridge now knows the token
    bridge = str(Path(sys.executable).with_name("bridge"))
    env = {**os.environ, **server_env}
    subprocess.run(
        [bridge, "device", "create", account.user.name, "--type", "switch", "--name", "开关"],
        env=env,
        check=True,
        capture_output=True,
        timeout=30,
    )
    [call] = taobao.wait_for(lambda c: c["method"] == LIST and c["token"] == token)
    assert call["skill_id"] == SKILL_ID and call["type"] == "1"


def test_top_errors_retry_then_dead_letter(genie, taobao, token, pair, account, connect, store):
    genie.send(v1(QUERY, "Query", token, pair[0].id))
    online = connect(account, [pair[0]])
    assert taobao.wait_for(reports(pair[0].id, report_type=2))  # before scripting
    taobao.script[:] = [
        {"error_response": {"code": 7, "msg": "App Call Limited"}},
        {
            "error_response": {
                "code": 41,
                "msg": "Invalid arguments",
                "sub_code": "isv.invalid-parameter",
            }
        },
    ]
    online.client.send_event(pair[0].id, "setBrightness", {"brightness": 77})

    def outcomes():
        return [
            (m["outcome"], m["detail"])
            for m in sorted(store.messages.query(device_id=pair[0].id, kind="report"), key=in_time)
            if m["origin"] == "tmallgenie"
            and m["action"] != "connectivity"
            and m["outcome"] != "coalesced"
        ]

    history = eventually(lambda: len(outcomes()) == 2 and outcomes(), timeout=15)
    assert [o for o, _ in history] == ["retry", "dead-letter"], history
    assert "App Call Limited" in history[0][1] and "isv.invalid-parameter" in history[1][1]


def test_the_fake_gateway_refuses_what_top_would():
    from datetime import datetime

    from fakes.taobao import APP_KEY, APP_SECRET, check

    from adapters.tmallgenie.top import CHINA, sign

    params = {
        "method": LIST,
        "app_key": APP_KEY,
        "format": "json",
        "v": "2.0",
        "sign_method": "hmac-sha256",
        "token": "t",
        "skill_id": SKILL_ID,
        "type": "1",
        "timestamp": datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
    }
    assert check({**params, "sign": sign(params, APP_SECRET)}) is None
    assert check({**params, "sign": sign(params, "another secret")}) == "invalid signature"
    tampered = {**params, "sign": sign(params, APP_SECRET), "token": "other"}
    assert check(tampered) == "invalid signature"


def test_online_and_offline_are_reported(genie, taobao, token, pair, account, connect):
    genie.send(v1(QUERY, "Query", token, pair[0].id))
    online = connect(account, [pair[0]])
    [up] = taobao.wait_for(reports(pair[0].id, report_type=2))
    assert up["cloud_report_param"]["payload"] == {"onlinestate": "online"}
    online.client.stop()
    assert taobao.wait_for(
        lambda c: (
            reports(pair[0].id, report_type=2)(c)
            and c["cloud_report_param"]["payload"]["onlinestate"] == "offline"
        )
    )


def test_a_state_said_again_unchanged_is_no_event_for_tmall_genie(
    genie, taobao, token, pair, account, connect
):
    genie.send(
        v2("thing.attribute.get", token, [pair[1].id], namespace="AliGenie.Iot.Device.Query")
    )
    online = connect(account, [pair[1]])
    online.client.send_event(pair[1].id, "setPowerState", {"state": "On"})
    assert taobao.wait_for(reports(pair[1].id))  # the change: a property report
    past_event_limit()
    online.client.send_event(pair[1].id, "setPowerState", {"state": "On"})  # unchanged
    past_event_limit()
    online.client.send_event(pair[1].id, "setPowerState", {"state": "Off"})  # the sentinel
    taobao.wait_for(
        lambda c: reports(pair[1].id)(c) and c["cloud_report_param"]["payload"] == {"powerstate": 0}
    )
    assert not [c for c in taobao.calls if reports(pair[1].id, report_type=3)(c)]
