"""One user, start to finish: linked through OAuth, discovered, commanded, reported."""

from alexa_helpers import accept_grant, directive, prop


def test_alexa_end_to_end(make_platform, server, alexa, amazon, account, light, connect):
    online = connect(account, [light])
    platform = make_platform(server.url, adapter="alexa")
    code, _ = platform.code_for(account.user.name, account.password)
    token = platform.exchange(code).json()["access_token"]  # a real account-linking token

    grant = accept_grant(alexa, amazon.issue_code(), token)
    assert grant["event"]["header"]["name"] == "AcceptGrant.Response"

    found = alexa.send(directive("Alexa.Discovery", "Discover", token))
    assert [e["endpointId"] for e in found["event"]["payload"]["endpoints"]] == [light.id]

    reply = alexa.send(directive("Alexa.PowerController", "TurnOn", token, light.id))
    assert prop(reply, "Alexa.PowerController", "powerState") == "ON"
    assert online.virtual[light.id].state["powerState"] == "On"

    online.client.send_event(light.id, "setPowerState", {"state": "Off"})
    [report] = amazon.wait_for(
        lambda e: (
            e["event"]["header"]["name"] == "ChangeReport"
            and e["event"]["endpoint"]["endpointId"] == light.id
        )
    )
    assert report["event"]["payload"]["change"]["properties"][0]["value"] == "OFF"
    assert report["event"]["payload"]["change"]["cause"]["type"] == "PHYSICAL_INTERACTION"
