"""A platform adapter that keeps every report it is sent: for in-process core tests."""

from __future__ import annotations

from bridge.plugin import Adapter, VoiceReply


class Recording(Adapter):
    """A real Adapter subclass; `reports` holds every message the reporter delivered to it.
    A user hears of their devices once `subscribe(store, user)` linked them."""

    name = "recording"

    def __init__(self) -> None:
        self.reports: list = []

    def handle(self, request):
        return VoiceReply({})

    def takes_reports(self, link):
        return True

    def state_report(self, user, message):
        self.reports.append(message)

    reachability = device_announced = late_result = alert = state_report


def subscribe(store, user, adapter: str = "recording") -> None:
    """The user linked the adapter, and the link takes reports."""
    store.links(adapter).put(user.id, {}, reports=True)
