"""The core's own background services: reports, the store's writes and checkpoints,
housekeeping and alerts. Each is one round of work; the Service base loops it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gevent

from bridge.runtime.service import Service

if TYPE_CHECKING:
    from bridge.http.live import Notifier
    from bridge.reports.accuracy import Accuracy
    from bridge.reports.alerts import AlertChecker
    from bridge.reports.delivery import Reporter
    from bridge.store import Store


class ReportDelivery(Service):
    """Deliver the outbox's due reports; take back what dead workers had claimed."""

    name = "reports"
    every = 1.0
    check_claims = 5.0

    def __init__(self, reporter: Reporter, **kw: Any) -> None:
        super().__init__(reporter.bus, **kw)
        self.reporter = reporter
        self._checked = 0.0

    def wait(self, seconds: float) -> None:
        """A new report wakes it at once."""
        self.reporter.wake.wait(seconds)
        self.reporter.wake.clear()

    def run_once(self) -> None:
        if time.monotonic() - self._checked > self.check_claims:
            self._checked = time.monotonic()
            self.reporter.release_dead_claims()
        self.reporter.deliver_due()


class StoreSync(Service):
    """Write the queued history and shadow, announce shadow changes to the other workers,
    and drop caches another process made stale."""

    name = "store sync"
    every = 0.05
    backoff_max = 5.0

    def __init__(self, store: Store, bus: Any, notifier: Notifier, **kw: Any) -> None:
        super().__init__(bus, **kw)
        self.store, self.notifier = store, notifier

    def run_once(self) -> None:
        self.store.messages.roll_refusals()  # a minute of sampled refusals that ended
        self.store.writer.flush()
        self.store.announce_changes()
        users = [u for u in self.store.messages.take_recorded() if u is not None]
        if users:
            self.bus.publish("history", {"users": users})
        if self.store.notice_external_changes():
            self.notifier.notify_all()


class Checkpoints(Service):
    """Move the write-ahead log into the database, in an OS thread (never on the loop)."""

    name = "checkpoints"
    every = 1.0

    def __init__(self, store: Store, **kw: Any) -> None:
        super().__init__(None, **kw)
        self.store = store

    def run_once(self) -> None:
        gevent.get_hub().threadpool.apply(self.store.checkpoint)


class Housekeeping(Service):
    """Prune what is older than the history keeps, once an hour; end the guests' stays
    that are over (each pass: their platforms hear at once)."""

    name = "housekeeping"
    every = 30.0
    budget = 7200.0

    def __init__(
        self,
        store: Store,
        history_days: float,
        ended: Callable[[], int] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(None, **kw)
        self.store, self.history_days, self.ended = store, history_days, ended
        self._pruned = 0.0

    def run_once(self) -> None:
        if self.ended is not None:
            self.ended()
        if self.clock() - self._pruned <= 3600:
            return
        cutoff = self.clock() - self.history_days * 86400
        self.store.messages.prune(cutoff)
        self.store.readings.prune(cutoff)
        self.store.beliefs.prune(cutoff)
        self.store.outbox.prune(cutoff)
        self.store.logins.prune(cutoff)
        self.store.grants.prune()
        self.store.tokens.prune()
        self.store.handled.prune()
        self.store.households.prune()
        self._pruned = self.clock()


class AlertCheck(Service):
    """Open and close every account's alerts, in one worker of the deployment."""

    name = "alerts"
    leader = "alerts"
    budget = 600.0

    def __init__(self, alerts: AlertChecker, bus: Any, every: float, **kw: Any) -> None:
        super().__init__(bus, **kw)
        self.alerts, self.every = alerts, every

    def run_once(self) -> None:
        self.alerts.check()


class AccuracyCheck(Service):
    """Compare what each platform holds with each device, and repair drift, in one worker."""

    name = "state accuracy"
    leader = "accuracy"
    budget = 600.0

    def __init__(self, accuracy: Accuracy, bus: Any, **kw: Any) -> None:
        super().__init__(bus, **kw)
        self.accuracy, self.every = accuracy, accuracy.every

    def run_once(self) -> None:
        self.accuracy.check()
