"""One Tmall Genie user, start to finish: linked with AliGenie's callback quirk, v1 and v2."""

from urllib.parse import parse_qs, urlsplit

from genie_helpers import CONTROL, DISCOVERY, v1, v2


def test_tmallgenie_end_to_end(genie, taobao, make_platform, server, account, light, connect):
    online = connect(account, [light])
    platform = make_platform(server.url, adapter="tmallgenie")
    platform.redirect_uri += "?skillId=98765&token=linking-token"
    path = platform.authorize_path(state="genie")
    platform.login(path, account.user.name, account.password)
    back = parse_qs(urlsplit(platform.consent(path).headers["Location"]).query)
    assert back["skillId"] == ["98765"] and back["token"] == ["linking-token"]
    token = platform.exchange(back["code"][0]).json()["access_token"]

    found = genie.send(v1(DISCOVERY, "DiscoveryDevices", token))["payload"]["devices"]
    assert [d["deviceId"] for d in found] == [light.id]
    assert genie.send(v1(CONTROL, "TurnOn", token, light.id))["header"]["name"] == "TurnOnResponse"
    answer = genie.send(v2("thing.attribute.set", token, [light.id], {"brightness": 33}))
    assert answer["payload"]["deviceResponseList"][0]["errorCode"] == "SUCCESS"
    assert online.virtual[light.id].state == {"powerState": "On", "brightness": 33}

    online.client.send_event(light.id, "setPowerState", {"state": "Off"})
    [call] = taobao.wait_for(
        lambda c: (
            c.get("cloud_report_param", {}).get("device_id") == light.id
            and c["cloud_report_param"]["report_type"] == 1
        )
    )
    assert call["cloud_report_param"]["payload"] == {"powerstate": 0}  # last seen: v2
