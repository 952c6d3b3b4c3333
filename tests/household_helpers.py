"""A household made as the CLI makes one: the service over the test's store, its
announcements queued for the server to fan out."""

from __future__ import annotations

from bridge.households.service import Households
from bridge.reports.delivery import announce


def households(store) -> Households:
    return Households(store, lambda u, d, change: announce(store, u, d, change, personal=True))


def join(store, owner, member, role: str = "member", **invitation) -> None:
    """`member` (a test account) joins `owner`'s household by a fresh invitation."""
    _, token = households(store).invite(owner.user, role, **invitation)
    households(store).join(member.user, token)
