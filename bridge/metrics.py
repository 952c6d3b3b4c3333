"""Operators' metrics in Prometheus text format, one registry per app."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


class Metrics:
    def __init__(self, online: Callable[[], int], outbox: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self._children: dict[tuple[str, str], Counter] = {}
        self.commands = Counter(
            "bridge_commands",
            "Commands sent to devices, by origin and outcome",
            ["origin", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "bridge_command_seconds",
            "Send-and-wait time of answered commands",
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.reports = Counter(
            "bridge_reports",
            "Proactive report attempts, by platform and outcome",
            ["platform", "outcome"],
            registry=self.registry,
        )
        Gauge(
            "bridge_devices_connected", "Devices with a live socket", registry=self.registry
        ).set_function(online)
        Gauge(
            "bridge_outbox_pending", "Reports waiting in the outbox", registry=self.registry
        ).set_function(outbox)

    def command(self, origin: str, outcome: str, seconds: float) -> None:
        child = self._children.get((origin, outcome))
        if child is None:  # labels() costs a lock and a lookup: keep the child per pair
            platform = "api" if origin.startswith("api:") else origin
            child = self._children[(origin, outcome)] = self.commands.labels(platform, outcome)
        child.inc()
        if outcome == "ok":
            self.latency.observe(seconds)

    def report(self, platform: str, outcome: str) -> None:
        self.reports.labels(platform, outcome).inc()
