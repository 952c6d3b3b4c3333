"""A household on the running server: a member's platform and key reach the owner's
devices as the role allows, commands name the member, reports go to every member's
platforms but the one that made the change, and a removal takes effect at once."""

from __future__ import annotations

import requests
from household_helpers import households, join
from servers import StreamListener, Webhook, eventually

from bridge.reports.messages import DeviceAnnounced, StateReport, decode


def api_token(server, store, account, products=("light", "lock")) -> dict[str, str]:
    key, secret = store.keys.create(account.user.id, "inbound", list(products))
    reply = requests.post(server.url + "/api/v1/token", auth=(key.id, secret), timeout=10)
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def test_a_member_controls_the_owners_light_and_everyone_else_hears_it(
    server, store, make_account, connect, recorder, make_platform
):
    ann, ben = make_account(), make_account()
    light = store.devices.create(ann.user.id, "light", "Hall light")
    connect(ann, [light])
    join(store, ann, ben, "member")
    echo = Webhook(server.url + "/voice/echo")
    token = store.tokens.issue(ben.user.id, "echo")
    # Ben's key's live stream: his command on Ann's light arrives there too.
    live = StreamListener(
        requests, server.url + "/api/v1/stream", api_token(server, store, ben, ("light",))
    ).start()
    listed = echo.post({"token": token, "op": "discover"})["devices"]
    assert light.id in [d["id"] for d in listed]
    on = {"state": "On"}
    answer = echo.post(
        {
            "token": token,
            "op": "command",
            "device": light.id,
            "action": "setPowerState",
            "value": on,
        }
    )
    assert "error" not in answer, answer
    [row] = eventually(lambda: store.messages.query(device_id=light.id, kind="request", limit=1))
    assert (row["user_id"], row["member"]) == (ann.user.id, ben.user.id)  # the household's row
    streamed = [e for e in live.join() if e["kind"] == "request"]
    assert [(e["id"], e["member"]) for e in streamed] == [(row["id"], ben.user.id)]
    heard = recorder.wait_for(lambda r: r["device"] == light.id and r["user"] == ann.user.name)
    assert heard and heard[0]["cause"] == "VOICE_INTERACTION"  # Ann's platform hears Ben's voice
    queued = store.db.execute(
        "select user_id, change from outbox where device_id = ? and adapter = 'echo'", (light.id,)
    ).fetchall()
    states = {user for user, change in queued if type(decode(change)) is StateReport}
    assert states == {ann.user.id}  # never echoed to Ben's own platform
    told = [decode(c) for u, c in queued if u == ben.user.id]  # (and the light's reachability,
    announced = [m.change for m in told if type(m) is DeviceAnnounced]  # if it came after)
    assert announced == ["added"]

    # Who did what: Ben's key lists his command; its journey names him; Ann's console
    # shows it as his and filters by him.
    headers = api_token(server, store, ben, ("light",))
    listed = requests.get(server.url + "/api/v1/messages?kind=request", headers=headers, timeout=10)
    assert [(m["id"], m["member"]) for m in listed.json()["messages"]] == [(row["id"], ben.user.id)]
    journey = requests.get(
        f"{server.url}/api/v1/messages/{row['id']}/journey", headers=headers, timeout=10
    ).json()
    assert {h["member"] for h in journey["hops"] if h["hop"] == "device request sent"} == {
        ben.user.id
    }
    console = make_platform(server.url)
    console.console_login(ann.user.name, ann.password)

    def history(query: str = "") -> str:
        html = console.session.get(server.url + "/console" + query, timeout=10).text
        return html[html.index('id="history"') :]

    assert f'by <span class="by">{ben.user.name}</span>' in history()
    assert "setPowerState" in history(f"?member={ben.user.id}")
    assert "setPowerState" not in history(f"?member={ann.user.id}")

    households(store).remove(ann.user, ben.user.id)  # at once: the same token, refused
    refused = echo.post(
        {
            "token": token,
            "op": "command",
            "device": light.id,
            "action": "setPowerState",
            "value": on,
        }
    )
    assert refused["error"] == "no_such_device"
    assert light.id not in [
        d["id"] for d in echo.post({"token": token, "op": "discover"})["devices"]
    ]


def test_a_guest_and_a_members_key_reach_only_what_the_role_allows(server, store, make_account):
    ann, gus, eve = make_account(), make_account(), make_account()
    light = store.devices.create(ann.user.id, "light", "Porch light")
    door = store.devices.create(ann.user.id, "lock", "Front door")
    theirs = store.devices.create(eve.user.id, "light", "Eve's light")
    join(store, ann, gus, "guest")
    headers = api_token(server, store, gus)

    def listed() -> set[str]:
        reply = requests.get(server.url + "/api/v1/devices", headers=headers, timeout=10)
        assert reply.status_code == 200
        return {d["id"] for d in reply.json()["devices"]}

    assert light.id in listed() and door.id not in listed() and theirs.id not in listed()
    for device in (door, theirs):  # the lock (not named) and another household: 404 alike
        for method, path in (("GET", ""), ("POST", "/commands")):
            reply = requests.request(
                method,
                f"{server.url}/api/v1/devices/{device.id}{path}",
                headers=headers,
                json={"action": "setLockState", "value": {"state": "UNLOCKED"}},
                timeout=10,
            )
            assert reply.status_code == 404, (device.name, path, reply.text)
    households(store).remove(ann.user, gus.user.id)
    assert light.id not in listed()  # the same key, at once
    assert store.shadow.values(door.id) == {}  # nothing the guest sent changed anything


def test_nothing_a_guest_sends_changes_membership_and_an_ended_stay_refuses_at_once(
    server, store, make_account, make_platform
):
    import time

    ann, ben, gus = make_account(), make_account(), make_account()
    lamp = store.devices.create(ann.user.id, "light", "Lamp")
    join(store, ann, ben, "member")
    join(store, ann, gus, "guest", until=time.time() + 3600)
    session = make_platform(server.url)
    csrf = session.console_login(gus.user.name, gus.password)
    for path, form in (
        ("/console/household/members", {"member": ben.user.id}),  # remove Ben
        ("/console/household/members", {"member": ben.user.id, "role": "guest"}),
        ("/console/household/members", {"member": gus.user.id, "role": "member"}),  # promote
        ("/console/household/leave", {"member": ben.user.id}),  # leave a household not his
        ("/console/household/invite", {"role": "member"}),  # into Ann's? no: his own only
    ):
        reply = session.session.post(
            server.url + path, data={**form, "csrf_token": csrf}, allow_redirects=False, timeout=10
        )
        assert reply.status_code in (200, 303, 404), (path, reply.status_code)
    members = {(m.user_id, m.role) for m in store.households.members(ann.user.id)}
    assert members == {(ben.user.id, "member"), (gus.user.id, "guest")}
    echo = Webhook(server.url + "/voice/echo")
    token = store.tokens.issue(gus.user.id, "echo")
    body = {"token": token, "op": "command", "device": lamp.id, "action": "setPowerState"}
    assert echo.post({**body, "value": {"state": "On"}})["error"] == "offline"  # reached
    store.db.execute("update household_members set until = ?", (time.time() - 1,))
    assert echo.post({**body, "value": {"state": "On"}})["error"] == "no_such_device"


def test_only_the_owner_deletes_a_device_and_every_member_hears_it_go(
    server, store, make_account, make_platform
):

    ann, ben, eve = make_account(), make_account(), make_account()
    lamp = store.devices.create(ann.user.id, "light", "Desk lamp")
    join(store, ann, ben, "member")

    def post_delete(account) -> int:
        session = make_platform(server.url)
        csrf = session.console_login(account.user.name, account.password)
        reply = session.session.post(
            f"{server.url}/console/devices/{lamp.id}/delete",
            data={"csrf_token": csrf},
            allow_redirects=False,
            timeout=10,
        )
        return reply.status_code

    assert post_delete(ben) == 403  # a member reaches it, and may not delete it
    assert post_delete(eve) == 404  # another household: as if it did not exist
    assert store.devices.get(lamp.id) is not None
    assert post_delete(ann) == 303
    assert store.devices.get(lamp.id) is None

    def removed_for(account) -> bool:
        rows = store.db.execute(
            "select change from outbox where adapter = 'echo' and user_id = ? and device_id = ?",
            (account.user.id, lamp.id),
        ).fetchall()
        told = [decode(c) for (c,) in rows]
        return any(type(m) is DeviceAnnounced and m.change == "removed" for m in told)

    eventually(lambda: removed_for(ann) and removed_for(ben), timeout=10)


def test_a_members_console_draws_the_shared_devices_day(server, store, make_account, make_platform):
    import re
    import time

    from bridge.store.messages import Entry

    ann, ben = make_account(), make_account()
    lamp = store.devices.create(ann.user.id, "light", "Shared lamp")
    now = time.time()
    for at, outcome in ((now - 6 * 3600, "offline"), (now - 3 * 3600, "online")):
        store.messages.record(Entry("in", "connection", outcome, lamp.id, ann.user.id, at=at))
    store.writer.flush()
    join(store, ann, ben)
    console = make_platform(server.url)
    console.console_login(ben.user.name, ben.password)
    html = console.session.get(server.url + "/console", timeout=10).text
    strip = html[html.index('data-chart="online Shared lamp"') :].split("</svg>", 1)[0]
    share = float(re.search(r'data-online="([0-9.]+)"', strip).group(1))
    assert abs(share - 21 / 24) < 0.01  # the owner's connection rows, not a flat guess
