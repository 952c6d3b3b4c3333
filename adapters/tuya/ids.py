"""Which Tuya device id each bridge device has: in the user's link, encrypted at rest."""

from __future__ import annotations

from bridge.plugin import AdapterContext, BridgeError, Device, User

OWNERS_FOR = 3600.0
"""Seconds a Tuya id's owner is remembered as a shared fact (the links stay the truth)."""


class TuyaIds:
    def __init__(self, context: AdapterContext) -> None:
        self.context = context

    def of(self, user_id: int) -> dict[str, str]:
        """{bridge device id: Tuya device id} of one user."""
        link = self.context.links.get(user_id) or {}
        devices = link.get("devices")
        return dict(devices) if isinstance(devices, dict) else {}

    def remember(self, user: User, device_id: str, tuya_id: str | None) -> None:
        """Keep (or, with None, forget) a device's Tuya id."""
        ids = self.of(user.id)
        if tuya_id is None:
            ids.pop(device_id, None)
        else:
            ids[device_id] = tuya_id
        link = self.context.links.get(user.id) or {}
        self.context.links.put(user.id, {**link, "devices": ids})

    def owner(self, tuya_id: str) -> tuple[User, Device] | None:
        """The linked user and bridge device a Tuya device id stands for, if any."""
        key = f"owner:{tuya_id}"
        known = self.context.facts.get(key)
        if known is None:
            for user_id in self.context.links.users():
                for device_id, their_id in self.of(user_id).items():
                    if their_id == tuya_id:
                        known = [user_id, device_id]
            if known is None:
                return None
            self.context.facts.put(key, known, ttl=OWNERS_FOR)
        user = self.context.user(int(known[0]))
        if user is None or self.of(user.id).get(str(known[1])) != tuya_id:
            self.context.facts.pop(key)  # unlinked or removed since
            return None
        try:
            return user, self.context.device(user, str(known[1]))
        except BridgeError:
            return None
