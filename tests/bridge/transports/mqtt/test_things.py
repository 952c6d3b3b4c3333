"""MQTT things on a real Mosquitto: commands, refusals, events, the will, the ACL, revocation."""

from __future__ import annotations

import json
import ssl
import threading
import time

import paho.mqtt.client as mqtt
import requests
from alexa_helpers import Alexa, directive, prop
from servers import eventually

from bridge.thing_client import Refused
from bridge.transports.mqtt import topics
from bridge.transports.mqtt.pki import Authority, new_authority
from bridge.transports.mqtt.tables import ThingShadows


def online(server, device_id: str) -> bool:
    reply = requests.get(f"{server.url}/admin/api/devices/{device_id}", timeout=5)
    return reply.json()["online"]


def echo(delta: dict) -> dict:
    return dict(delta)


def raw_client(broker, creds=None, cert=None, key=None, client_id=None, settled=None):
    """A bare paho client (v5, so a refused publish is visible), connected or raising.

    `settled` is set once the broker said yes (CONNACK) or dropped the connection.
    """
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id or (creds.thing if creds else "nobody"),
        protocol=mqtt.MQTTv5,
    )
    ca = str(broker.directory / "ca.pem")
    if creds or cert:
        client.tls_set(ca_certs=ca, certfile=str(cert or creds.cert), keyfile=str(key or creds.key))
    else:
        client.tls_set(ca_certs=ca)
    if settled is not None:
        client.on_connect = lambda c, u, f, reason, p: settled.set()
        client.on_disconnect = lambda *args: settled.set()
    client.connect("127.0.0.1", broker.port, keepalive=10)
    client.loop_start()
    return client


def accepted(broker, **kw) -> bool:
    """Whether the broker lets this client in (a CONNACK of success within 3 s).

    With TLS 1.3 the broker checks the client's certificate after the
    client's handshake is done, so a refusal shows as a dropped connection.
    """
    settled = threading.Event()
    try:
        client = raw_client(broker, settled=settled, **kw)
    except (ssl.SSLError, OSError):
        return False
    try:
        settled.wait(5)
        return client.is_connected()
    finally:
        client.loop_stop()
        client.disconnect()


def test_a_command_reaches_a_thing_and_its_report_answers_it(
    server, fleet, account, admin_send, store
):
    [creds] = fleet.make(account)
    seen = []
    thing = fleet.run(creds, lambda d: seen.append(d) or dict(d), {"powerState": "Off"})
    eventually(lambda: online(server, creds.thing), timeout=10)
    reply = admin_send(creds.thing, "setPowerState", {"state": "On"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["value"] == {"state": "On"}
    assert seen == [{"powerState": "On"}]
    assert thing.deltas[0]["clientToken"] and thing.deltas[0]["version"] >= 2
    again = admin_send(creds.thing, "setPowerState", {"state": "On"})  # already so: no delta
    assert again.status_code == 200 and again.json()["value"] == {"state": "On"}
    assert len(thing.deltas) == 1
    shadow, _ = eventually(  # written behind
        lambda: (got := store.repository(ThingShadows).get(creds.thing)) and got[1] >= 3 and got
    )
    assert shadow["state"]["reported"]["powerState"] == "On"
    assert shadow["metadata"]["reported"]["powerState"]["timestamp"] > 0
    alexa = Alexa(server.url)
    token = store.tokens.issue(account.user.id, "alexa")
    answer = alexa.send(
        directive(
            "Alexa.BrightnessController", "SetBrightness", token, creds.thing, {"brightness": 42}
        )
    )
    assert answer["event"]["header"]["name"] == "Response"
    assert prop(answer, "Alexa.BrightnessController", "brightness") == 42


def test_refusal_silence_and_offline_in_the_platforms_terms(
    server, fleet, account, admin_send, store
):
    [creds] = fleet.make(account)

    def handler(delta):
        if "colorTemperature" in delta:
            raise Refused("this bulb has no white tuning")
        if "brightness" in delta:
            threading.Event().wait(1.5)  # answers after the deadline (1 s)
        return dict(delta)

    thing = fleet.run(creds, handler)
    eventually(lambda: online(server, creds.thing), timeout=10)
    refused = admin_send(creds.thing, "setColorTemperature", {"colorTemperature": 2700})
    assert (
        refused.status_code == 422 and refused.json()["detail"] == "this bulb has no white tuning"
    )
    started = time.monotonic()
    silent = admin_send(creds.thing, "setBrightness", {"brightness": 5})
    assert silent.status_code == 504 and time.monotonic() - started < 3
    # Its late answer lands before its goodbye (a message after a goodbye would say it is
    # connected again: with Mosquitto, what a thing says is all there is to go by).
    eventually(lambda: store.shadow.values(creds.thing).get("brightness") == 5)
    thing.stop()
    eventually(lambda: not online(server, creds.thing), timeout=10)
    started = time.monotonic()
    assert admin_send(creds.thing, "setPowerState", {"state": "On"}).status_code == 409
    assert time.monotonic() - started < 1  # offline is answered at once


def test_physical_changes_are_events_and_the_will_marks_it_offline(
    server, fleet, account, recorder, store
):
    [creds] = fleet.make(account)
    thing = fleet.run(creds, echo)
    eventually(lambda: online(server, creds.thing), timeout=10)
    observed = int(time.time() * 1000) - 30_000  # seen half a minute ago, sent now
    thing.report({"brightness": 61}, observed_ms=observed)
    [report] = recorder.wait_for(lambda r: r["device"] == creds.thing, timeout=10)
    assert report["properties"]["brightness"] == 61 and report["action"] == "setBrightness"
    sample = eventually(lambda: store.shadow.get(creds.thing).get("brightness"))
    assert sample["sampled_at"] == observed / 1000  # the observation time, not the arrival
    thing.stop(clean=False)  # the network drops: the broker publishes the will
    eventually(lambda: not online(server, creds.thing), timeout=60)

    def kinds():
        return {(m["kind"], m["outcome"]) for m in store.messages.query(device_id=creds.thing)}

    eventually(lambda: ("connection", "offline") in kinds())  # history is written behind
    assert ("event", "ok") in kinds()


def test_the_shadow_service_answers_get_and_rejects_bad_updates(server, fleet, account):
    [creds] = fleet.make(account)
    got: list[tuple[str, dict]] = []
    client = raw_client(fleet.broker, creds)  # the thing itself, over a bare client
    client.on_message = lambda c, u, m: got.append((m.topic, json.loads(m.payload)))
    client.subscribe(
        [
            (topics.GET_ACCEPTED.format(thing=creds.thing), 1),
            (topics.UPDATE_REJECTED.format(thing=creds.thing), 1),
        ]
    )
    time.sleep(0.3)
    first = {"state": {"reported": {"powerState": "Off"}}}
    client.publish(topics.UPDATE.format(thing=creds.thing), json.dumps(first), qos=1)
    client.publish(topics.GET.format(thing=creds.thing), json.dumps({"clientToken": "g1"}), qos=1)
    client.publish(topics.UPDATE.format(thing=creds.thing), b"{not json", qos=1)
    client.publish(
        topics.UPDATE.format(thing=creds.thing),
        json.dumps({"state": {"reported": {"a": 1}}, "version": 999, "clientToken": "v"}),
        qos=1,
    )
    eventually(lambda: len(got) >= 3, timeout=10)
    by_topic = {}
    for topic, body in got:
        by_topic.setdefault(topic.rsplit("/", 2)[-2] + "/" + topic.rsplit("/", 1)[-1], []).append(
            body
        )
    accepted = by_topic["get/accepted"][0]
    assert accepted["clientToken"] == "g1" and accepted["state"]["reported"]["powerState"] == "Off"
    codes = sorted(b["code"] for b in by_topic["update/rejected"])
    assert codes == [400, 409]
    client.loop_stop()
    client.disconnect()


def test_a_thing_reaches_only_its_own_topics(server, fleet, account, store):
    a, b = fleet.make(account, count=2)
    fleet.run(b, echo, {"powerState": "Off"})
    spy = raw_client(fleet.broker, a)
    stolen = []
    spy.on_message = lambda c, u, m: stolen.append(m.topic)
    spy.subscribe(
        [(topics.DELTA.format(thing=b.thing), 1), ("$aws/things/+/shadow/update/delta", 1)]
    )
    time.sleep(0.3)
    info = spy.publish(
        topics.UPDATE.format(thing=b.thing),
        json.dumps({"state": {"reported": {"powerState": "On"}}}),
        qos=1,
    )
    info.wait_for_publish(5)
    requests.post(
        f"{server.url}/admin/api/send",
        json={"device": b.thing, "action": "setPowerState", "value": {"state": "On"}},
        timeout=10,
    )
    time.sleep(0.5)
    assert stolen == []  # b's delta was sent, but never to a
    shadow, _ = store.repository(ThingShadows).get(b.thing)
    assert shadow["state"]["reported"]["powerState"] == "On"  # set by b's own answer only
    spy.loop_stop()
    spy.disconnect()


def test_the_broker_refuses_no_certificate_a_foreign_ca_and_a_revoked_one(
    server, fleet, account, store, tmp_path, mqtt_env
):
    assert not accepted(fleet.broker)  # no certificate
    other = new_authority("someone else")
    forged = Authority(other.cert_pem, other.key_pem).issue("0" * 24)
    (tmp_path / "c.pem").write_text(forged.cert_pem)
    (tmp_path / "k.pem").write_text(forged.key_pem)
    assert not accepted(fleet.broker, cert=tmp_path / "c.pem", key=tmp_path / "k.pem")
    [creds] = fleet.make(account)
    assert accepted(fleet.broker, creds=creds)
    from click.testing import CliRunner

    from bridge.cli import main

    result = CliRunner().invoke(main, ["thing", "revoke", creds.thing], env=mqtt_env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["revoked"] == 1
    assert eventually(lambda: not accepted(fleet.broker, creds=creds), timeout=10)


def test_every_voice_platform_reaches_a_thing(server, fleet, account, store):
    """XiaoDu and Tmall Genie speak to a thing as to a socket device; the answer is its report."""
    from genie_helpers import CONTROL as GENIE_CONTROL
    from genie_helpers import Genie, v1
    from xiaodu_helpers import CONTROL, DuerOS, request

    [creds] = fleet.make(account)
    seen = []
    fleet.run(creds, lambda d: seen.append(d) or dict(d), {"powerState": "Off"})
    eventually(lambda: online(server, creds.thing), timeout=10)
    duer = DuerOS(server.url).send(
        request(
            CONTROL, "TurnOnRequest", store.tokens.issue(account.user.id, "xiaodu"), creds.thing
        )
    )
    assert duer["header"]["name"] == "TurnOnConfirmation", duer
    genie = Genie(server.url).send(
        v1(GENIE_CONTROL, "TurnOff", store.tokens.issue(account.user.id, "tmallgenie"), creds.thing)
    )
    assert genie["header"]["name"] == "TurnOffResponse", genie
    assert seen == [{"powerState": "On"}, {"powerState": "Off"}]


def test_a_things_reachability_reaches_alexa(server, fleet, account, store, amazon):
    """Connect and the will are EndpointHealth ChangeReports, as for sockets."""
    from alexa_helpers import accept_grant

    token = store.tokens.issue(account.user.id, "alexa")
    accept_grant(Alexa(server.url), amazon.issue_code(), token)
    [creds] = fleet.make(account)
    thing = fleet.run(creds, echo)

    def health(value):
        def match(e):
            props = e["event"].get("payload", {}).get("change", {}).get("properties", [])
            return e["event"].get("endpoint", {}).get("endpointId") == creds.thing and any(
                p["name"] == "connectivity" and p["value"]["value"] == value for p in props
            )

        return match

    assert amazon.wait_for(health("OK"), timeout=15)
    thing.stop(clean=False)
    assert amazon.wait_for(health("UNREACHABLE"), timeout=60)


def test_simulate_runs_the_things_of_a_batch_zip(server, account, fleet, mqtt_env, admin_send):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from bridge.transports.mqtt import things

    broker = mqtt_env["BRIDGE_MQTT_URL"].split("://", 1)[1]
    _, archive = things.batch(fleet.store, account.user, "light", 2, "Sim", broker)
    path = fleet.folder / "sim.zip"
    things.write_private(path, archive)
    bridge = str(Path(sys.executable).with_name("bridge"))
    env = {k: v for k, v in {**os.environ, **mqtt_env}.items() if k != "BRIDGE_MQTT_URL"}
    proc = subprocess.Popen(  # the zip names its broker: no BRIDGE_MQTT_URL needed
        [bridge, "simulate", "--user", account.user.name, "--things", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ids = [
            d.id for d in fleet.store.devices.of_user(account.user.id) if d.name.startswith("Sim")
        ]
        eventually(lambda: all(online(server, i) for i in ids), timeout=20)
        reply = admin_send(ids[0], "setBrightness", {"brightness": 33})
        assert reply.status_code == 200, reply.text
        assert reply.json()["value"] == {"brightness": 33}
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert "{'brightness': 33}" in output and "connecting" in output
    assert "thing Sim 1 connected" in output and "thing Sim 2 connected" in output


def test_simulating_things_with_no_broker_known_says_what_to_give(fleet, account, mqtt_env):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from bridge.transports.mqtt import things

    _, archive = things.batch(fleet.store, account.user, "light", 1, "Lost", "")
    path = fleet.folder / "lost.zip"
    things.write_private(path, archive)
    env = {k: v for k, v in {**os.environ, **mqtt_env}.items() if k != "BRIDGE_MQTT_URL"}
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("bridge")),
            "simulate",
            "--user",
            account.user.name,
            "--things",
            str(path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 1
    assert "--broker mqtts://HOST:PORT" in done.stderr and "BRIDGE_MQTT_URL" in done.stderr


def test_broker_config_runs_the_broker_as_the_owner_of_its_files(tmp_path):
    """As root, mosquitto drops to its `user`: by default the one who owns the files, so
    it can read them and write its pid file (it said only "Unable to write pid file")."""
    import getpass
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "BRIDGE_DATABASE": str(tmp_path / "b.db")}
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("bridge")),
            "mqtt",
            "broker-config",
            "--out",
            str(tmp_path / "broker"),
            "--port",
            "18883",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    conf = (tmp_path / "broker" / "mosquitto.conf").read_text().splitlines()
    assert f"user {getpass.getuser()}" in conf
    owners = {p.stat().st_uid for p in (tmp_path / "broker").iterdir()}
    assert owners == {os.getuid()}
    assert "mosquitto -c" in done.stderr
    assert f"BRIDGE_MQTT_URL=mqtts://127.0.0.1:18883 BRIDGE_MQTT_DIR={tmp_path / 'broker'}" in (
        done.stderr
    )


def test_a_thing_that_drops_tokens_is_answered_by_its_state(server, fleet, account, admin_send):
    """Firmware that reports the new state without the delta's clientToken still answers."""
    [creds] = fleet.make(account)
    client = raw_client(fleet.broker, creds)
    update = topics.UPDATE.format(thing=creds.thing)

    def on_delta(c, userdata, msg) -> None:
        state = json.loads(msg.payload)["state"]
        c.publish(update, json.dumps({"state": {"reported": state}}), qos=1)  # no token

    client.on_message = on_delta
    client.subscribe(topics.DELTA.format(thing=creds.thing), qos=1)
    hello = {"state": {"reported": {"connection_status": "connected", "brightness": 1}}}
    client.publish(update, json.dumps(hello), qos=1)
    try:
        eventually(lambda: online(server, creds.thing), timeout=10)
        reply = admin_send(creds.thing, "setBrightness", {"brightness": 80})
        assert reply.status_code == 200, reply.text
        assert reply.json()["value"] == {"brightness": 80}
    finally:
        client.loop_stop()
        client.disconnect()


def test_a_flooding_thing_costs_the_other_things_nothing(server, fleet, account, admin_send, store):
    """One thing publishes shadow updates as fast as paho sends them (QoS 0) while another
    is commanded: every command answers at its usual pace, the flooder hears 429s, its
    flood is a few history rows, and the broker denies it its topics until the quarantine
    ends."""
    noisy, quiet = fleet.make(account, count=2)
    fleet.run(quiet, echo, {"powerState": "Off"})
    flooder = raw_client(fleet.broker, noisy)
    refusals: list[dict] = []
    flooder.on_message = lambda c, u, msg: refusals.append(json.loads(msg.payload))
    flooder.subscribe(topics.UPDATE_REJECTED.format(thing=noisy.thing), qos=0)
    eventually(lambda: flooder.is_connected(), timeout=10)
    stop = threading.Event()

    def flood() -> None:
        n, topic = 0, topics.UPDATE.format(thing=noisy.thing)
        while not stop.is_set():
            state = "On" if n % 2 else "Off"
            sent = flooder.publish(
                topic, json.dumps({"state": {"reported": {"powerState": state}}})
            )
            n += 1
            if n % 200 == 0:  # as fast as paho writes, not faster: no backlog in the flooder
                sent.wait_for_publish(1)

    flooding = threading.Thread(target=flood)
    flooding.start()
    try:
        took = []
        for n in range(10):
            began = time.monotonic()
            reply = admin_send(quiet.thing, "setPowerState", {"state": "On" if n % 2 else "Off"})
            took.append(time.monotonic() - began)
            assert reply.status_code == 200, reply.text
            time.sleep(0.1)
    finally:
        stop.set()
        flooding.join()
    assert max(took) < 2.0, took  # ~10 ms each when alone; 8 s (a timeout) when starved
    assert refusals and refusals[0]["code"] == 429
    acl = fleet.broker.directory / "acl"
    eventually(lambda: f"user {noisy.thing}" in acl.read_text(), timeout=10)
    eventually(lambda: not online(server, noisy.thing), timeout=10)
    refused = admin_send(noisy.thing, "setPowerState", {"state": "On"})
    assert refused.status_code == 409 and "offline" in refused.text, refused.text
    eventually(lambda: f"user {noisy.thing}" not in acl.read_text(), timeout=20)
    store.writer.flush()
    rows = store.messages.query(device_id=noisy.thing, limit=1000)
    outcomes = [r["outcome"] for r in rows]
    assert "throttled" in outcomes and len(rows) < 200, outcomes
    again = topics.UPDATE.format(thing=noisy.thing), json.dumps(update_on())

    def heard() -> bool:  # as a thing retries: the broker reloads its ACL when it can
        flooder.publish(*again)
        return online(server, noisy.thing)

    eventually(heard, timeout=10, interval=0.2)
    flooder.loop_stop()
    flooder.disconnect()


def update_on() -> dict:
    return {"state": {"reported": {"powerState": "On"}}}
