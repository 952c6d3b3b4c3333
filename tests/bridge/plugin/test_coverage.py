"""Every catalog type has a decided cell on every shipped platform, and what an adapter
says it lists is what its discovery lists."""

from __future__ import annotations

import pytest

from adapters.alexa.discovery import endpoint as alexa_endpoint
from adapters.google.traits import shape as google_shape
from adapters.tmallgenie.profiles import profile as genie_profile
from adapters.tuya.functions import functions as tuya_functions
from adapters.xiaodu.attributes import profile as xiaodu_profile
from bridge import catalog
from bridge.model import Device
from bridge.plugin import coverage as cov
from bridge.reference import coverage_page, plugins

PLATFORMS = {n: c for n, c in plugins().items() if hasattr(c, "coverage")}


def test_the_shipped_platforms_all_answer():
    assert set(PLATFORMS) == {"alexa", "google", "xiaodu", "tmallgenie", "tuya"}


@pytest.mark.parametrize("name", sorted(PLATFORMS))
def test_every_type_has_every_cell_decided(name):
    undecided = {
        t: wrong for t in catalog.TYPES if (wrong := cov.decided(t, PLATFORMS[name].coverage(t)))
    }
    assert undecided == {}


LISTS = {
    "alexa": lambda t: alexa_endpoint(Device(f"{t}-1", 1, t, t, None, "sinric")) is not None,
    "google": lambda t: google_shape(t) is not None,
    "xiaodu": lambda t: xiaodu_profile(t) is not None,
    "tmallgenie": lambda t: genie_profile(t) is not None,
    "tuya": lambda t: bool(tuya_functions(t)),
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_discovered_is_what_discovery_lists(name):
    claimed = {t for t in catalog.TYPES if PLATFORMS[name].coverage(t).discovered.supported}
    assert claimed == {t for t in catalog.TYPES if LISTS[name](t)}


def test_a_cell_left_out_or_given_where_nothing_applies_is_caught():
    sensor = cov.Coverage(cov.yes("a trait"), cov.NONE, cov.yes("reports"), cov.yes("starts"))
    assert cov.decided("smoke_sensor", sensor) == []
    assert cov.decided("smoke_sensor", None) == list(cov.ASPECTS)
    commanded = cov.Coverage(cov.yes("a trait"), cov.yes("set"), cov.yes("reports"), cov.NONE)
    assert cov.decided("smoke_sensor", commanded) == ["controllable", "trigger"]
    assert cov.decided("switch", cov.Coverage(*[cov.no("")] * 4)) == list(cov.ASPECTS)
    assert cov.decided("button", cov.absent("button", "no such thing")) == []


def test_the_page_has_a_row_per_type_and_no_undecided_cell():
    page = coverage_page()
    assert "undecided" not in page
    for type_name in catalog.TYPES:
        assert page.count(f"| `{type_name}` |") == 1 + len(PLATFORMS)
