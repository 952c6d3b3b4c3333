"""One XiaoDu user, start to finish, through real account linking."""

from xiaodu_helpers import CONTROL, attributes, from_sample, request


def test_xiaodu_end_to_end(make_platform, server, duer, dueros, account, light, connect):
    online = connect(account, [light])
    platform = make_platform(server.url, adapter="xiaodu")
    code, _ = platform.code_for(account.user.name, account.password)
    token = platform.exchange(code).json()["access_token"]
    discover = from_sample("discover.request", token)
    discover["payload"]["openUid"] = "e2e-open-uid"
    dueros.tokens["e2e-open-uid"] = token
    found = duer.send(discover)["payload"]["discoveredAppliances"]
    assert [a["applianceId"] for a in found] == [light.id]

    answer = duer.send(request(CONTROL, "TurnOnRequest", token, light.id))
    assert attributes(answer)["turnOnState"] == "ON"
    assert online.virtual[light.id].state["powerState"] == "On"

    online.client.send_event(light.id, "setBrightness", {"brightness": 64})
    [report] = dueros.wait_for("reports", lambda r: r["payload"]["openUid"] == "e2e-open-uid")
    assert report["payload"]["appliance"] == {
        "applianceId": light.id,
        "attributeName": "brightness",
    }
    [state] = dueros.wait_for(
        "states", lambda s: s["asked_for"] == light.id and attributes(s).get("brightness") == 64
    )
    assert state["payload"]["attributes"][0]["name"] == "brightness"
    assert attributes(state)["turnOnState"] == "ON"
