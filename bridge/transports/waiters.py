"""Commands waiting for their answer: one table shared by every transport.

The correlation pattern is the relay's: register the waiter before sending,
always remove it in `finally`, and fail every waiter of an owner (a socket,
a broker session) the moment it ends. A wait is a greenlet on an
AsyncResult, never an OS thread.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import gevent
from gevent.event import AsyncResult

from bridge.model import BridgeError, DeviceTimeout


@dataclass(eq=False)
class _Waiter:
    result: AsyncResult
    device_id: str
    owner: Hashable


@dataclass(frozen=True)
class Late:
    """An answer that came after its waiter gave up: whose journey, and how late."""

    journey: str | None
    after: float
    """Seconds from the request to the answer."""
    waited: float
    """Seconds the request waited."""


TIMED_OUT_KEPT = 1000
"""Waits that timed out, remembered so a late answer can say how late it was (a bound)."""


class Waiters:
    def __init__(self) -> None:
        self._by_token: dict[str, _Waiter] = {}
        self._by_owner: dict[Hashable, set[str]] = {}
        self._timed_out: OrderedDict[tuple[str, str], tuple[str | None, float, float]] = (
            OrderedDict()
        )

    def __len__(self) -> int:
        return len(self._by_token)

    def wait(
        self,
        token: str,
        device_id: str,
        owner: Hashable,
        send: Callable[[], None],
        deadline: float,
        journey: str | None = None,
    ) -> Any:
        """Register, `send()`, and wait at most `deadline` for `resolve(token, ...)`; a late
        answer is recorded against `journey` (the command's).

        Raises DeviceTimeout on silence, or whatever `fail` set for the owner.
        """
        if token in self._by_token:
            raise ValueError("a waiter's token must be fresh")
        waiter = _Waiter(AsyncResult(), device_id, owner)
        self._by_token[token] = waiter
        self._by_owner.setdefault(owner, set()).add(token)
        started = time.monotonic()
        try:
            send()
            return waiter.result.get(timeout=deadline)
        except gevent.Timeout:
            self._timed_out[(token, device_id)] = (journey, started, deadline)
            while len(self._timed_out) > TIMED_OUT_KEPT:
                self._timed_out.popitem(last=False)
            raise DeviceTimeout() from None
        finally:
            del self._by_token[token]
            tokens = self._by_owner.get(owner)
            if tokens is not None:
                tokens.discard(token)
                if not tokens:
                    del self._by_owner[owner]

    def resolve(self, token: str, device_id: str, owner: Hashable, value: Any) -> bool:
        """Hand an answer to its waiter: the same device, from the same owner, once.

        False when nobody waits for it (late, replayed, or from elsewhere).
        """
        waiter = self._by_token.get(token)
        if waiter is None or waiter.owner != owner or waiter.device_id != device_id:
            return False
        if waiter.result.ready():
            return False
        waiter.result.set(value)
        return True

    def late(self, token: str, device_id: str) -> Late | None:
        """An answer nobody waits for: the wait it belonged to, if that timed out lately."""
        found = self._timed_out.pop((token, device_id), None)
        if found is None:
            return None
        journey, started, waited = found
        return Late(journey, time.monotonic() - started, waited)

    def fail(self, owner: Hashable, error: BridgeError) -> None:
        """End every wait of an owner at once with `error` (its connection is gone)."""
        for token in list(self._by_owner.get(owner, ())):
            waiter = self._by_token.get(token)
            if waiter is not None and not waiter.result.ready():
                waiter.result.set_exception(error)
