"""The bus: what the workers of one bridge share, behind one interface.

One worker (the embedded default) runs the in-process bus (`local`): every
fact lives in its memory and there is nobody to forward to. Several workers
or hosts run the Redis bus (`redis`, with `BRIDGE_REDIS_URL`): which worker
holds which device, calls from one worker to another with a deadline,
shared limits and replay guards, and live fan-out of notices.

Facts that are per device or per account go through here, never a plain
dict in one worker, so N workers enforce one limit and a replay seen by one
is refused by all.
"""

from __future__ import annotations

import os
import secrets
import socket
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.runtime.service import Service

Message = dict[str, Any]
Handler = Callable[[Message], Message]
Listener = Callable[[Message], None]


class Unreachable(Exception):
    """No worker of that id listens (it died, or never was)."""


def worker_id() -> str:
    """A fresh id per worker process: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


class Bus(ABC):
    """Placement, calls between workers, shared facts and live notices."""

    def __init__(self, worker: str) -> None:
        self.worker = worker
        self._lost: list[Callable[[str], None]] = []

    @property
    def shared(self) -> bool:
        """Whether other workers may exist (commands may need forwarding)."""
        return False

    # Placement: which worker holds a device's connection.
    @abstractmethod
    def hold(self, device_ids: list[str]) -> None:
        """This worker holds these devices now (the newest connection wins)."""

    @abstractmethod
    def release(self, device_ids: list[str]) -> list[str]:
        """This worker no longer holds them; return those it still held (not taken over)."""

    @abstractmethod
    def holder(self, device_id: str) -> str | None:
        """The worker that holds the device, if any does."""

    @abstractmethod
    def lead(self, role: str) -> bool:
        """Take or keep `role` (one worker at a time, such as the broker session): True
        while this worker has it. Call again within the hold time to keep it."""

    @abstractmethod
    def leader(self, role: str) -> str | None:
        """The worker that has `role`, if any does."""

    def mistaken(self, device_id: str) -> None:
        """The worker `holder` named did not hold the device (forget what was believed)."""
        return None

    def on_lost(self, callback: Callable[[str], None]) -> None:
        """`callback(device_id)` when another worker took a device this one held."""
        self._lost.append(callback)

    def _was_lost(self, device_id: str) -> None:
        for callback in self._lost:
            callback(device_id)

    @abstractmethod
    def alive(self, worker: str) -> bool:
        """Whether that worker is running now (its claims on shared work still count)."""

    # Calls between workers.
    @abstractmethod
    def call(self, worker: str, message: Message, timeout: float) -> Message:
        """Ask another worker; its handler's answer. Raises Unreachable, or TimeoutError."""

    @abstractmethod
    def serve(self, handler: Handler) -> None:
        """Answer other workers' calls with `handler(message)` (one greenlet per call)."""

    # Shared facts.
    @abstractmethod
    def first_use(self, key: str, ttl: float, stamped: float | None = None) -> bool:
        """True the first time `key` is seen within `ttl` seconds, by any worker.

        `stamped` is the message's own time (a replay guard's). The memory of
        what was seen is whole only since the bus's store began: this process,
        or a Redis that restarted without its data (then since this worker lost
        the old one, when it saw that). For `ttl` after that, a message stamped
        before it is refused: it may have been seen and forgotten. A device
        synced to the bridge's clock stamps later ones, held ones included.
        """

    @abstractmethod
    def spaced(self, scope: str, key: str, interval: float) -> bool:
        """True if nothing under (scope, key) was allowed in the last `interval` seconds."""

    @abstractmethod
    def forget(self, scope: str) -> None:
        """Drop every `spaced` fact of a scope (a device went offline)."""

    @abstractmethod
    def take(self, key: str, rate: float, burst: int) -> float:
        """A token bucket shared by all workers: 0 if one may go now, else seconds to wait."""

    @abstractmethod
    def lease(self, scope: str, member: str, limit: int, ttl: float) -> bool:
        """Hold one of `limit` places under `scope` for `ttl` seconds, for every worker:
        False when all are held. Asking again with the same `member` renews its place; a
        place nobody renews frees itself (its worker died)."""

    @abstractmethod
    def unlease(self, scope: str, member: str) -> None:
        """Give a place back."""

    @abstractmethod
    def put(self, key: str, value: Any, ttl: float) -> None:
        """Keep a small JSON value for `ttl` seconds, for every worker."""

    @abstractmethod
    def get(self, key: str) -> Any:
        """A value `put` earlier and not yet expired, or None."""

    @abstractmethod
    def pop(self, key: str) -> Any:
        """`get` and remove in one step: of two workers, one gets the value."""

    # Live notices to every worker (this one too).
    @abstractmethod
    def publish(self, topic: str, message: Message) -> None:
        """Tell every worker's listeners of `topic`, at most once each. Returns without
        waiting for them: the notice may still be on its way."""

    @abstractmethod
    def subscribe(self, topic: str, listener: Listener) -> None:
        """`listener(message)` for each notice on `topic`, from any worker."""

    def start(self) -> None:
        """Get ready to serve (its loops are `services()`, started after this)."""
        return None

    def services(self) -> list[Service]:
        """Its background loops (a listener, renewals), run by the server's supervisor."""
        return []

    def stop(self) -> None:
        """Stop it and let go of every device this worker holds."""
        return None


FORGETTING_MARGIN = 2.0
"""Seconds before a memory's start within which a stamp still counts as after it."""


def forgotten(stamped: float, began: float, now: float, ttl: float) -> bool:
    """Whether a message stamped at `stamped` may have been seen and forgotten: the
    memory began at `began`, less than `ttl` ago, and the stamp is older than that.

    Stamps are whole seconds from a device clock set from the bridge's, in whole
    seconds too: up to two seconds behind. The margin keeps the first events after
    a start from being refused; the cost is that a message seen in the last
    seconds before a store lost its memory (less the time it was down) passes once.
    """
    return now - began < ttl and stamped < began - FORGETTING_MARGIN


def open_bus(redis_url: str, **options: Any) -> Bus:
    """The Redis bus when a URL is set; the in-process bus otherwise."""
    if redis_url:
        from bridge.bus.redis import RedisBus

        return RedisBus(redis_url, worker_id(), **options)
    from bridge.bus.local import LocalBus

    return LocalBus(worker_id())
