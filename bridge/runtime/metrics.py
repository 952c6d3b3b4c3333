"""Operators' metrics in Prometheus text format, one registry per app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
LAG_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0)
"""Report lag: a platform may ask for a change report within 3 s of the change."""


class Metrics:
    def __init__(self, online: Callable[[], int], outbox: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self._children: dict[tuple[str, str], tuple[Counter, Histogram]] = {}
        self.commands = Counter(
            "bridge_commands",
            "Commands sent to devices, by origin and outcome",
            ["origin", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "bridge_command_seconds",
            "Send-and-wait time of commands, by origin (a platform, api, cli) and outcome",
            ["origin", "outcome"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.report_lag = Histogram(
            "bridge_report_lag_seconds",
            "From a device's change to the platform's acknowledgement of its report",
            ["platform"],
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.reports = Counter(
            "bridge_reports",
            "Proactive report attempts, by platform and outcome",
            ["platform", "outcome"],
            registry=self.registry,
        )
        Gauge(
            "bridge_devices_connected",
            "Devices reachable now: a live socket, a connected MQTT thing",
            registry=self.registry,
        ).set_function(online)
        Gauge(
            "bridge_outbox_pending", "Reports waiting in the outbox", registry=self.registry
        ).set_function(outbox)

    def refusals(self, sampler: Any) -> None:
        """Export the refusals of nobody's account: all of them, and those only counted."""
        seen = Gauge(
            "bridge_anonymous_refusals",
            "Refusals of callers with no account (a wrong secret, a bad token), by whether"
            " the history kept them in full or only counted them",
            ["kept"],
            registry=self.registry,
        )
        seen.labels("yes").set_function(lambda: sampler.total - sampler.counted_only)
        seen.labels("no").set_function(lambda: sampler.counted_only)

    def budgets(self, budgets: Any) -> None:
        """Export every budget's refusals and its sources over it now (read when scraped)."""
        self.registry.register(_BudgetCollector(budgets))

    def services(self, services: list[Any]) -> None:
        """Export each background service's health and recoveries (read when scraped)."""
        up = Gauge(
            "bridge_service_up",
            "1 while a background service runs (or backs off within its budget), else 0",
            ["service"],
            registry=self.registry,
        )
        recovered = Gauge(
            "bridge_service_reconnects",
            "Times a background service recovered after failing",
            ["service"],
            registry=self.registry,
        )
        for service in services:
            up.labels(service.name).set_function(lambda s=service: float(not s.failing()))
            recovered.labels(service.name).set_function(lambda s=service: s.reconnects)

    def accuracy(self, latest: Callable[[], dict[str, Any]]) -> None:
        """Export each platform's state accuracy (its newest sample, read when scraped) and
        count the repairs this worker made."""
        self.repairs = Counter(
            "bridge_state_repairs",
            "Reports sent again because a platform held another state than the device",
            ["platform"],
            registry=self.registry,
        )
        self.registry.register(_AccuracyCollector(latest))

    def repaired(self, platform: str) -> None:
        self.repairs.labels(platform).inc()

    def command(self, origin: str, outcome: str, seconds: float) -> None:
        children = self._children.get((origin, outcome))
        if children is None:  # labels() costs a lock and a lookup: keep the children per pair
            platform = "api" if origin.startswith("api:") else origin
            children = self._children[(origin, outcome)] = (
                self.commands.labels(platform, outcome),
                self.latency.labels(platform, outcome),
            )
        children[0].inc()
        children[1].observe(seconds)

    def delivered(self, platform: str, lag: float) -> None:
        """A report the platform acknowledged, `lag` seconds after the change it reports."""
        self.report_lag.labels(platform).observe(max(0.0, lag))

    def report(self, platform: str, outcome: str) -> None:
        self.reports.labels(platform, outcome).inc()


class _BudgetCollector(Collector):
    """The budgets as they are when scraped: plugins make theirs after the metrics."""

    def __init__(self, budgets: Any) -> None:
        self.budgets = budgets

    def collect(self) -> Any:
        refused = CounterMetricFamily(
            "bridge_budget_refused",
            "Requests refused because their source was past its budget, by budget",
            labels=["budget"],
        )
        flooding = GaugeMetricFamily(
            "bridge_budget_flooding",
            "Sources past their budget now (in this worker), by budget",
            labels=["budget"],
        )
        for budget in self.budgets:
            refused.add_metric([budget.name], budget.refused)
            flooding.add_metric([budget.name], budget.flooding())
        yield refused
        yield flooding


class _AccuracyCollector(Collector):
    """The newest accuracy sample of each platform, wherever the check ran."""

    def __init__(self, latest: Callable[[], dict[str, Any]]) -> None:
        self.latest = latest

    def collect(self) -> Any:
        found = GaugeMetricFamily(
            "bridge_state_accuracy",
            "Share (0-1) of the (device, property) pairs where the platform holds the device's"
            " value, at the newest check",
            labels=["platform"],
        )
        for platform, sample in sorted(self.latest().items()):
            found.add_metric([platform], sample.agreeing / sample.pairs if sample.pairs else 1.0)
        yield found
