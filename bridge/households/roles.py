"""What each role may do, as data: the one table `access` reads.

An owner does everything; a member controls and sees every device of the
household and adds their own; a guest controls only what the invitation named
(every device but the risky ones when it named none), until an end time.
"""

from __future__ import annotations

from dataclasses import dataclass

RISKY_TYPES = frozenset({"lock", "garage_door", "gate", "alarm"})
"""Device types a guest reaches only when the invitation names the device itself."""


@dataclass(frozen=True)
class Role:
    name: str
    every_device: bool
    """Reaches every device of the household (else: the devices named, or the safe ones)."""
    manages_members: bool
    """Invites, removes members and changes their roles."""
    deletes_devices: bool
    """Deletes the household's devices."""
    adds_devices: bool
    """Adds devices of their own (seen by the household)."""
    may_expire: bool
    """An end time ends the membership."""


OWNER = Role("owner", True, True, True, True, False)
MEMBER = Role("member", True, False, False, True, False)
GUEST = Role("guest", False, False, False, False, True)

ROLES = {role.name: role for role in (OWNER, MEMBER, GUEST)}
"""Every role by name."""
INVITED = ("member", "guest")
"""The roles an invitation may give (there is one owner)."""


def reaches(role: Role, device_id: str, device_type: str | None, named: tuple[str, ...]) -> bool:
    """Whether a member in `role` (with the devices their invitation `named`) reaches a
    device of the household; a device whose type is unknown (deleted) counts as risky."""
    if role.every_device:
        return True
    if named:
        return device_id in named
    return device_type is not None and device_type not in RISKY_TYPES
