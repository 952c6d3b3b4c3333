"""A command as one worker forwards it to the worker holding the device."""

import pytest

from bridge import journeys
from bridge.model import Command
from bridge.transports import forwarding


def test_a_command_crosses_with_its_journey():
    journey = journeys.begin()
    try:
        sent = forwarding.request("d1", Command("d1", "setPowerState", {"state": "On"}), 3.0)
    finally:
        journeys.end()
    assert forwarding.command_of(sent).journey == journey.id


def test_a_newer_workers_extra_fields_are_left_out():
    """In a rolling upgrade a newer worker's Command may have fields this one lacks."""
    sent = {"command": {"device_id": "d1", "action": "setPowerState", "value": {}, "later": 1}}
    assert forwarding.command_of(sent) == Command("d1", "setPowerState", {})


@pytest.mark.parametrize("sent", [{}, {"command": "setPowerState"}, {"command": [1]}])
def test_no_command_is_refused(sent):
    with pytest.raises(ValueError):
        forwarding.command_of(sent)
