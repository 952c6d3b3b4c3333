"""One Google Home user, start to finish, through real account linking."""

from google_helpers import execute, intent, query
from servers import shadowed


def test_google_end_to_end(make_platform, server, home, google, account, light, connect, store):
    online = connect(account, [light])
    platform = make_platform(server.url, adapter="google")
    code, _ = platform.code_for(account.user.name, account.password)
    tokens = platform.exchange(code).json()
    token = tokens["access_token"]

    sync = home.call(intent("SYNC"), token)["payload"]
    assert [d["id"] for d in sync["devices"]] == [light.id]
    google.agents.add(sync["agentUserId"])

    body = execute(([light.id], [{"command": "OnOff", "params": {"on": True}}]))
    assert home.results(body, token)[light.id]["states"]["on"] is True
    assert online.virtual[light.id].state["powerState"] == "On"
    assert home.devices(query(light.id), token)[light.id]["on"] is True

    online.client.send_event(light.id, "setBrightness", {"brightness": 33})
    shadowed(store, light.id, {"brightness": 33})
    [report] = google.wait_for(
        google.reports,
        lambda r: (
            r["payload"]["devices"].get("states", {}).get(light.id, {}).get("brightness") == 33
        ),
    )
    assert report["agentUserId"] == sync["agentUserId"]

    # Google refreshes the token as it does after an hour; the new one works, the old not.
    fresh = platform.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    new_token = fresh.json()["access_token"]
    assert home.call(intent("SYNC"), new_token)["payload"]["agentUserId"] == sync["agentUserId"]

    # The user unlinks in the Google Home app.
    assert home.call(intent("DISCONNECT"), new_token) == {}
    home.call(intent("SYNC"), new_token, status=401)
    assert store.links("google").get(account.user.id) is None
