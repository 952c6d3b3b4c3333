"""One id per command and per device event, and every hop it takes recorded against it.

A webhook call, an API command or a device event begins a journey; the id
is passed explicitly, as Home Assistant passes its Context: on the voice
request (a Journey, which the webhook's hop is written from), the Command,
the device event and the report message, so each history row it leaves (the
webhook and its reply, the device request and its answer, each report
attempt) and each outbox row carries it. Nothing reads it from the greenlet.
A webhook that made one device request writes its hop on that request's row
(`hold`): one row per command.
`GET /api/v1/messages/{id}/journey` and `bridge history --journey` read
them back in order (`explain.py` says in one sentence what went wrong).
"""

from __future__ import annotations

import os
import secrets
import time
from contextvars import ContextVar
from typing import Any

_ATTR = "bridge_journey"
_COUNT_BITS = 12


class _Ids:
    """Journey ids that grow with time: the milliseconds, a count within them, and a tag
    of this process (random, drawn again in a forked worker).

    Every history row carries one and the `journey` index takes each: random ids
    landed all over that B-tree and cost more than the row itself (bench/journeys.py);
    growing ones go in at its right edge. They name, they do not authorize: who may
    read a journey is checked against the rows' owner.
    """

    def __init__(self) -> None:
        self.last = 0
        self.tag = secrets.token_hex(3)

    def __call__(self) -> str:
        # Strictly increasing in this process, even if the clock steps back.
        self.last = max(time.time_ns() // 1_000_000 << _COUNT_BITS, self.last + 1)
        return f"{self.last:014x}{self.tag}"

    def forked(self) -> None:
        self.tag = secrets.token_hex(3)


new = _Ids()
os.register_at_fork(after_in_child=new.forked)


class Journey:
    """A webhook's journey while it is served: the id, and what the webhook's hop will say
    (the directive, the account) when the reply goes out."""

    __slots__ = ("counted", "directive", "held", "id", "user_id")

    def __init__(self, id: str) -> None:
        self.id = id
        self.directive: str | None = None
        """The directive's name, as the platform calls it (the adapter's skeleton sets it)."""
        self.user_id: int | None = None
        """The account the request authenticated as."""
        self.held: Any = None
        self.counted = False
        """A refusal past a budget after its flood's first: counted in the metrics, and no
        row of its own (a noisy account's volume must not become the database's)."""

    def named(self, directive: str) -> None:
        """The directive being answered (the webhook's skeleton says it)."""
        self.directive = directive[:80]

    def served(self, user_id: int) -> None:
        """The account the request authenticated as."""
        self.user_id = user_id

    def close(self) -> Any:
        """The webhook replied: the request row it holds (or None), to write with the reply."""
        _open.pop(self.id, None)
        held, self.held = self.held, None
        return held


current: ContextVar[str | None] = ContextVar("journey", default=None)
"""The journey the current greenlet serves, for the log lines only (`config/logs.py`):
the code itself passes the id explicitly."""

_open: dict[str, Journey] = {}
"""The webhooks being served, by journey id (open until their reply): a device request of
one rides its row."""


def begin() -> Journey:
    """A new journey for a webhook call, open until its reply (`Journey.close`)."""
    journey = Journey(new())
    _open[journey.id] = journey
    return journey


def hold(entry: Any) -> bool:
    """Keep a device request's history row to write with the webhook's reply, as one row.

    Every command through a webhook would otherwise write two rows (the
    request, and the webhook with its reply): the second cost more than all
    of journeys' other work. Only the first request of a webhook still being
    served rides along; a later one, or one that ends after the reply (a
    pending command), is written on its own. False: write it now.
    """
    journey = _open.get(entry.journey) if entry.journey else None
    if journey is None or journey.held is not None:
        return False
    entry.at = entry.at or time.time()  # the row keeps the time of the answer
    journey.held = entry
    return True
