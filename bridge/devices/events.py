"""Device events: a physical change or a sensor value, into shadow, history and reports."""

from __future__ import annotations

import time

from bridge import catalog, journeys
from bridge.devices.limits import EventLimiter
from bridge.model import Device, DeviceEvent, User
from bridge.reports.delivery import Reporter
from bridge.reports.messages import Reachability, StateReport
from bridge.store import Store
from bridge.store.messages import Entry, rejection
from bridge.store.readings import Reading


def _reading(value: dict, at: float) -> Reading:
    """A meter's reading as kept: its interval starts at `startTime` (0: not known)."""

    def number(key: str) -> float | None:
        v = value.get(key)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

    start = number("startTime")
    return Reading(
        at, start if start and start <= at else None, number("power"), number("wattHours")
    )


class EventIntake:
    def __init__(self, store: Store, reporter: Reporter, limiter: EventLimiter) -> None:
        self.store = store
        self.reporter = reporter
        self.limiter = limiter

    def handle(self, user: User, device: Device, event: DeviceEvent) -> str:
        """Apply a verified event; return its outcome (ok, flagged, unknown or rejected).

        Events over the rate limit still update the shadow and the history
        (the device really is in that state) but are not reported: the next
        event within the limit reports the whole current state.
        """
        now = time.time()
        if event.observed_at is not None:
            now = min(now, event.observed_at)
        cause_type = event.cause
        try:
            props = catalog.state_from(device.type, event.action, event.value, event.instance_id)
        except catalog.InvalidState as exc:
            self.store.messages.record(
                rejection(device.id, user.id, exc.message, action=event.action, payload=event.text)
            )
            return "rejected"
        cap = catalog.TYPES[device.type].capability_for(event.action, event.instance_id)
        if cap is None:
            outcome = "unknown"
        else:
            outcome = "ok" if self.limiter.allow(device.id, cap.key, cap.sensor) else "flagged"
        if cap is not None and cap.name == catalog.METERED and isinstance(event.value, dict):
            self.store.readings.add(device.id, _reading(event.value, now))  # limited or not
        changed = self.store.shadow.update(device.id, props, event.instance_id, now)
        journey = event.journey or journeys.new()
        entry = Entry(
            "in",
            "event",
            outcome,
            device.id,
            user.id,
            event.action,
            detail=cause_type,
            payload=event.text,
            at=now,
            journey=journey,
        )
        if outcome != "ok":
            self.store.messages.record(entry)
            return outcome
        report = StateReport(
            user_id=user.id,
            device_id=device.id,
            event=event.action,
            value=event.value,
            instance_id=event.instance_id,
            cause=cause_type,
            properties=self.store.shadow.values(device.id),
            at=now,
            changed=tuple(changed),
            journey=journey,
        )
        self.reporter.publish(user, report, entry=entry)  # the row and its reports together
        return outcome

    def connectivity(self, user: User, device_id: str, online: bool) -> None:
        """A device came online or went offline: platforms that model reachability hear it."""
        self.reporter.publish(
            user,
            Reachability(
                user_id=user.id,
                device_id=device_id,
                online=online,
                properties=self.store.shadow.values(device_id),
                at=time.time(),
                journey=journeys.new(),
            ),
        )
