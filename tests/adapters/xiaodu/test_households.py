"""A household member on XiaoDu: discovery lists the shared light, and leaving the
household asks DuerOS to sync the member's devices (its way to forget one)."""

from __future__ import annotations

from household_helpers import households, join
from servers import eventually
from xiaodu_helpers import from_sample


def test_a_member_discovers_the_shared_light_and_is_synced_when_it_leaves_their_reach(
    duer, dueros, store, account, make_account
):
    ben = make_account()
    token = store.tokens.issue(ben.user.id, "xiaodu")
    light = store.devices.create(account.user.id, "light", "Porch light")
    join(store, account, ben)
    open_uid = f"uid-member-{ben.user.id}"
    body = from_sample("discover.request", token)
    body["payload"]["openUid"] = open_uid
    dueros.script.clear()
    found = duer.send(body)["payload"]["discoveredAppliances"]
    assert [a["applianceId"] for a in found] == [light.id]
    dueros.tokens[open_uid] = token

    def syncs() -> int:
        return len(dueros.wait_for("syncs", lambda s: s["openUids"] == [open_uid], 0))

    before = syncs()
    households(store).remove(account.user, ben.user.id)
    eventually(lambda: syncs() > before, timeout=10)
    assert duer.send(body)["payload"]["discoveredAppliances"] == []
