"""Budgets: a rate with a burst per source, refusals counted, a flood told twice."""

from __future__ import annotations

import pytest

from bridge.bus.local import LocalBus
from bridge.model import Unavailable
from bridge.runtime import budgets as budgets_module
from bridge.runtime.budgets import Budget, Budgets
from bridge.runtime.metrics import Metrics


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class SharedBus(LocalBus):
    """A bus other workers share (its buckets stand for Redis's); `away` stands for Redis
    going down."""

    shared = True
    away = False

    def take(self, key: str, rate: float, burst: int) -> float:
        if self.away:
            raise Unavailable("the bus is away")
        return super().take(key, rate, burst)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_source_gets_its_burst_then_its_rate_and_others_are_untouched(clock):
    budget = Budget("thing requests", rate=10, burst=3, clock=clock)
    assert [budget.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert budget.take("a") == pytest.approx(0.1)
    assert budget.take("b") == 0.0  # another source has its own bucket
    clock.now += 0.1
    assert budget.take("a") == 0.0
    assert budget.take("a") > 0
    assert budget.refused == 2
    assert str(budget) == "10 requests a second"


def test_a_flood_is_told_when_it_begins_and_once_when_it_calms(clock):
    budget = Budget("thing requests", rate=10, burst=2, clock=clock)
    budget.take("a"), budget.take("a")
    assert budget.flood("a") is None
    for _ in range(5):
        budget.take("a")
        clock.now += 0.01
    flood = budget.flood("a")
    assert flood is not None and flood.refused == 5 and budget.flooding() == 1
    assert budget.calmed() == []  # not quiet for as long as the burst takes to refill
    clock.now += 0.21
    over = budget.calmed()
    assert [(f.key, f.refused, round(f.seconds, 2)) for f in over] == [("a", 5, 0.04)]
    assert budget.calmed() == [] and budget.flood("a") is None and budget.flooding() == 0


def test_the_buckets_kept_are_bounded(clock, monkeypatch):
    monkeypatch.setattr(budgets_module, "MAX_KEYS", 3)
    budget = Budget("x", rate=1, burst=1, clock=clock)
    assert [budget.take(key) for key in "abc"] == [0.0] * 3
    assert all(budget.take(key) > 0 for key in "abc")
    assert budget.refused == 3 and budget.flooding() == 3
    assert budget.take("d") == 0.0  # a fourth: the oldest bucket ("a") goes
    assert budget.take("d") > 0  # counted, though the floods' table is full
    assert budget.refused == 4 and budget.flooding() == 3 and budget.flood("d") is None
    assert budget.take("a") == 0.0  # forgotten: a full bucket again


def test_a_zero_rate_is_no_limit(clock):
    budget = Budget("x", rate=0, burst=1, clock=clock)
    assert all(budget.take("a") == 0.0 for _ in range(100))


def test_a_shared_budget_is_one_bucket_for_every_worker_and_serves_while_the_bus_is_away(
    clock,
):
    bus = SharedBus("w1", clock=clock)
    one, two = Budgets(bus, clock), Budgets(bus, clock)  # two workers on one bus
    first = one.budget("account directives", 1, 2, shared=True)
    second = two.budget("account directives", 1, 2, shared=True)
    assert [first.take("alice"), second.take("alice")] == [0.0, 0.0]
    assert second.take("alice") > 0 and first.take("alice") > 0
    local = Budgets(bus, clock).budget("thing requests", 1, 2)  # not shared: its own
    assert local.take("alice") == 0.0
    bus.away = True
    assert first.take("alice") == 0.0


def test_budgets_are_named_once_and_exported_when_scraped(clock):
    from prometheus_client import generate_latest

    budgets = Budgets(clock=clock)
    metrics = Metrics(lambda: 0, lambda: 0)
    metrics.budgets(budgets)
    made = budgets.budget("thing requests", 1, 1, unit="updates")
    assert budgets.budget("thing requests", 5, 5) is made
    made.take("a"), made.take("a"), made.take("b"), made.take("b")
    text = generate_latest(metrics.registry).decode()
    assert 'bridge_budget_refused_total{budget="thing requests"} 2.0' in text
    assert 'bridge_budget_flooding{budget="thing requests"} 2.0' in text


def test_a_crowd_is_let_in_at_the_rate_in_arrival_order_and_told_when_too_far_off(clock):
    budget = Budget("device upgrades", rate=10, burst=3, clock=clock)
    waits = [budget.reserve("", patience=0.35) for _ in range(8)]
    assert waits[:3] == [0.0, 0.0, 0.0]  # the burst
    assert [round(w, 2) for w in waits[3:6]] == [0.1, 0.2, 0.3]  # then one per 0.1 s
    assert waits[6:] == [None, None]  # further off than its patience: refused
    assert budget.refused == 2 and budget.flood("") is not None
    clock.now += 0.3  # the turns reserved went by
    assert round(budget.reserve("", patience=0.35), 2) == 0.1
    clock.now += 10  # quiet: a whole burst again
    assert [budget.reserve("", patience=0) for _ in range(3)] == [0.0, 0.0, 0.0]


def test_a_flood_is_told_once_in_this_process_and_once_a_minute_on_a_shared_bus(clock):
    local = Budget("x", rate=1, burst=1, clock=clock)
    local.take("a"), local.take("a")
    assert local.told("a")
    local.take("a")
    assert not local.told("a")
    bus = SharedBus("w1", clock=clock)
    workers = [Budgets(bus, clock).budget("directives", 1, 1, shared=True) for _ in range(2)]
    for budget in workers:
        budget.take("a"), budget.take("a")
    assert [workers[0].told("a"), workers[1].told("a")] == [True, False]  # one of the two
    clock.now += 61
    assert workers[1].told("a")
