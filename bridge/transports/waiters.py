"""Commands waiting for their answer: one table shared by every transport.

The correlation pattern is the relay's: register the waiter before sending,
always remove it in `finally`, and fail every waiter of an owner (a socket,
a broker session) the moment it ends. A wait is a greenlet on an
AsyncResult, never an OS thread.
"""

from __future__ import annotations

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


class Waiters:
    def __init__(self) -> None:
        self._by_token: dict[str, _Waiter] = {}
        self._by_owner: dict[Hashable, set[str]] = {}

    def __len__(self) -> int:
        return len(self._by_token)

    def wait(
        self,
        token: str,
        device_id: str,
        owner: Hashable,
        send: Callable[[], None],
        deadline: float,
    ) -> Any:
        """Register, `send()`, and wait at most `deadline` for `resolve(token, ...)`.

        Raises DeviceTimeout on silence, or whatever `fail` set for the owner.
        """
        if token in self._by_token:
            raise ValueError("a waiter's token must be fresh")
        waiter = _Waiter(AsyncResult(), device_id, owner)
        self._by_token[token] = waiter
        self._by_owner.setdefault(owner, set()).add(token)
        try:
            send()
            return waiter.result.get(timeout=deadline)
        except gevent.Timeout:
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

    def fail(self, owner: Hashable, error: BridgeError) -> None:
        """End every wait of an owner at once with `error` (its connection is gone)."""
        for token in list(self._by_owner.get(owner, ())):
            waiter = self._by_token.get(token)
            if waiter is not None and not waiter.result.ready():
                waiter.result.set_exception(error)
