"""Report State and Request Sync: what each change tells HomeGraph.

A state change sends the device's whole state (Google keeps the newest,
so a report folded from several changes is still true); a doorbell press
is an ObjectDetection notification with an event id that stays the same
across retries; a device added, renamed or removed asks Google to SYNC
again, at most once per user every `sync_interval` seconds, and a request
sent after a change covers it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from adapters.google import traits
from adapters.google.homegraph import HomeGraph, UnknownAgent
from bridge.plugin import (
    CONNECTIVITY,
    AdapterContext,
    Device,
    DeviceAnnounced,
    LateResult,
    LinkRevoked,
    Reachability,
    RetryLater,
    Sink,
    StateReport,
    UnknownDevice,
    User,
)


class Reports(Sink):
    def __init__(
        self,
        context: AdapterContext,
        homegraph: HomeGraph,
        state_of: Callable[[Device], dict[str, Any]],
    ) -> None:
        self.context = context
        self.homegraph = homegraph
        self.state_of = state_of
        self.sync_every = context.settings.sync_interval

    def state_report(self, user: User, m: StateReport) -> None:
        device = self.context.reported_device(user, m.device_id)
        shape = traits.shape(device.type)
        if shape is None:
            return
        if m.event == "DoorbellPress" and shape.notifications:
            self._call(user, self._doorbell(device, m.at))
        elif set(m.changed) & (traits.reported(device.type) | {CONNECTIVITY}):
            self._report_state(user, device)

    def reachability(self, user: User, m: Reachability) -> None:
        self._current(user, m.device_id)

    def late_result(self, user: User, m: LateResult) -> None:
        """The state as it is now, however the command ended."""
        self._current(user, m.device_id)

    def _current(self, user: User, device_id: str) -> None:
        device = self.context.reported_device(user, device_id)
        if traits.shape(device.type) is not None:
            self._report_state(user, device)

    def device_announced(self, user: User, m: DeviceAnnounced) -> None:
        self._call(user, None, m.at)

    def _report_state(self, user: User, device: Device) -> None:
        states = {"devices": {"states": {device.id: self.state_of(device)}}}
        self._call(user, {"requestId": str(uuid.uuid4()), "payload": states})

    def _doorbell(self, device: Device, at: float) -> dict[str, Any]:
        detected = {
            "objects": {"unclassified": 1},
            "priority": 0,
            "detectionTimestamp": int(at * 1000),
        }
        return {
            "requestId": str(uuid.uuid4()),
            "eventId": f"{device.id}-{int(at * 1000)}",  # the same on a retry
            "payload": {"devices": {"notifications": {device.id: {"ObjectDetection": detected}}}},
        }

    def _call(self, user: User, body: dict[str, Any] | None, sync_for: float = 0.0) -> None:
        """Report State (a body) or Request Sync (none) for the user's agent.

        HomeGraph answers 404 alike for a user and for a device it does not know. A report's
        404 is taken as the device's (the user removed it in Google Home): it is announced
        again, with a Request Sync, whose own 404 is the user's and ends the link.
        """
        link = self.context.links.get(user.id)
        agent = link.get("agentUserId") if link else None
        if not agent:
            return
        if body is not None:
            try:
                self.homegraph.call("reportStateAndNotification", {**body, "agentUserId": agent})
            except UnknownAgent as exc:
                raise UnknownDevice(f"HomeGraph does not know the device: {exc}") from None
            return
        try:
            self._request_sync(user, agent, sync_for)
        except UnknownAgent as exc:
            self.context.links.revoke(user.id, f"HomeGraph no longer knows the user: {exc}")
            raise LinkRevoked(str(exc)) from None

    def _request_sync(self, user: User, agent: str, changed_at: float) -> None:
        key = f"synced:{user.id}"
        sent = float(self.context.facts.get(key) or 0.0)
        if sent > changed_at:
            return  # a request made since asked Google for this change too
        if not self.context.facts.claim(f"sync:{user.id}", self.sync_every):
            raise RetryLater(
                f"Request Sync: one per user every {self.sync_every:g} s",
                after=self.sync_every,
                throttled=True,
            )
        now = time.time()
        self.homegraph.call("requestSync", {"agentUserId": agent, "async": True})
        self.context.facts.put(key, now, ttl=max(3600.0, 10 * self.sync_every))
