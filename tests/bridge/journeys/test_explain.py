"""The sentence that explains a journey, from its rows alone."""

from __future__ import annotations

from bridge.journeys.explain import explain


def row(kind: str, outcome: str, **extra) -> dict:
    return {"id": 1, "at": 0.0, "kind": kind, "outcome": outcome, **extra}


def test_a_budget_that_bit_is_named_with_its_figure():
    detail = "over its budget of 20 requests a second: refused until it calms"
    rows = [row("event", "throttled", device_id="d", detail=detail)]
    assert explain(rows, {}, lambda *_: None) == f"throttled: {detail}"


def test_a_journey_that_went_well_has_nothing_to_explain():
    rows = [row("event", "ok", device_id="d"), row("report", "ok", origin="alexa")]
    assert explain(rows, {}, lambda *_: None) is None


def test_a_platform_that_no_longer_knew_the_device_is_named_with_its_answer():
    detail = "HomeGraph does not know the device: HomeGraph 404 NOT_FOUND"
    rows = [row("event", "ok", device_id="d"), row("report", "unknown", origin="x", detail=detail)]
    assert explain(rows, {}, lambda *_: None) == (
        f"x no longer knew the device ({detail}): it is announced again"
    )
