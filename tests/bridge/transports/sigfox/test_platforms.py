"""A command for a Sigfox device is pending on every platform, each told in its own terms."""

from __future__ import annotations

import time

from alexa_helpers import Alexa, accept_grant, directive, error_type
from click.testing import CliRunner
from servers import eventually
from sigfox_helpers import post

from bridge.cli import main


def deliver(plug, seq: int, code: int = 0) -> None:
    """The device's next BIDIR uplink takes the downlink; the network acknowledges it."""
    now = int(time.time())
    asks = post(plug, "bidir", time=now, data="00", seqNumber=seq, ack=True)
    assert asks.status_code == 200, asks.text
    assert post(plug, "ack", time=now, infoCode=code).status_code == 200


def test_alexa_hears_deferred_then_the_response_with_the_same_correlation_token(
    server, plug, store, account, amazon
):
    alexa = Alexa(server.url)
    token = store.tokens.issue(account.user.id, "alexa")
    accept_grant(alexa, amazon.issue_code(), token)
    body = directive("Alexa.PowerController", "TurnOn", token, plug.device_id)
    correlation = body["directive"]["header"]["correlationToken"]
    deferred = alexa.send(body)  # schema-checked by the helper
    assert deferred["event"]["header"]["name"] == "DeferredResponse"
    assert deferred["event"]["header"]["correlationToken"] == correlation
    assert deferred["event"]["payload"]["estimatedDeferralInSeconds"] > 0
    deliver(plug, 1)

    def answered(e):
        header = e["event"]["header"]
        return header.get("correlationToken") == correlation and header["name"] == "Response"

    [response] = amazon.wait_for(answered, timeout=15)
    assert "rejected" not in response
    assert response["event"]["endpoint"]["endpointId"] == plug.device_id
    power = [p for p in response["context"]["properties"] if p["name"] == "powerState"]
    assert power[0]["value"] == "ON"
    # One journey from the directive to the device's answer a downlink later.
    request = eventually(lambda: store.messages.query(device_id=plug.device_id, kind="request"))[0]
    assert request["outcome"] == "pending" and request["journey"]
    # In time order, as journeys are told: two workers write their rows behind, so ids
    # need not follow time
    rows = sorted(store.messages.query(journey=request["journey"]), key=lambda r: r["at"])
    hops = [r["kind"] for r in rows]
    assert hops[:2] == ["request", "response"], hops  # and then the reports
    assert request["directive"] == "Alexa.PowerController.TurnOn"  # the webhook, on its row


def test_alexa_hears_the_error_when_the_downlink_fails(
    server, server_env, plug, store, account, amazon
):
    alexa = Alexa(server.url)
    token = store.tokens.issue(account.user.id, "alexa")
    accept_grant(alexa, amazon.issue_code(), token)
    body = directive("Alexa.PowerController", "TurnOff", token, plug.device_id)
    correlation = body["directive"]["header"]["correlationToken"]
    assert alexa.send(body)["event"]["header"]["name"] == "DeferredResponse"
    deliver(plug, 2, code=3)  # OVERRUN_ERROR: the daily downlink quota is spent
    [failed] = amazon.wait_for(
        lambda e: e["event"]["header"].get("correlationToken") == correlation, timeout=15
    )
    assert "rejected" not in failed
    assert error_type(failed) == "HARDWARE_MALFUNCTION"
    assert "OVERRUN_ERROR" in failed["event"]["payload"]["message"]
    request = store.messages.query(device_id=plug.device_id, kind="request", limit=1)[0]
    printed = CliRunner().invoke(main, ["history", "--journey", request["journey"]], env=server_env)
    assert printed.exit_code == 0, printed.output
    assert "device answer, after pending" in printed.output
    assert printed.output.splitlines()[0] == (
        f"journey {request['journey']}: the device did not carry out the queued command:"
        " Sigfox could not deliver it: OVERRUN_ERROR"
    )


def test_xiaodu_is_confirmed_then_hears_the_change_when_it_lands(
    server, plug, store, account, dueros
):
    from xiaodu_helpers import CONTROL, DuerOS, request

    token = store.tokens.issue(account.user.id, "xiaodu")
    duer = DuerOS(server.url)
    discovered = duer.send(
        request(
            "DuerOS.ConnectedHome.Discovery",
            "DiscoverAppliancesRequest",
            token,
            openUid=f"uid-{account.user.id}",
        )
    )
    assert discovered["header"]["name"] == "DiscoverAppliancesResponse"
    answer = duer.send(request(CONTROL, "TurnOnRequest", token, plug.device_id))
    assert answer["header"]["name"] == "TurnOnConfirmation"
    assert not dueros.wait_for(
        "reports", lambda r: r["payload"]["appliance"]["applianceId"] == plug.device_id, 0
    )
    deliver(plug, 3)
    [report] = dueros.wait_for(
        "reports",
        lambda r: (
            r["payload"]["appliance"]
            == {"applianceId": plug.device_id, "attributeName": "turnOnState"}
        ),
        timeout=15,
    )
    assert report["payload"]["openUid"] == f"uid-{account.user.id}"
    eventually(lambda: store.shadow.values(plug.device_id).get("powerState") == "On")


def test_tmall_genie_is_answered_accepted_then_notified_when_it_lands(
    server, plug, store, account, taobao
):
    from genie_helpers import CONTROL as GENIE_CONTROL
    from genie_helpers import Genie, v1

    token = store.tokens.issue(account.user.id, "tmallgenie")
    body = v1(GENIE_CONTROL, "TurnOn", token, plug.device_id)
    answer = Genie(server.url).send(body)
    assert answer["header"]["name"] == "TurnOnResponse"  # accepted: the result follows
    deliver(plug, 4)
    [notify] = taobao.wait_for(
        lambda c: (
            c["method"] == "alibaba.ailabs.iot.device.control.notify"
            and c["notify_control_params"]["payload"]["device_id"] == plug.device_id
        ),
        timeout=15,
    )
    params = notify["notify_control_params"]
    assert params["payload"]["error_code"] == "SUCCESS"
    assert params["header"]["message_id"] == body["header"]["messageId"]
