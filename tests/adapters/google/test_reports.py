"""Report State, notifications and Request Sync to the fake HomeGraph."""

from conftest import GENIE_DEADLINE, SCALED
from google_helpers import execute, intent, sample
from servers import eventually, past_event_limit, shadowed


def _states_of(google, device_id, predicate=lambda s: True):
    return google.wait_for(
        google.reports,
        lambda r: (
            predicate(r["payload"]["devices"].get("states", {}).get(device_id) or {})
            and device_id in r["payload"]["devices"].get("states", {})
        ),
    )


def test_a_device_change_is_reported_with_a_service_account_token(
    google, synced, account, light, connect
):
    online = connect(account, [light])
    online.client.send_event(light.id, "setBrightness", {"brightness": 64})
    [report] = _states_of(google, light.id, lambda s: s.get("brightness") == 64)
    assert report["agentUserId"] == synced
    assert set(sample("report-state.request")) <= set(report)
    assert report["payload"]["devices"]["states"][light.id]["online"] is True
    assert not [r for r in google.refused if r.get("agentUserId") == synced]


def test_the_token_is_kept_until_it_stops_working(google, synced, account, light, connect):
    workers = 2 if SCALED else 1  # each worker keeps a token of its own
    online = connect(account, [light])
    before = len(google.token_calls)
    for n in range(4):
        online.client.send_event(light.id, "setBrightness", {"brightness": 20 + n})
        _states_of(google, light.id, lambda s, n=n: s.get("brightness") == 20 + n)
        past_event_limit()
    calls = len(google.token_calls)
    assert calls - before <= workers < 4  # kept, not fetched for each report
    google.expire_all()  # revoked early: HomeGraph answers 401, the bridge fetches one
    online.client.send_event(light.id, "setBrightness", {"brightness": 13})
    _states_of(google, light.id, lambda s: s.get("brightness") == 13)
    assert calls + 1 <= len(google.token_calls) <= calls + workers


def test_going_offline_is_reported(google, synced, account, light, connect):
    online = connect(account, [light])
    _states_of(google, light.id, lambda s: s.get("online") is True)
    online.client.stop()
    _states_of(google, light.id, lambda s: s.get("online") is False)


def test_googles_own_command_is_not_echoed_back(
    google, home, token, synced, account, connect, store
):
    plug = store.devices.create(account.user.id, "plug", "Kettle")
    connect(account, [plug])
    _states_of(google, plug.id)  # online
    before = len(google.reports)
    body = execute(([plug.id], [{"command": "OnOff", "params": {"on": True}}]))
    assert home.results(body, token)[plug.id]["status"] == "SUCCESS"
    shadowed(store, plug.id, {"powerState": "On"})
    rows = eventually(lambda: store.messages.query(device_id=plug.id, kind="request", limit=1))
    assert rows[0]["origin"] == "google"
    later = [r for r in google.reports[before:] if plug.id in str(r)]
    assert not [r for r in later if r["payload"]["devices"]["states"][plug.id].get("on")]


def test_a_slow_device_is_pending_then_reported(
    google, home, token, synced, account, connect, store
):
    fan = store.devices.create(account.user.id, "fan", "Slow fan")
    connect(account, [fan], delay=GENIE_DEADLINE + 0.3)
    body = execute(([fan.id], [{"command": "SetFanSpeed", "params": {"fanSpeed": "speed_2"}}]))
    assert home.results(body, token)[fan.id] == {"ids": [fan.id], "status": "PENDING"}
    [report] = _states_of(google, fan.id, lambda s: s.get("currentFanSpeedSetting") == "speed_2")
    assert report["agentUserId"] == synced


def test_a_doorbell_press_is_a_notification(google, synced, account, connect, store):
    bell = store.devices.create(account.user.id, "doorbell", "Front door")
    online = connect(account, [bell])
    online.client.send_event(bell.id, "DoorbellPress", {"state": "pressed"})
    [note] = google.wait_for(
        google.reports, lambda r: bell.id in r["payload"]["devices"].get("notifications", {})
    )
    theirs = sample("notification.doorbell.request")
    assert set(theirs) <= set(note) and note["eventId"].startswith(bell.id)
    detected = note["payload"]["devices"]["notifications"][bell.id]["ObjectDetection"]
    assert set(detected) == set(
        theirs["payload"]["devices"]["notifications"]["123"]["ObjectDetection"]
    )


def test_added_renamed_and_removed_devices_ask_google_to_sync(google, synced, account, cli, store):
    before = len([s for s in google.syncs if s["agentUserId"] == synced])
    cli("device", "create", account.user.name, "--type", "plug", "--name", "Heater")
    made = next(d for d in store.devices.of_user(account.user.id) if d.name == "Heater")
    cli("device", "rename", made.id, "Radiator")
    cli("device", "delete", made.id)
    # Three changes within the sync interval: one request now, and one that covers the rest.
    google.wait_for(google.syncs, lambda s: s["agentUserId"] == synced)
    eventually(lambda: len([s for s in google.syncs if s["agentUserId"] == synced]) >= before + 1)
    assert google.syncs[-1] == sample("request-sync.request") | {"agentUserId": synced}
    rows = eventually(
        lambda: [
            r
            for r in store.messages.query(user_id=account.user.id, kind="report", limit=20)
            if r["origin"] == "google" and r["outcome"] == "ok" and r["detail"] == "removed"
        ],
        timeout=8,
    )
    assert rows
    assert len([s for s in google.syncs if s["agentUserId"] == synced]) <= before + 2


def test_an_agent_google_no_longer_knows_ends_the_link(
    google, home, token, account, light, connect, store
):
    agent = home.call(intent("SYNC"), token)["payload"]["agentUserId"]  # never told to the fake
    online = connect(account, [light])
    online.client.send_event(light.id, "setBrightness", {"brightness": 5})
    eventually(lambda: store.links("google").get(account.user.id) is None)
    revoked = eventually(
        lambda: [
            r
            for r in store.messages.query(user_id=account.user.id, kind="report", limit=20)
            if r["origin"] == "google" and r["outcome"] == "revoked"
        ]
    )
    assert "NOT_FOUND" in revoked[0]["detail"]
    assert agent not in {r["agentUserId"] for r in google.reports}


def test_a_device_google_no_longer_knows_is_announced_again_and_the_link_stays(
    google, synced, account, light, connect, store
):
    online = connect(account, [light])
    _states_of(google, light.id, lambda s: s.get("online") is True)
    syncs = len([s for s in google.syncs if s["agentUserId"] == synced])
    google.remove(synced, light.id)  # the user removed it in the Google Home app
    past_event_limit()
    online.client.send_event(light.id, "setBrightness", {"brightness": 33})
    # HomeGraph's 404 is the device's, not the user's: a Request Sync announces it again.
    eventually(lambda: len([s for s in google.syncs if s["agentUserId"] == synced]) > syncs)
    [repair] = eventually(lambda: store.messages.query(device_id=light.id, kind="repair"))
    assert repair["origin"] == "google" and repair["outcome"] == "announced"
    assert repair["detail"].startswith("Google no longer knew the device (HomeGraph does not")
    unknown = eventually(
        lambda: [
            r
            for r in store.messages.query(device_id=light.id, kind="report", limit=20)
            if r["origin"] == "google" and r["outcome"] == "unknown"
        ]
    )
    assert unknown[0]["journey"] == repair["journey"]
    assert store.links("google").get(account.user.id) is not None
    past_event_limit()  # Google knows it again: the next change is taken
    online.client.send_event(light.id, "setBrightness", {"brightness": 44})
    _states_of(google, light.id, lambda s: s.get("brightness") == 44)
    assert len(store.messages.query(device_id=light.id, kind="repair")) == 1


def test_homegraphs_throttling_is_shown_and_the_state_still_arrives(
    google, synced, account, light, connect, store
):
    online = connect(account, [light])
    _states_of(google, light.id, lambda s: s.get("online") is True)
    google.quota = 0
    try:
        online.client.send_event(light.id, "setBrightness", {"brightness": 77})
        eventually(
            lambda: [
                r
                for r in store.messages.query(device_id=light.id, kind="report", limit=10)
                if r["origin"] == "google" and r["outcome"] == "throttled"
            ]
        )
    finally:
        google.quota = 6000
    _states_of(google, light.id, lambda s: s.get("brightness") == 77)


def test_each_user_is_reported_under_their_own_agent(
    google, home, synced, make_account, store, connect, account
):
    other = make_account()
    theirs_token = store.tokens.issue(other.user.id, "google")
    their_agent = home.call(intent("SYNC"), theirs_token)["payload"]["agentUserId"]
    google.agents.add(their_agent)
    lamp = store.devices.create(other.user.id, "light", "Their lamp")
    online = connect(other, [lamp])
    online.client.send_event(lamp.id, "setBrightness", {"brightness": 9})
    reports = _states_of(google, lamp.id, lambda s: s.get("brightness") == 9)
    assert {r["agentUserId"] for r in reports} == {their_agent} != {synced}
