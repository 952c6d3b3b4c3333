"""Proactive reports: typed messages into the durable outbox, out to each platform's Sink.

A message is queued for every platform whose link takes the user's reports
(the link rows say so: one cached query) except the one that caused it, and
delivered by a background greenlet. A device's newest state absorbs the older
ones waiting; failures are retried with backoff and end, at the latest, as a
dead letter in the message history. Messages made outside the server (the CLI)
are queued for "*" and fanned out here.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from gevent.event import Event
from gevent.pool import Pool

from bridge.bus import Bus
from bridge.bus.local import LocalBus
from bridge.model import Unavailable, User
from bridge.reports.messages import (
    DeadLetter,
    DeviceAnnounced,
    LinkRevoked,
    Message,
    Sink,
    StateReport,
    UnknownDevice,
)
from bridge.runtime.metrics import Metrics
from bridge.store import Store
from bridge.store.messages import Entry

log = logging.getLogger(__name__)
ANY_ADAPTER = "*"
HURRY_EVERY = 5.0
"""Least seconds between two hurries of one platform's backed-off reports (per worker)."""
ANNOUNCE_AGAIN_EVERY = 600.0
"""Least seconds between two announces of one device to a platform that no longer knew it:
a platform may take a while to learn a device again (its own discovery follows)."""


def announce(
    store: Store, user_id: int, device_id: str, change: str, personal: bool = False
) -> None:
    """Queue a device added / updated / removed for every platform (from any process): of
    everyone who reaches it, or (`personal`) of `user_id` alone."""
    message = DeviceAnnounced(
        user_id=user_id, device_id=device_id, at=time.time(), change=change, personal=personal
    )
    store.outbox.add([ANY_ADAPTER], user_id, device_id, message)


class Reporter:
    def __init__(
        self,
        store: Store,
        adapters: Callable[[], Mapping[str, Any]],
        retry_base: float,
        max_attempts: int,
        metrics: Metrics | None = None,
        retry_max: float = 15.0,
        bus: Bus | None = None,
    ) -> None:
        self.bus = bus if bus is not None else LocalBus("reporter")
        self.metrics = metrics
        self.store = store
        self.adapters = adapters
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.max_attempts = max_attempts
        self.wake = Event()
        self._pool = Pool(20)
        self.sinks: dict[str, Sink] = {}
        """Where the outbox delivers besides the adapters (the alert webhook), by name."""
        self._reporting: frozenset[str] | None = None
        self._mirrors: dict[tuple[str, str], frozenset[str]] = {}
        self._failing: set[str] = set()
        """Platforms whose last answer here was a failure: the next success hurries the
        reports backed off meanwhile, so a platform back from an outage converges at once."""
        self._hurried: dict[str, float] = {}
        self.audience: Callable[[int, str, str | None], list[int]] | None = None
        """Who reaches a device of an owner's (households.Access.audience), set by the
        server; without it (tests of one account) reports go to the user alone."""

    def reporting(self) -> frozenset[str]:
        """The adapters this deployment sends any report to (asked once, not per change)."""
        if self._reporting is None:
            self._reporting = frozenset(
                name for name, adapter in self.adapters().items() if adapter.reports_enabled()
            )
        return self._reporting

    def notify(self, sink: str, user: User, message: Message) -> None:
        """Queue a message for one sink alone (an alert), delivered and retried as reports."""
        self.store.outbox.add([sink], user.id, message.device_id, message)
        self.wake.set()

    def publish(
        self, user: User, message: Message, only: str | None = None, entry: Entry | None = None
    ) -> None:
        """Queue a message for every platform of everyone who reaches its device (the owner,
        the household's members whose role reaches it) whose link takes reports, but the
        platform of `user`'s that caused it; or for `user`'s platform `only`.

        `entry` (the history row of what caused it, a device event) is written in the
        same transaction as the reports: neither is kept without the other.
        """
        wanted = self.reporting()
        if isinstance(message, StateReport) and message.origin in wanted and message.changed:
            self._told_by_reply(user, message)
        queued: dict[int, list[str]] = {}
        alone = only or message.personal
        for person in [user.id] if alone else self._audience(user, message.device_id):
            subscribed = self.store.subscriptions.of(person)
            if only:
                names = [only] if only in subscribed and only in wanted else []
            else:  # never echoed to the platform (of the person) that made the change
                skip = message.origin if person == user.id else None
                names = sorted(n for n in subscribed if n in wanted and n != skip)
            if names:
                queued[person] = names
        if not queued:
            if entry is not None:
                self.store.messages.record(entry)
            return
        folded: dict[tuple[int, str], int] = {}

        def together() -> None:
            for person, names in queued.items():
                added = self.store.outbox.add(names, person, message.device_id, message)
                folded.update({(person, name): count for name, count in added.items()})
            if entry is not None:
                self.store.messages.write(entry)

        self.store.writer.flush_with(together)
        for (person, name), count in folded.items():
            self.store.messages.record(
                Entry(
                    "out",
                    "report",
                    "coalesced",
                    message.device_id,
                    person,
                    message.action,
                    origin=name,
                    detail=f"{count} older report(s) of this device folded into the newest",
                    journey=message.journey,
                )
            )
        self.wake.set()

    def _audience(self, user: User, device_id: str | None) -> list[int]:
        """Who hears a device's reports: everyone who reaches it (the owner first)."""
        if self.audience is None or device_id is None:
            return [user.id]
        device = self.store.devices.get(device_id)
        owner = device.user_id if device is not None else user.id
        found = self.audience(owner, device_id, device.type if device is not None else None)
        return found if user.id in found else [user.id, *found]

    def mirrored(self, adapter: str, type_name: str) -> frozenset[str]:
        """The properties a platform holds of a type (asked once per pair); none for a sink
        that is no adapter (the alert webhook)."""
        found = self._mirrors.get((adapter, type_name))
        if found is None:
            plugin = self.adapters().get(adapter)
            found = plugin.mirrors(type_name) if plugin is not None else frozenset()
            self._mirrors[(adapter, type_name)] = found
        return found

    def _told_by_reply(self, user: User, message: StateReport) -> None:
        """A command's platform is not sent its own change: its reply told it."""
        origin = str(message.origin)
        device = self.store.devices.get(message.device_id)
        if device is None or origin not in self.store.subscriptions.of(user.id):
            return
        held = self.mirrored(origin, device.type)
        changed = [n for n in message.changed if n in held and n in message.properties]
        told = {n: message.properties[n] for n in changed}
        if told:
            self.store.beliefs.told(
                origin, user.id, device.id, told, message.at, source="reply", behind=True
            )

    def _telling(self, adapter: str, message: Message) -> dict[str, Any] | None:
        """What a report tells a platform of its device's properties, read before it is sent
        (the platform says the device's state then or later): None for no property."""
        if not message.device_id:
            return None
        if isinstance(message, StateReport):
            names = set(message.changed)
        elif isinstance(message, DeviceAnnounced) and message.change == "added":
            names = None  # a device announced: its whole state
        else:
            return None
        device = self.store.devices.get(message.device_id)
        if device is None:
            return None
        held = self.mirrored(adapter, device.type)
        if not held:
            return None
        state = self.store.shadow.values(device.id)
        return {n: v for n, v in state.items() if n in held and (names is None or n in names)}

    def _believed(self, row: dict, message: Message, told: dict[str, Any] | None) -> None:
        """The platform took the report: it now holds what the report told (a device
        removed: nothing); one that learns by asking holds what it reads (`context.held`)."""
        if isinstance(message, DeviceAnnounced) and message.change == "removed":
            self.store.beliefs.forget(row["adapter"], row["user_id"], message.device_id)
        elif told and not getattr(self.adapters().get(row["adapter"]), "learns_by_asking", False):
            self.store.beliefs.told(
                row["adapter"], row["user_id"], message.device_id, told, time.time()
            )

    def _announce_again(self, row: dict, message: Message, reason: str) -> None:
        """The platform no longer knows the device: it holds none of its state, and the
        device is announced to it again (its whole state), once per ANNOUNCE_AGAIN_EVERY
        (an announce it refused so is tried again only then); a removal is done."""
        adapter, user_id, device_id = row["adapter"], row["user_id"], message.device_id
        self.store.beliefs.forget(adapter, user_id, device_id)
        removed = isinstance(message, DeviceAnnounced) and message.change == "removed"
        if removed or self.store.devices.get(device_id) is None:
            return
        if not self.bus.spaced(
            "announce again", f"{adapter}:{user_id}:{device_id}", ANNOUNCE_AGAIN_EVERY
        ):
            return
        again = DeviceAnnounced(
            user_id=user_id,
            device_id=device_id,
            at=time.time(),
            change="added",
            personal=True,
            journey=message.journey,
        )
        self.store.outbox.add([adapter], user_id, device_id, again)
        sink = self.adapters().get(adapter)
        title = getattr(sink, "title", None) or adapter
        self.store.messages.record(
            Entry(
                "out",
                "repair",
                "announced",
                device_id,
                user_id,
                "added",
                origin=adapter,
                detail=f"{title} no longer knew the device ({reason}); announced again",
                journey=message.journey,
            )
        )
        self.wake.set()

    def _back(self, adapter: str) -> None:
        """The platform took a report after failing: what backed off meanwhile is due now
        (at most once every HURRY_EVERY, so one person's lasting failure cannot storm)."""
        self._failing.discard(adapter)
        now = time.monotonic()
        if now - self._hurried.get(adapter, -HURRY_EVERY) < HURRY_EVERY:
            return
        self._hurried[adapter] = now
        if self.store.outbox.hurry(adapter):
            self.wake.set()

    def release_dead_claims(self) -> None:
        """Reports a dead worker (or this server before a restart) took: due again."""
        for worker in self.store.outbox.claimers() - {self.bus.worker}:
            if not self.bus.alive(worker):
                count = self.store.outbox.release(worker)
                log.warning("took back %d report(s) from the dead worker %s", count, worker)

    def deliver_due(self) -> None:
        rows = self.store.outbox.due(worker=self.bus.worker)
        for row in [r for r in rows if r["message"] is None]:
            self.store.outbox.give_up(row["id"], row["attempts"], "the stored report is unreadable")
            self.store.messages.record(
                Entry(
                    "out",
                    "report",
                    "dead-letter",
                    row["device_id"],
                    row["user_id"],
                    origin=row["adapter"],
                    detail="the stored report is unreadable",
                )
            )
        rows = [r for r in rows if r["message"] is not None]
        for row in [r for r in rows if r["adapter"] == ANY_ADAPTER]:
            self._fan_out(row)
        rows = [r for r in rows if r["adapter"] != ANY_ADAPTER]
        self._pool.map(self._deliver, rows)
        if len(rows) == 100:
            self.wake.set()

    def _fan_out(self, row: dict) -> None:
        # A device added, renamed or deleted by another process (the CLI): read it afresh,
        # not from this worker's cache, which notices such changes only within ~50 ms.
        self.store.devices.cache.forget(row["device_id"])
        user = self.store.users.by_id(row["user_id"])
        if user is not None:
            self.publish(user, row["message"])
        self.store.outbox.delivered(row["id"])

    def _deliver(self, row: dict) -> None:
        """One report. The store away mid-way (a report sent but not marked) leaves it
        claimed: it is due again when the claim's lease ends (sent twice, never lost)."""
        try:
            self._attempt(row)
        except Unavailable as exc:
            log.warning("report %s to %s: %s; due again later", row["id"], row["adapter"], exc)

    def _attempt(self, row: dict) -> None:
        sink = self.adapters().get(row["adapter"]) or self.sinks.get(row["adapter"])
        user = self.store.users.by_id(row["user_id"])
        message: Message = row["message"]
        attempts = row["attempts"] + 1
        entry = Entry(
            "out",
            "report",
            "ok",
            message.device_id,
            row["user_id"],
            message.action,
            origin=row["adapter"],
            detail=message.label,
            journey=message.journey,
        )
        told = self._telling(row["adapter"], message)
        try:
            if sink is None or user is None:
                raise DeadLetter("adapter not loaded or user gone")
            message.to(sink.sink(), user)
        except LinkRevoked as exc:
            entry.outcome, entry.detail = "revoked", str(exc)
            self.store.outbox.give_up(row["id"], attempts, str(exc))
            self.store.outbox.drop_user(row["adapter"], row["user_id"], "link revoked")
            self.store.beliefs.forget(row["adapter"], row["user_id"])
        except UnknownDevice as exc:
            entry.outcome, entry.detail = "unknown", str(exc)
            self.store.outbox.give_up(row["id"], attempts, str(exc))
            self._announce_again(row, message, str(exc))
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            entry.detail = error
            limit = (sink and sink.report_attempts) or self.max_attempts
            throttled = getattr(exc, "throttled", False)
            if throttled:  # waiting for a quota or a pace is not a failed try
                attempts -= 1
            # The newest state of a device is never given up for a passing failure
            # (an outage, throttling): the platform's view must converge once it is back.
            if isinstance(exc, DeadLetter) or (
                attempts >= limit and not message.latest_state and not throttled
            ):
                self.store.outbox.give_up(row["id"], attempts, error)
                entry.outcome = "dead-letter"
            else:
                delay = min(self.retry_max, self.retry_base * 2 ** max(0, attempts - 1))
                delay = max(
                    delay * random.uniform(0.8, 1.2),
                    sink.report_retry_min if sink else 0.0,
                    getattr(exc, "after", 0.0),
                )
                self.store.outbox.retry(row["id"], attempts, delay, error)
                entry.outcome = "throttled" if throttled else "retry"
                if not throttled:
                    self._failing.add(row["adapter"])
            log.warning("report %s to %s: %s", row["id"], row["adapter"], error)
        else:
            self.store.outbox.delivered(row["id"])
            if isinstance(message, DeviceAnnounced):
                # Queued, maybe, by a link made elsewhere (the CLI): see that link now.
                self.store.subscriptions.cache.forget(row["user_id"])
            self._believed(row, message, told)
            if row["adapter"] in self._failing:
                self._back(row["adapter"])
            if self.metrics:
                self.metrics.delivered(row["adapter"], time.time() - message.at)
        self.store.messages.record(entry)
        if self.metrics:
            self.metrics.report(row["adapter"], entry.outcome)
