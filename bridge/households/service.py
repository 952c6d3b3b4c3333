"""Membership changes and what they change for the platforms.

Inviting, joining, removing, changing a role and a guest's stay ending all end in
the same step: the devices that entered or left the person's reach are announced
to that person's platforms alone (added, or removed: each platform's adapter
tells its platform as it allows). Reach itself is computed at each
request (`access`), so nothing else needs telling.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from bridge.households.access import reached
from bridge.households.roles import INVITED, ROLES
from bridge.model import BridgeError, User
from bridge.store import Store
from bridge.store.households import Invitation, Membership

JOIN_PATH = "/console/join"
"""Where an invitation is accepted (its link: this, `?token=`, on the bridge's URL)."""
INVITATION_TTL = 24 * 3600.0
"""How long an invitation may be used: once, within a day."""
MAX_NAMED = 100
"""Devices one invitation may name."""

Announce = Callable[[int, str, str], None]
"""(user_id, device_id, change): a device added to or removed from one person's reach."""


class NotAllowed(BridgeError):
    """The person's role does not allow it."""

    code = "forbidden"


class BadInvitation(BridgeError):
    """No live invitation has this token (unknown, used or expired)."""

    code = "invalid_invitation"


def until_from(text: str | None, now: float) -> float | None:
    """An ISO time (with its offset; in the server's time zone when it has none) as epoch
    seconds, in the future (the CLI's `--until`, the console's "until")."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BridgeError(f"the end time is not an ISO time: {text[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.now().astimezone().tzinfo)
    at = moment.timestamp()
    if at <= now:
        raise BridgeError("the end time is in the past")
    return at


class Households:
    def __init__(
        self, store: Store, announce: Announce, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.announce = announce
        self.clock = clock

    def invite(
        self,
        owner: User,
        role: str,
        named: tuple[str, ...] = (),
        until: float | None = None,
        by: User | None = None,
    ) -> tuple[Invitation, str]:
        """A single-use invitation to `owner`'s household (made by the owner: only an owner
        manages members). Named devices must be the owner's own."""
        if not self._manages(owner, by):
            raise NotAllowed("only the owner invites to a household")
        if role not in INVITED:
            raise BridgeError(f"an invitation gives one of: {', '.join(INVITED)}")
        if len(named) > MAX_NAMED:
            raise BridgeError(f"an invitation names at most {MAX_NAMED} devices")
        for device_id in named:
            self.store.devices.owned(owner.id, device_id)  # another's: no such device
        if until is not None and until <= self.clock():
            raise BridgeError("the end time is in the past")
        return self.store.households.invite(
            owner.id, role, tuple(dict.fromkeys(named)), until, INVITATION_TTL, owner.id
        )

    def join(self, user: User, token: str) -> Membership:
        """Accept an invitation: the person becomes a member in its role at once."""
        if not token or len(token) > 200:
            raise BadInvitation("no such invitation")
        invitation = self.store.households.take(token, user.id)
        if invitation is None:
            raise BadInvitation("no such invitation, or it was used or has expired")
        if invitation.owner_id == user.id:
            raise BridgeError("this is your own household")
        return self._change(
            invitation.owner_id,
            user.id,
            lambda: self.store.households.put(
                invitation.owner_id,
                user.id,
                invitation.role,
                invitation.named,
                invitation.until,
                invitation.owner_id,
            ),
        )

    def set_role(
        self, owner: User, member_id: int, role: str, by: User | None = None
    ) -> Membership:
        """Change a member's role (a guest's named devices and end time stay)."""
        if not self._manages(owner, by):
            raise NotAllowed("only the owner changes a member's role")
        found = self._member(owner, member_id)
        if role not in INVITED:
            raise BridgeError(f"a member's role is one of: {', '.join(INVITED)}")
        return self._change(
            owner.id,
            member_id,
            lambda: self.store.households.put(
                owner.id, member_id, role, found.named, found.until, owner.id
            ),
        )

    def remove(self, owner: User, member_id: int, by: User | None = None) -> None:
        """Remove a member (the owner removing them, or they leaving): at once."""
        if not (self._manages(owner, by) or (by is not None and by.id == member_id)):
            raise NotAllowed("only the owner removes a member; a member may leave")
        self._member(owner, member_id)
        self._change(owner.id, member_id, lambda: self.store.households.remove(owner.id, member_id))

    def members(self, owner: User) -> list[Membership]:
        return self.store.households.members(owner.id)

    def expire(self) -> int:
        """End the memberships whose stay is over, and tell those guests' platforms (the
        access check already refuses them): housekeeping."""
        ended = 0
        now = self.clock()
        for gone in self.store.households.ended(now):
            before = {d.id for d in reached(self.store, gone)}
            if self.store.households.remove(gone.owner_id, gone.user_id):  # one worker tells
                self._announce_reach(gone.owner_id, gone.user_id, before)
                ended += 1
        return ended

    def _manages(self, owner: User, by: User | None) -> bool:
        """Whether `by` (None: the operator, at the CLI) may manage the owner's members, as
        their role in that household says."""
        if by is None or by.id == owner.id:
            return True
        found = self.store.households.membership(owner.id, by.id)
        role = ROLES.get(found.role) if found is not None and found.live(self.clock()) else None
        return role is not None and role.manages_members

    def _member(self, owner: User, member_id: int) -> Membership:
        found = self.store.households.membership(owner.id, member_id)
        if found is None:
            raise BridgeError("no such member of this household")
        return found

    def _reach(self, owner_id: int, user_id: int) -> set[str]:
        """The owner's devices the person reaches now."""
        found = self.store.households.membership(owner_id, user_id)
        if found is None or not found.live(self.clock()):
            return set()
        return {d.id for d in reached(self.store, found)}

    def _change(self, owner_id: int, user_id: int, change: Callable[[], object]) -> Membership:
        before = self._reach(owner_id, user_id)
        change()
        self._announce_reach(owner_id, user_id, before)
        return self.store.households.membership(owner_id, user_id) or Membership(
            owner_id, user_id, "", (), None
        )

    def _announce_reach(self, owner_id: int, user_id: int, before: set[str]) -> None:
        after = self._reach(owner_id, user_id)
        for device_id in sorted(after - before):
            self.announce(user_id, device_id, "added")
        for device_id in sorted(before - after):
            self.announce(user_id, device_id, "removed")
