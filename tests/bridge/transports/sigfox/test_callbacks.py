"""Sigfox's callbacks against the real server: uplinks, BIDIR downlinks, ACK, ERROR, STATUS."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from servers import eventually
from sigfox_helpers import Plug, post

from bridge.cli import main


def test_an_uplink_is_a_device_event_and_a_retry_changes_nothing(plug, store, recorder):
    frame = {"time": int(time.time()), "data": "01", "seqNumber": 7}
    reply = post(plug, "uplink", **frame)
    assert reply.status_code == 200, reply.text
    eventually(lambda: store.shadow.values(plug.device_id).get("powerState") == "On")
    [report] = recorder.wait_for(lambda r: r["device"] == plug.device_id)
    assert report["properties"]["powerState"] == "On"
    again = post(plug, "uplink", **frame)  # Sigfox's retry of the same frame
    assert again.status_code == 200 and again.json() == {"duplicate": True}
    eventually(lambda: len(store.messages.query(device_id=plug.device_id, kind="event")) >= 1)
    assert len(store.messages.query(device_id=plug.device_id, kind="event")) == 1


@pytest.mark.parametrize(
    ("secret", "body", "status"),
    [
        ("wrong", {"time": 1, "data": "01"}, 401),
        (None, {"time": 1, "data": "0g"}, 400),  # not hex
        (None, {"time": 1, "data": "00" * 13}, 400),  # over 12 bytes
        (None, {"time": 1, "data": ""}, 400),  # shorter than the layout
        (None, {"time": "soon", "data": "01"}, 400),
    ],
)
def test_bad_callbacks_are_refused_and_change_nothing(plug, store, secret, body, status):
    reply = post(plug, "uplink", secret, **body)
    assert reply.status_code == status, reply.text
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert store.shadow.values(plug.device_id) == {}


def test_a_refused_frame_leaves_no_trace(plug, store):
    """Refused, then sent again right: not a duplicate of the refused one."""
    frame = {"time": int(time.time()), "seqNumber": 99}
    assert post(plug, "uplink", data="", **frame).status_code == 400
    assert post(plug, "uplink", data="01", **frame).json() == {"ok": True}


def test_an_unknown_device_is_404_only_with_a_valid_secret(plug):
    stranger = Plug(plug.device_id, "FFFFFFF", plug.secret, plug.callbacks)
    assert post(stranger, "uplink", time=1, data="01").status_code == 404
    assert post(stranger, "uplink", "guess", time=1, data="01").status_code == 401


def test_another_types_secret_finds_a_registered_device_no_more_than_a_free_id(
    cli, plug, make_account, store
):
    """With a valid secret of another type, a registered id and a free one answer alike,
    and the callback changes nothing."""
    other = cli(
        "sigfox", "type", "create", f"other-{random.getrandbits(32):08x}",
        "--uplink", "powerState::bool:0", "--catalog-type", "plug",
        "--owner", make_account().user.name,
    )  # fmt: skip
    registered = post(plug, "uplink", other["secret"], time=int(time.time()), data="01")
    free = post(Plug(plug.device_id, "FFFFFFF", other["secret"], plug.callbacks), "uplink", time=1)
    assert registered.status_code == free.status_code == 404
    assert registered.json()["title"] == free.json()["title"]
    assert store.shadow.values(plug.device_id) == {}


def test_an_accounts_sigfox_type_takes_only_that_accounts_devices(
    cli, account, make_account, server_env
):
    stranger = make_account()
    mine = cli(
        "sigfox", "type", "create", f"mine-{random.getrandbits(32):08x}",
        "--uplink", "powerState::bool:0", "--catalog-type", "plug",
        "--owner", account.user.name,
    )  # fmt: skip
    assert mine["owner"] == account.user.name
    refused = CliRunner().invoke(
        main,
        ["device", "create", stranger.user.name, "--type", "plug", "--name", "Not mine",
         "--transport", "sigfox", "--sigfox-id", f"{random.getrandbits(24):06X}",
         "--sigfox-type", mine["name"]],
        env=server_env,
    )  # fmt: skip
    assert refused.exit_code != 0 and "belongs to another account" in refused.output
    taken = cli(
        "device", "create", account.user.name, "--type", "plug", "--name", "Mine",
        "--transport", "sigfox", "--sigfox-id", f"{random.getrandbits(24):06X}",
        "--sigfox-type", mine["name"],
    )  # fmt: skip
    assert taken["transport"] == "sigfox"


def test_a_command_waits_for_the_bidir_uplink_and_the_ack_completes_it(plug, admin_send, store):
    accepted = admin_send(plug.device_id, "setPowerState", {"state": "On"})
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert body["outcome"] == "pending" and body["command"]
    assert store.pending.get(body["command"]).state == "pending"
    quiet = post(plug, "bidir", time=int(time.time()), data="00", seqNumber=1, ack=False)
    assert quiet.status_code == 204  # ack false: nothing is sent
    asks = post(plug, "bidir", time=int(time.time()) + 1, data="00", seqNumber=2, ack=True)
    assert asks.status_code == 200
    assert asks.json() == {plug.sigfox_id: {"downlinkData": "0100000000000000"}}
    assert store.pending.get(body["command"]).state == "sent"
    assert (
        post(plug, "bidir", time=int(time.time()) + 2, data="00", seqNumber=3, ack=True).status_code
        == 204
    )
    assert post(plug, "ack", time=int(time.time()), infoCode=0, downlinkAck=True).status_code == 200
    assert store.pending.get(body["command"]).state == "delivered"
    eventually(lambda: store.shadow.values(plug.device_id).get("powerState") == "On")


def test_a_newer_command_replaces_the_waiting_one_and_a_failed_ack_fails_it(
    plug, admin_send, store
):
    first = admin_send(plug.device_id, "setPowerState", {"state": "On"}).json()["command"]
    second = admin_send(plug.device_id, "setPowerState", {"state": "Off"}).json()["command"]
    assert store.pending.get(first).state == "replaced"
    asks = post(plug, "bidir", time=int(time.time()), data="01", seqNumber=10, ack=True)
    assert asks.json()[plug.sigfox_id]["downlinkData"] == "0000000000000000"
    post(plug, "ack", time=int(time.time()), infoCode=3)
    done = store.pending.get(second)
    assert done.state == "failed" and done.detail == "OVERRUN_ERROR"


def test_error_makes_it_unreachable_until_it_speaks(plug, admin_send, server):
    def online() -> bool:
        return requests.get(f"{server.url}/admin/api/devices/{plug.device_id}", timeout=5).json()[
            "online"
        ]

    assert online()
    assert (
        post(
            plug, "error", info="No message received since 2026-11-30", severity="ERROR"
        ).status_code
        == 200
    )
    assert not online()
    assert admin_send(plug.device_id, "setPowerState", {"state": "On"}).status_code == 409
    post(plug, "uplink", time=int(time.time()), data="00", seqNumber=20)
    assert online()


def test_an_error_callbacks_time_is_a_number_as_sigfox_documents_it(plug, admin_send, server):
    """Sigfox's templates send `"time": {time}` (a number); a quoted one is read too."""
    reply = post(plug, "error", time=int(time.time()), info="No message", severity="ERROR")
    assert reply.status_code == 200, reply.text
    online = requests.get(f"{server.url}/admin/api/devices/{plug.device_id}", timeout=5).json()
    assert online["online"] is False


def test_a_network_warning_is_history_not_unreachability(plug, server, store):
    """severity WARN (a base station down) says nothing of the device."""
    reply = post(plug, "error", time=int(time.time()), info="Base station down", severity="WARN")
    assert reply.status_code == 200, reply.text
    device = requests.get(f"{server.url}/admin/api/devices/{plug.device_id}", timeout=5).json()
    assert device["online"] is True
    eventually(  # the server writes its history behind
        lambda: (
            "sigfox error WARN: Base station down"
            in [row["detail"] for row in store.messages.query(device_id=plug.device_id)]
        )
    )


def test_status_by_get_with_the_token_in_the_query(plug, store):
    url = plug.callbacks["status"]
    query = {"device": plug.sigfox_id, "time": "1700086400", "temp": "21.5", "batt": "3.3"}
    assert requests.get(url, params=query, timeout=10).status_code == 401
    reply = requests.get(url, params={**query, "token": plug.secret}, timeout=10)
    assert reply.status_code == 200, reply.text
    eventually(lambda: store.shadow.values(plug.device_id).get("battery") == 3.3)
    assert store.shadow.values(plug.device_id)["deviceTemperature"] == 21.5


def test_a_codec_plugin_replaces_the_grammar(cli, account, server, admin_send, store):
    """An odd device (its power bit inverted), read and written by a codec plugin."""
    made = cli(
        "sigfox",
        "type",
        "create",
        f"inv-{plug_suffix()}",
        "--codec",
        "inverted",
        "--catalog-type",
        "plug",
    )
    sigfox_id = f"{random.getrandbits(24):06X}"
    device = cli(
        "device", "create", account.user.name, "--type", "plug", "--name", "Odd plug",
        "--transport", "sigfox", "--sigfox-id", sigfox_id, "--sigfox-type", made["name"],
    )  # fmt: skip
    callbacks = {
        k: v.replace("http://127.0.0.1:8000", server.url) for k, v in made["callbacks"].items()
    }
    odd = Plug(device["id"], sigfox_id, made["secret"], callbacks)
    assert post(odd, "uplink", time=int(time.time()), data="00", seqNumber=1).status_code == 200
    eventually(lambda: store.shadow.values(odd.device_id).get("powerState") == "On")
    assert admin_send(odd.device_id, "setPowerState", {"state": "On"}).status_code == 202
    asks = post(odd, "bidir", time=int(time.time()) + 1, data="00", seqNumber=2, ack=True)
    assert asks.json()[sigfox_id]["downlinkData"] == "0000000000000000"  # On is a 0 bit


def plug_suffix() -> str:
    return f"{random.getrandbits(32):08x}"


def test_sigfox_retries_a_lost_answer_and_the_bridge_applies_it_once(plug, store):
    """The bridge answered, the answer was lost: Sigfox retries 1 and then 2 minutes later."""
    import json as json_

    from fakes.sigfox import FakeSigfoxBackend

    sample = json_.loads(
        (Path(__file__).resolve().parents[3] / "golden" / "sigfox" / "uplink.json").read_text()
    )
    backend = FakeSigfoxBackend(plug.callbacks["uplink"].split("/device-clouds")[0], plug.secret)
    backend.lose_answers = 2
    variables = {
        "device": plug.sigfox_id, "time": int(time.time()), "data": "01", "seqNumber": 77,
        "deviceTypeId": "5f3a1b2c4d5e6f7a8b9c0d1e", "station": "0D2F", "rssi": -121.5, "snr": 8.2,
    }  # fmt: skip
    assert backend.emit(sample["callback"], variables) is None  # lost
    backend.advance(59)
    assert len(backend.attempts) == 1  # not yet: the first retry is a minute later
    backend.advance(1)
    assert [s for _, s in backend.attempts] == [None, None]  # the retry's answer lost too
    backend.advance(120)
    assert [s for _, s in backend.attempts] == [None, None, 200] and backend.waiting == 0
    assert [t for t, _ in backend.attempts] == [0, 60, 180]
    eventually(lambda: store.shadow.values(plug.device_id).get("powerState") == "On")
    events = store.messages.query(device_id=plug.device_id, kind="event")
    assert len(events) == 1  # three deliveries of one frame, applied once


def test_a_deleted_device_is_unknown_to_its_callbacks(plug, server_env, admin_send, store):
    from click.testing import CliRunner

    from bridge.cli import main

    command = admin_send(plug.device_id, "setPowerState", {"state": "On"}).json()["command"]
    deleted = CliRunner().invoke(main, ["device", "delete", plug.device_id], env=server_env)
    assert deleted.exit_code == 0, deleted.output
    reply = post(plug, "uplink", time=int(time.time()), data="01", seqNumber=1)
    assert reply.status_code == 404 and reply.headers["Content-Type"] == "application/problem+json"
    assert store.pending.get(command).state == "failed"


def test_quoted_numbers_from_a_text_template_are_read(plug, store):
    """Sigfox fills a body template by text: a quoted {batt} arrives as a JSON string."""
    reply = post(plug, "status", time="1700086400", temp="21.5", batt="3.1")
    assert reply.status_code == 200, reply.text
    eventually(lambda: store.shadow.values(plug.device_id).get("battery") == 3.1)
    assert post(plug, "uplink", time="soon", data="01").status_code == 400  # text, not a number
