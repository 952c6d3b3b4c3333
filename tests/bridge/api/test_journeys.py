"""Journeys: every hop of a command or event under one id, and the sentence that explains it."""

from alexa_helpers import Alexa, directive
from click.testing import CliRunner
from conftest import ALEXA_DEADLINE, SCALED
from servers import eventually

from bridge.cli import main
from bridge.client import Refused


def _turn_on(server, store, account, device) -> dict:
    token = store.tokens.issue(account.user.id, "alexa")
    return Alexa(server.url).send(directive("Alexa.PowerController", "TurnOn", token, device.id))


def _journey_of_last_request(integrator, store, device, **owner):
    client = integrator(**owner)
    row = eventually(lambda: store.messages.query(device_id=device.id, kind="request", limit=1))[0]
    reply = client.call("GET", f"/messages/{row['id']}/journey")
    assert reply.status_code == 200, reply.text
    return row, reply.json()


def test_an_offline_device_explained(server, store, account, light, connect, integrator):
    online = connect(account, [light])
    online.client.stop()
    eventually(lambda: store.messages.query(device_id=light.id, kind="connection", limit=1))
    answer = _turn_on(server, store, account, light)
    assert answer["event"]["payload"]["type"] == "ENDPOINT_UNREACHABLE"
    _, found = _journey_of_last_request(integrator, store, light)
    assert [h["hop"] for h in found["hops"]] == [
        "webhook received",
        "device request sent",
        "device answer",
        "reply to the platform",
    ]
    assert found["hops"][2]["outcome"] == "offline"
    # the transport, and the worker that held the device when there are several (scaled pass)
    transport, _, worker = found["hops"][1]["via"].partition(" on ")
    assert transport == "sinric" and bool(worker) == SCALED
    assert found["hops"][3]["detail"] == "HTTP 200 ENDPOINT_UNREACHABLE"
    assert found["hops"][0]["action"] == "Alexa.PowerController.TurnOn"
    assert all(h["after_ms"] >= 0 for h in found["hops"][1:])
    assert found["explanation"].startswith("the device was offline since ")


def test_a_timeout_names_the_platforms_deadline(server, store, account, light, connect, integrator):
    connect(account, [light], delay=3.0)  # no answer before the test ends
    _turn_on(server, store, account, light)
    _, found = _journey_of_last_request(integrator, store, light)
    assert (
        found["explanation"]
        == f"the device did not answer within Alexa's {ALEXA_DEADLINE:g} s deadline"
    )


def test_a_late_answer_says_how_late(
    server, server_env, store, account, light, connect, integrator
):
    """ "The device did it: why did Alexa say it is not responding?" It answered too late."""
    online = connect(account, [light], delay=ALEXA_DEADLINE + 0.15)
    _turn_on(server, store, account, light)
    eventually(lambda: online.virtual[light.id].state.get("powerState") == "On")
    late = eventually(lambda: store.messages.query(device_id=light.id, kind="response", limit=1))
    assert late[0]["outcome"] == "late"  # the device answered: no refusal, no "rejection"
    assert late[0]["journey"] and late[0]["latency_ms"] > ALEXA_DEADLINE * 1000
    assert store.messages.query(device_id=light.id, kind="rejection") == []
    row, found = _journey_of_last_request(integrator, store, light)
    assert found["explanation"].startswith("the device answered after ")
    assert found["explanation"].endswith(f"past Alexa's {ALEXA_DEADLINE:g} s deadline")
    assert [h["hop"] for h in found["hops"]][-1] == "device answer, too late"
    # The CLI says it in the console's words: the sentence, then each hop in order.
    printed = CliRunner().invoke(main, ["history", "--journey", str(row["id"])], env=server_env)
    lines = printed.output.splitlines()
    assert lines[0] == f"journey {row['journey']}: {found['explanation']}"
    assert all(h["hop"] in line for h, line in zip(found["hops"], lines[1:], strict=True))
    assert "start" in lines[1] and "Kitchen light" in lines[-1] and " late " in lines[-1]


def test_a_refusal_and_the_cli(server, server_env, store, account, light, connect, integrator):
    online = connect(account, [light])

    def refuse(device_id, value, instance):
        raise Refused("overheated")

    online.client.on("setPowerState", refuse)
    _turn_on(server, store, account, light)
    row, found = _journey_of_last_request(integrator, store, light)
    assert found["explanation"] == "the device refused: overheated"
    printed = CliRunner().invoke(main, ["history", "--journey", str(row["id"])], env=server_env)
    assert printed.exit_code == 0, printed.output
    assert f"journey {row['journey']}" in printed.output
    assert "device answer" in printed.output and "refused" in printed.output
    assert printed.output.splitlines()[0].endswith(": the device refused: overheated")
    unknown = CliRunner().invoke(main, ["history", "--journey", "nope"], env=server_env)
    assert unknown.exit_code != 0 and "no journey" in unknown.output


def test_a_device_event_and_its_reports(store, account, light, connect, integrator, recorder):
    online = connect(account, [light])
    online.client.send_event(light.id, "setBrightness", {"brightness": 21})
    event = eventually(lambda: store.messages.query(device_id=light.id, kind="event", limit=1))[0]
    client = integrator()
    found = eventually(
        lambda: (
            (j := client.call("GET", f"/messages/{event['id']}/journey").json()).get("hops")
            and any(h["hop"] == "report delivery" for h in j["hops"])
            and j
        )
    )
    names = [h["hop"] for h in found["hops"]]
    assert names[0] == "event" and "report queued" in names and "report delivery" in names
    assert found["explanation"] is None


def test_another_accounts_journey_is_not_found(
    server, store, account, light, make_account, integrator
):
    _turn_on(server, store, account, light)  # offline: a journey all the same
    row = eventually(lambda: store.messages.query(device_id=light.id, kind="request", limit=1))[0]
    stranger = make_account()
    reply = integrator(owner=stranger).call("GET", f"/messages/{row['id']}/journey")
    assert reply.status_code == 404
    assert integrator().call("GET", f"/messages/{row['id']}/journey").status_code == 200
    assert integrator().call("GET", "/messages/999999999/journey").status_code == 404


def test_an_api_command_has_a_journey_of_its_own(
    server, store, account, light, connect, integrator
):
    connect(account, [light])
    _turn_on(server, store, account, light)
    client = integrator()
    sent = client.call(
        "POST",
        f"/devices/{light.id}/commands",
        json={"action": "setPowerState", "value": {"state": "Off"}},
    )
    assert sent.status_code == 200, sent.text
    rows = eventually(
        lambda: [
            r
            for r in store.messages.query(device_id=light.id, kind="request", limit=2)
            if r["origin"].startswith("api:")
        ]
    )
    # The API row's own journey: with two workers writing behind, the Alexa command's
    # row may be written after it and be the newest request by id.
    reply = integrator().call("GET", f"/messages/{rows[0]['id']}/journey")
    hops = [h["hop"] for h in reply.json()["hops"]]
    assert rows[0]["journey"] and hops[:2] == ["device request sent", "device answer"]
    assert set(hops[2:]) <= {"report queued", "report delivery"}  # to the platforms linked
    by_alexa = [r for r in store.messages.query(device_id=light.id) if r["origin"] == "alexa"]
    assert by_alexa[0]["journey"] != rows[0]["journey"]


def test_a_webhook_with_one_request_is_one_row(server, store, account, light, connect):
    """The webhook's hop rides on the row of the request it made: one row per command."""
    connect(account, [light])
    _turn_on(server, store, account, light)
    row = eventually(lambda: store.messages.query(device_id=light.id, kind="request", limit=1))[0]
    assert row["directive"] == "Alexa.PowerController.TurnOn"
    assert row["reply"] == "HTTP 200"
    assert row["received_at"] < row["at"] - row["latency_ms"] / 1000
    assert row["served_ms"] >= row["latency_ms"]
    rows = store.messages.query(journey=row["journey"])
    assert [r for r in rows if r["kind"] != "report"] == [row]  # and reports to others


def test_a_webhook_without_a_request_has_a_row_of_its_own(server, store, account, light):
    token = store.tokens.issue(account.user.id, "alexa")
    Alexa(server.url).send(directive("Alexa.Discovery", "Discover", token))
    row = eventually(
        lambda: store.messages.query(kind="webhook", user_id=account.user.id, limit=1)
    )[0]
    assert (row["action"], row["outcome"], row["detail"]) == (
        "Alexa.Discovery.Discover",
        "ok",
        "HTTP 200",
    )
    assert row["user_id"] == account.user.id and row["journey"]
