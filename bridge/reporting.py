"""Proactive reports: state changes into the durable outbox, out to each adapter.

A change is queued for every adapter that wants the user's reports except
the one that caused it, then delivered by a background greenlet with
exponential backoff; failures stay queued until the attempts run out.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING

from gevent.event import Event
from gevent.pool import Pool

from bridge.model import StateChange, User
from bridge.store import Store
from bridge.store.messages import Entry

if TYPE_CHECKING:
    from adapters.base import Adapter

log = logging.getLogger(__name__)
MAX_DELAY = 300.0


class Reporter:
    def __init__(
        self,
        store: Store,
        adapters: Callable[[], Mapping[str, Adapter]],
        retry_base: float,
        max_attempts: int,
    ) -> None:
        self.store = store
        self.adapters = adapters
        self.retry_base = retry_base
        self.max_attempts = max_attempts
        self._wake = Event()
        self._pool = Pool(20)

    def publish(self, user: User, change: StateChange) -> None:
        names = [
            name
            for name, adapter in self.adapters().items()
            if name != change.origin and adapter.wants_reports(user)
        ]
        if names:
            self.store.outbox.add(names, user.id, change.device_id, asdict(change))
            self._wake.set()

    def run(self, poll: float = 1.0) -> None:
        """Deliver forever (a greenlet of the server process)."""
        while True:
            self._wake.wait(poll)
            self._wake.clear()
            try:
                self.deliver_due()
            except Exception:
                log.exception("report delivery round failed")

    def deliver_due(self) -> None:
        rows = self.store.outbox.due()
        self._pool.map(self._deliver, rows)
        if len(rows) == 100:
            self._wake.set()

    def _deliver(self, row: dict) -> None:
        adapter = self.adapters().get(row["adapter"])
        user = self.store.users.by_id(row["user_id"])
        change = StateChange(**row["change"])
        attempts = row["attempts"] + 1
        entry = Entry(
            "out",
            "report",
            "ok",
            change.device_id,
            row["user_id"],
            change.action,
            origin=row["adapter"],
        )
        try:
            if adapter is None or user is None:
                raise LookupError("adapter not loaded or user gone")
            adapter.report(user, change)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            entry.detail = error
            if attempts >= self.max_attempts or isinstance(exc, LookupError):
                self.store.outbox.give_up(row["id"], attempts, error)
                entry.outcome = "failed"
            else:
                delay = min(MAX_DELAY, self.retry_base * 2 ** (attempts - 1))
                self.store.outbox.retry(
                    row["id"], attempts, delay * random.uniform(0.8, 1.2), error
                )
                entry.outcome = "retry"
            log.warning("report %s to %s: %s", row["id"], row["adapter"], error)
        else:
            self.store.outbox.delivered(row["id"])
        self.store.messages.record(entry)
