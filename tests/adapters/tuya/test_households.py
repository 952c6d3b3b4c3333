"""A household member on Tuya: `bridge tuya link MEMBER` registers the household's light
in the member's Tuya, and leaving the household removes it there."""

from __future__ import annotations

from household_helpers import households, join
from servers import eventually


def test_a_members_tuya_holds_the_shared_light_until_they_leave(
    cli, store, account, make_account, tuya
):
    ben = make_account()
    light = store.devices.create(account.user.id, "light", "Shed light")
    join(store, account, ben)
    assert "1 devices registered" in cli("tuya", "link", ben.user.name)
    registered = tuya.by_bridge_id(light.id)
    assert registered is not None and registered["name"] == "Shed light"
    households(store).remove(account.user, ben.user.id)
    eventually(lambda: tuya.by_bridge_id(light.id) is None, timeout=10)
    eventually(lambda: light.id not in store.links("tuya").get(ben.user.id)["devices"])
