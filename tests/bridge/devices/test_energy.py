"""A meter's energy by interval: each reading's energy split over the time it covers."""

from __future__ import annotations

import pytest

from bridge.devices.energy import MAX_INTERVALS, intervals
from bridge.store.readings import Reading

HOUR = 3600.0


def test_a_reading_spanning_two_hours_is_split_by_time():
    found = intervals([Reading(2.5 * HOUR, 1.5 * HOUR, 100.0, 300.0)], 0, 3 * HOUR, HOUR)
    assert [i.watt_hours for i in found] == [0.0, 150.0, 150.0]
    assert [i.readings for i in found] == [0, 1, 1]
    assert (found[1].start, found[1].end) == (HOUR, 2 * HOUR)


def test_a_reading_without_a_start_counts_where_it_was_taken():
    found = intervals([Reading(1.2 * HOUR, None, 50.0, 12.0)], 0, 2 * HOUR, HOUR)
    assert [i.watt_hours for i in found] == [0.0, 12.0]


def test_only_the_part_inside_the_range_counts_and_readings_add_up():
    readings = [
        Reading(0.5 * HOUR, -0.5 * HOUR, None, 100.0),  # half of it before the range
        Reading(0.75 * HOUR, 0.5 * HOUR, None, 10.0),
        Reading(HOUR + 60, 0.75 * HOUR, None, None),  # power only: no energy said
    ]
    found = intervals(readings, 0, HOUR, HOUR)
    assert found[0].watt_hours == pytest.approx(60.0) and found[0].readings == 2


@pytest.mark.parametrize("until", [0.0, -HOUR, (MAX_INTERVALS + 1) * HOUR])
def test_a_range_that_is_empty_or_too_long_is_refused(until):
    with pytest.raises(ValueError, match="intervals"):
        intervals([], 0, until, HOUR)
