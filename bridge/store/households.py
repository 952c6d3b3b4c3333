"""Households, their members and invitations: who may reach whose devices.

A household is its owner's (one each for now); its other members have a role,
the devices their invitation named (a guest's) and perhaps an end time. An
invitation is a single-use token, stored hashed, that expires.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from bridge.store.cache import Cache
from bridge.store.secrets import hash_token, new_token
from bridge.store.sql import Database


@dataclass(frozen=True)
class Membership:
    """A person's place in one household."""

    owner_id: int
    """Whose household (it is named by its owner)."""
    user_id: int
    role: str
    named: tuple[str, ...]
    """The devices the invitation named (a guest reaches only these, when any)."""
    until: float | None
    """When it ends by itself (a guest's stay), or None."""

    def live(self, now: float) -> bool:
        return self.until is None or now < self.until


@dataclass(frozen=True)
class Invitation:
    id: str
    owner_id: int
    role: str
    named: tuple[str, ...]
    until: float | None
    expires_at: float


def _invitation(row: tuple) -> Invitation:
    return Invitation(row[0], row[1], row[2], tuple(json.loads(row[3] or "[]")), row[4], row[5])


def _membership(row: tuple) -> Membership:
    owner_id, user_id, role, named, until = row
    return Membership(owner_id, user_id, role, tuple(json.loads(named or "[]")), until)


class Households:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.cache: Cache[int, tuple[Membership, ...]] = Cache()
        """Each owner's members, read on every device change (who hears its reports):
        dropped here on each change, on the other workers by the bus, and on another
        process's commit by the store's change check."""

    def of_owner(self, owner_id: int) -> int:
        """The owner's household (made on first use)."""
        find = "select id from households where owner_id = ?"
        row = self.db.execute(find, (owner_id,)).fetchone()
        if row is None:
            self.db.execute(
                "insert into households (owner_id, created_at) values (?, ?)"
                " on conflict do nothing",
                (owner_id, time.time()),
            )
            row = self.db.execute(find, (owner_id,)).fetchone()
        return row[0]

    _SELECT = (
        "select h.owner_id, m.user_id, m.role, m.devices, m.until from household_members m"
        " join households h on h.id = m.household_id"
    )

    def membership(self, owner_id: int, user_id: int) -> Membership | None:
        """A person's membership of the owner's household (expired ones included)."""
        row = self.db.execute(
            f"{self._SELECT} where h.owner_id = ? and m.user_id = ?", (owner_id, user_id)
        ).fetchone()
        return _membership(row) if row else None

    def of_member(self, user_id: int) -> list[Membership]:
        """Every household a person is a member of (not their own)."""
        rows = self.db.execute(
            f"{self._SELECT} where m.user_id = ? order by h.owner_id", (user_id,)
        )
        return [_membership(r) for r in rows]

    def belongs(self, user_id: int) -> bool:
        """Whether the person is a member of any household (their history then holds the
        commands they sent to its devices too)."""
        return (
            self.db.execute(
                "select 1 from household_members where user_id = ? limit 1", (user_id,)
            ).fetchone()
            is not None
        )

    def members(self, owner_id: int, cached: bool = False) -> list[Membership]:
        """The owner's members, read afresh; `cached`: from the cache the report path uses
        (a change another process made is seen at the server's next change check)."""

        def read() -> tuple[Membership, ...]:  # none is cached too: most owners share nothing
            rows = self.db.execute(
                f"{self._SELECT} where h.owner_id = ? order by m.added_at", (owner_id,)
            )
            return tuple(_membership(r) for r in rows)

        return list(self.cache.fill(owner_id, read) if cached else read())

    def ended(self, now: float) -> list[Membership]:
        """The memberships whose end time has passed."""
        rows = self.db.execute(f"{self._SELECT} where m.until is not null and m.until <= ?", (now,))
        return [_membership(r) for r in rows]

    def put(
        self,
        owner_id: int,
        user_id: int,
        role: str,
        named: tuple[str, ...] = (),
        until: float | None = None,
        added_by: int | None = None,
    ) -> None:
        """Make (or change) a membership."""
        self.db["household_members"].upsert(
            {
                "household_id": self.of_owner(owner_id),
                "user_id": user_id,
                "role": role,
                "devices": json.dumps(list(named)),
                "until": until,
                "added_at": time.time(),
                "added_by": added_by,
            },
            pk=("household_id", "user_id"),
        )
        self.cache.drop(owner_id)

    def remove(self, owner_id: int, user_id: int) -> bool:
        cursor = self.db.execute(
            "delete from household_members where user_id = ? and household_id ="
            " (select id from households where owner_id = ?)",
            (user_id, owner_id),
        )
        self.cache.drop(owner_id)
        return cursor.rowcount == 1

    def invite(
        self,
        owner_id: int,
        role: str,
        named: tuple[str, ...],
        until: float | None,
        ttl: float,
        created_by: int,
    ) -> tuple[Invitation, str]:
        """A single-use invitation; its token is returned once and kept hashed."""
        token, now = new_token(), time.time()
        found = Invitation(new_token(9), owner_id, role, named, until, now + ttl)
        self.db["household_invitations"].insert(
            {
                "id": found.id,
                "household_id": self.of_owner(owner_id),
                "token_hash": hash_token(token),
                "role": role,
                "devices": json.dumps(list(named)),
                "until": until,
                "created_at": now,
                "expires_at": found.expires_at,
                "created_by": created_by,
                "used_at": None,
                "used_by": None,
            }
        )
        return found, token

    _INVITATION = (
        "select i.id, h.owner_id, i.role, i.devices, i.until, i.expires_at"
        " from household_invitations i join households h on h.id = i.household_id"
    )

    def peek(self, token: str) -> Invitation | None:
        """The live invitation a token is (unused, not expired), without using it: what
        the invitation page shows before the person accepts."""
        row = self.db.execute(
            f"{self._INVITATION} where i.token_hash = ? and i.used_at is null and i.expires_at > ?",
            (hash_token(token), time.time()),
        ).fetchone()
        return _invitation(row) if row else None

    def take(self, token: str, user_id: int) -> Invitation | None:
        """Use an invitation: None when no live one has this token (unknown, used, expired).
        Marked used in the same statement that checks it: a replay, even at once, fails."""
        now = time.time()
        digest = hash_token(token)
        cursor = self.db.execute(
            "update household_invitations set used_at = ?, used_by = ?"
            " where token_hash = ? and used_at is null and expires_at > ?",
            (now, user_id, digest, now),
        )
        if cursor.rowcount != 1:
            return None
        row = self.db.execute(f"{self._INVITATION} where i.token_hash = ?", (digest,)).fetchone()
        return _invitation(row)

    def prune(self, now: float | None = None) -> int:
        """Drop invitations that can no longer be used (a day after they expired)."""
        cursor = self.db.execute(
            "delete from household_invitations where expires_at < ?",
            ((now or time.time()) - 86400,),
        )
        return cursor.rowcount
