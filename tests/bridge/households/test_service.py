"""Households on both stores: invitations, roles, reach, and what the platforms are told."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from bridge.households.access import Access
from bridge.households.service import BadInvitation, Households, NotAllowed
from bridge.model import BridgeError, Device, NoSuchDevice, User
from bridge.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class Home:
    """Ann's household (a light, a lock, a plug), Eve's lamp, and what platforms were told."""

    store: Store
    clock: Clock
    access: Access
    households: Households
    users: dict[str, User]
    devices: dict[str, Device]
    told: list[tuple[int, str, str]]

    def reach(self, name: str) -> set[str]:
        return {d.name for d in self.access.devices(self.users[name])}

    def join(self, name: str, role: str, **invitation) -> None:
        _, token = self.households.invite(self.users["ann"], role, **invitation)
        self.households.join(self.users[name], token)

    def said(self, name: str, change: str, *devices: str) -> list[tuple[int, str, str]]:
        return sorted((self.users[name].id, self.devices[d].id, change) for d in devices)


@pytest.fixture
def home(open_store) -> Home:
    store, clock, told = open_store(), Clock(), []
    access = Access(store, clock)
    households = Households(store, lambda *said: told.append(said), clock)
    users = {n: store.users.create(n, "password1")[0] for n in ("ann", "ben", "gus", "eve")}
    devices = {
        name: store.devices.create(users["ann"].id, kind, name)
        for name, kind in (("hall", "light"), ("door", "lock"), ("plug", "plug"))
    }
    devices["eves"] = store.devices.create(users["eve"].id, "light", "Eve's lamp")
    return Home(store, clock, access, households, users, devices, told)


def test_a_member_reaches_the_household_and_only_their_platforms_hear_of_it(home):
    home.join("ben", "member")
    assert home.reach("ben") == {"hall", "door", "plug"}
    door = home.devices["door"]
    assert home.access.device(home.users["ben"], door.id) == door
    assert sorted(home.told) == home.said("ben", "added", "hall", "door", "plug")
    ann, ben = home.users["ann"].id, home.users["ben"].id
    assert home.access.audience(ann, home.devices["hall"].id, "light") == [ann, ben]
    with pytest.raises(NoSuchDevice):  # another household's device: as missing
        home.access.device(home.users["ben"], home.devices["eves"].id)


def test_a_guest_reaches_the_safe_devices_or_those_named_until_the_stay_ends(home):
    home.join("gus", "guest", until=home.clock.now + 3600)
    assert home.reach("gus") == {"hall", "plug"}  # never the lock unless named
    with pytest.raises(NoSuchDevice):
        home.access.device(home.users["gus"], home.devices["door"].id)
    home.clock.now += 3601  # the stay is over: at once, before any housekeeping
    assert home.reach("gus") == set()
    ann = home.users["ann"].id
    assert home.access.audience(ann, home.devices["hall"].id, "light") == [ann]
    home.told.clear()
    assert home.households.expire() == 1 and home.households.expire() == 0  # told once
    assert sorted(home.told) == home.said("gus", "removed", "hall", "plug")
    assert home.households.members(home.users["ann"]) == []


def test_a_guest_given_the_door_by_name_reaches_it_and_nothing_else(home):
    home.join("gus", "guest", named=(home.devices["door"].id,))
    assert home.reach("gus") == {"door"}


def test_a_role_change_and_a_removal_take_effect_at_once_and_are_told(home):
    home.join("gus", "guest")
    home.told.clear()
    home.households.set_role(home.users["ann"], home.users["gus"].id, "member")
    assert home.told == home.said("gus", "added", "door")
    home.told.clear()
    home.households.remove(home.users["ann"], home.users["gus"].id)
    assert home.reach("gus") == set()
    assert sorted(home.told) == home.said("gus", "removed", "hall", "door", "plug")


def test_an_invitation_is_single_use_and_cannot_be_replayed_guessed_or_forged(home):
    _, token = home.households.invite(home.users["ann"], "member")
    home.households.join(home.users["ben"], token)
    for attempt in (token, token + "x", "", "a" * 500, "guess-" + "0" * 40):
        with pytest.raises(BadInvitation):
            home.households.join(home.users["eve"], attempt)
    _, late = home.households.invite(home.users["ann"], "member")
    home.store.db.execute("update household_invitations set expires_at = ?", (time.time() - 1,))
    with pytest.raises(BadInvitation):  # expired
        home.households.join(home.users["eve"], late)
    assert home.store.households.membership(home.users["ann"].id, home.users["eve"].id) is None
    stored = {h for (h,) in home.store.db.execute("select token_hash from household_invitations")}
    assert token not in stored and late not in stored  # kept hashed


def test_only_the_owner_invites_and_only_to_their_own_devices(home):
    with pytest.raises(NotAllowed):
        home.households.invite(home.users["ann"], "member", by=home.users["ben"])
    with pytest.raises(NoSuchDevice):  # another's device cannot be given away
        home.households.invite(home.users["ann"], "guest", (home.devices["eves"].id,))
    with pytest.raises(BridgeError):
        home.households.invite(home.users["ann"], "owner")
    _, own = home.households.invite(home.users["ann"], "member")
    with pytest.raises(BridgeError, match="your own household"):
        home.households.join(home.users["ann"], own)


def test_who_hears_a_device_is_cached_and_another_process_changing_it_is_noticed(open_store):
    """The server caches each owner's members (read on every device change); a change the
    CLI commits empties the cache at the server's next check, on both stores."""
    server, cli = open_store(), open_store()
    server.serve()
    ann, _ = cli.users.create("ann", "password1")
    ben, _ = cli.users.create("ben", "password1")
    hall = cli.devices.create(ann.id, "light", "hall")
    access = Access(server)
    assert access.audience(ann.id, hall.id, "light") == [ann.id]  # cached: nobody else
    cli.households.put(ann.id, ben.id, "member")
    assert server.notice_external_changes()
    assert access.audience(ann.id, hall.id, "light") == [ann.id, ben.id]
    cli.households.remove(ann.id, ben.id)
    assert server.notice_external_changes()
    assert access.audience(ann.id, hall.id, "light") == [ann.id]
