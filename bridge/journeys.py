"""One id per command and per device event, and every hop it takes recorded against it.

A webhook call, an API command or a device event begins a journey; the id
rides the greenlet that serves it (and the greenlets it spawns), the
Command and the StateChange, so each history row it leaves (the webhook
and its reply, the device request and its answer, each report attempt)
and each outbox row carries it. `GET /api/v1/messages/{id}/journey` and
`bridge history --journey` read them back in order (`explain.py` says in
one sentence what went wrong).
"""

from __future__ import annotations

import os
import secrets
import time

import gevent

_ID, _DIRECTIVE, _USER = "bridge_journey", "bridge_directive", "bridge_user"
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


def begin() -> str:
    """A new journey for what the current greenlet serves now (one request of a keep-alive
    connection: the next request begins its own)."""
    journey = new()
    here = gevent.getcurrent()
    setattr(here, _ID, journey)
    setattr(here, _DIRECTIVE, None)
    setattr(here, _USER, None)
    return journey


def end() -> None:
    """The request is answered: what the greenlet serves next is no part of this journey."""
    setattr(gevent.getcurrent(), _ID, None)


def current() -> str | None:
    return getattr(gevent.getcurrent(), _ID, None)


def carry(greenlet: gevent.Greenlet, journey: str | None) -> gevent.Greenlet:
    """Let a spawned greenlet (before it runs) record against the journey."""
    setattr(greenlet, _ID, journey)
    return greenlet


def directive(name: str) -> None:
    """An adapter names the directive it is answering (the webhook hop shows it)."""
    setattr(gevent.getcurrent(), _DIRECTIVE, name[:80])


def directive_named() -> str | None:
    return getattr(gevent.getcurrent(), _DIRECTIVE, None)


def served(user_id: int) -> None:
    """The account the current request authenticated as (the webhook hop is theirs)."""
    setattr(gevent.getcurrent(), _USER, user_id)


def user_served() -> int | None:
    return getattr(gevent.getcurrent(), _USER, None)
