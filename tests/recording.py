"""A platform adapter that wants every report and keeps them: for in-process core tests."""

from __future__ import annotations

from bridge.plugin import Adapter, VoiceReply


class Recording(Adapter):
    """A real Adapter subclass; `reports` holds what the reporter delivered to it."""

    name = "recording"

    def __init__(self) -> None:
        self.reports: list = []

    def handle(self, request):
        return VoiceReply({})

    def wants_reports(self, user):
        return True

    def report(self, user, change):
        self.reports.append(change)
