"""Two people of one household on Google Home: the member's SYNC lists the shared light,
both agents hear its state, and joining and leaving ask Google to sync the member's."""

from __future__ import annotations

from google_helpers import intent
from household_helpers import households, join
from servers import eventually


def test_a_member_syncs_the_shared_light_and_both_agents_hear_it(
    google, home, synced, store, account, make_account, connect
):
    ben = make_account()
    ben_token = store.tokens.issue(ben.user.id, "google")
    ben_agent = home.call(intent("SYNC"), ben_token)["payload"]["agentUserId"]
    google.agents.add(ben_agent)
    light = store.devices.create(account.user.id, "light", "Den light")

    def syncs() -> int:
        return len([s for s in google.syncs if s["agentUserId"] == ben_agent])

    before = syncs()
    join(store, account, ben)
    eventually(lambda: syncs() > before, timeout=10)  # the light entered Ben's reach
    listed = home.call(intent("SYNC"), ben_token)["payload"]["devices"]
    assert [d["id"] for d in listed] == [light.id]
    assert listed[0]["name"]["name"] == "Den light"
    # Connected only now: the join came from this process, and a server hears of another
    # process's change at its next change check. The worker that will hold the light reads
    # who hears it for the first time here, after the join, not from before it.
    online = connect(account, [light])

    online.client.send_event(light.id, "setBrightness", {"brightness": 33})
    reports = google.wait_for(
        google.reports,
        lambda r: (
            r["payload"]["devices"].get("states", {}).get(light.id, {}).get("brightness") == 33
        ),
    )
    eventually(
        lambda: (
            {r["agentUserId"] for r in google.reports if light.id in str(r)} >= {synced, ben_agent}
        ),
        timeout=10,
    )
    assert reports

    before = syncs()
    households(store).remove(account.user, ben.user.id)
    eventually(lambda: syncs() > before, timeout=10)  # and left it
    assert home.call(intent("SYNC"), ben_token)["payload"]["devices"] == []
