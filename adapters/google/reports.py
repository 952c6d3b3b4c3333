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
    DEVICE_KINDS,
    AdapterContext,
    Device,
    LinkRevoked,
    RetryLater,
    StateChange,
    User,
)


class Reports:
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

    def send(self, user: User, agent: str, change: StateChange) -> None:
        try:
            if change.kind in DEVICE_KINDS:
                self._request_sync(user, agent, change)
                return
            body = self._state_report(user, agent, change)
            if body is not None:
                self.homegraph.call("reportStateAndNotification", body)
        except UnknownAgent as exc:
            self.context.links.revoke(user.id, f"HomeGraph no longer knows the user: {exc}")
            raise LinkRevoked(str(exc)) from None

    def _state_report(self, user: User, agent: str, change: StateChange) -> dict | None:
        if change.kind not in ("state", "late"):
            return None
        device = self.context.reported_device(user, change.device_id)
        shape = traits.shape(device.type)
        if shape is None:
            return None
        body: dict[str, Any] = {"requestId": str(uuid.uuid4()), "agentUserId": agent}
        if change.action == "DoorbellPress" and shape.notifications:
            body["eventId"] = f"{device.id}-{int(change.at * 1000)}"  # the same on a retry
            body["payload"] = {
                "devices": {
                    "notifications": {
                        device.id: {
                            "ObjectDetection": {
                                "objects": {"unclassified": 1},
                                "priority": 0,
                                "detectionTimestamp": int(change.at * 1000),
                            }
                        }
                    }
                }
            }
            return body
        wanted = traits.reported(device.type) | {CONNECTIVITY}
        # A late result reports the state as it is now, however the command ended.
        if change.kind == "state" and not set(change.changed) & wanted:
            return None
        body["payload"] = {"devices": {"states": {device.id: self.state_of(device)}}}
        return body

    def _request_sync(self, user: User, agent: str, change: StateChange) -> None:
        key = f"synced:{user.id}"
        sent = float(self.context.facts.get(key) or 0.0)
        if sent > change.at:
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
