"""Who reaches which device: the one check every entry point's device lookup passes.

The voice webhooks, the integration API, the admin endpoint and the console ask
`DeviceService`, which asks here. Reach is never cached: a membership removed, a role
changed or a guest's stay ended takes effect at the next request, on every worker,
for every token, key and session of that person. Only who hears a device's reports
(`audience`, read on every change) comes from the store's cached member list.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bridge.households.roles import OWNER, ROLES, Role, reaches
from bridge.model import Device, NoSuchDevice, User
from bridge.store import Store
from bridge.store.devices import natural
from bridge.store.households import Membership


def reached(store: Store, membership: Membership) -> list[Device]:
    """The owner's devices a membership's role reaches (whether or not its time is up)."""
    role = ROLES.get(membership.role)
    if role is None:
        return []
    return [
        d
        for d in store.devices.of_user(membership.owner_id)
        if reaches(role, d.id, d.type, membership.named)
    ]


class Access:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def role(self, user_id: int, device: Device) -> Role | None:
        """The role through which a person reaches a device, or None when they do not."""
        if device.user_id == user_id:
            return OWNER
        found = self.store.households.membership(device.user_id, user_id)
        if found is None or not found.live(self.clock()):
            return None
        role = ROLES.get(found.role)
        if role is None or not reaches(role, device.id, device.type, found.named):
            return None
        return role

    def device(self, user: User, device_id: str) -> Device:
        """A device the person reaches; any other id is answered as a missing one."""
        device = self.store.devices.get(device_id)
        if device is None or self.role(user.id, device) is None:
            raise NoSuchDevice(f"no device {device_id}")
        return device

    def devices(self, user: User) -> list[Device]:
        """Every device the person reaches: their own, then their households', by name."""
        own = self.store.devices.of_user(user.id)
        now = self.clock()
        shared = [
            d
            for membership in self.store.households.of_member(user.id)
            if membership.live(now)
            for d in reached(self.store, membership)
        ]
        if not shared:
            return own  # the usual case: one account, its own devices
        return sorted([*own, *shared], key=lambda d: natural(d.name))

    def audience(self, owner_id: int, device_id: str, device_type: str | None) -> list[int]:
        """Everyone who reaches a device of `owner_id`'s: whose platforms hear its reports
        (a device already deleted, whose type is unknown, reaches the owner, the members
        and the guests who were given it by name)."""
        now = self.clock()
        found = [owner_id]
        for membership in self.store.households.members(owner_id, cached=True):
            role = ROLES.get(membership.role)
            live = role is not None and membership.live(now)
            if live and reaches(role, device_id, device_type, membership.named):
                found.append(membership.user_id)
        return found
