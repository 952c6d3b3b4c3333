import pytest

from bridge import catalog
from bridge.client import Refused
from bridge.model import Device
from bridge.simulator import VirtualDevice, _hint, _state_teller


def virtual(type_name: str) -> VirtualDevice:
    return VirtualDevice(Device("a" * 24, 1, type_name, "Sim"))


def test_set_and_adjust_stay_in_range():
    light = virtual("light")
    assert light.apply("setBrightness", {"brightness": 90}, None) == {"brightness": 90}
    assert light.apply("adjustBrightness", {"brightnessDelta": 30}, None) == {"brightness": 100}
    assert light.apply("adjustBrightness", {"brightnessDelta": -100}, None) == {"brightness": 0}
    assert light.apply("increaseColorTemperature", {}, None) == {"colorTemperature": 2700}
    assert light.state == {"brightness": 0, "colorTemperature": 2700}


def test_fan_speed_uses_its_instance():
    fan = virtual("fan")
    assert fan.apply("setRangeValue", {"rangeValue": 4}, "Fan.Speed") == {"rangeValue": 4}
    assert fan.apply("adjustRangeValue", {"rangeValueDelta": 3}, "Fan.Speed") == {"rangeValue": 5}
    with pytest.raises(Refused):
        fan.apply("setRangeValue", {"rangeValue": 4}, None)


def test_refuses_what_the_type_cannot_do():
    with pytest.raises(Refused, match="did not handle"):
        virtual("switch").apply("setBrightness", {"brightness": 1}, None)
    with pytest.raises(Refused, match="one of LOCKED, UNLOCKED"):
        virtual("lock").apply("setLockState", {"state": "OPEN"}, None)


@pytest.mark.parametrize(
    "type_name, action",
    [
        ("light", "setPowerState"),
        ("temperature_sensor", "currentTemperature"),
        ("contact_sensor", "setContactState"),
        ("motion_sensor", "motion"),
        ("doorbell", "DoorbellPress"),
        ("energy_meter", "powerUsage"),
        ("leak_sensor", "setLeakState"),
        ("smoke_sensor", "setSmokeState"),
        ("button", "setSmartButtonState"),
        ("garage_door", "setMode"),
    ],
)
def test_random_events_fit_the_type(type_name, action):
    event, value, instance, _ = virtual(type_name).random_event()
    assert event == action
    catalog.state_from(type_name, event, value, instance)  # raises when it does not fit


def test_every_type_plays_something_but_what_only_changes_when_told():
    silent = {t for t in catalog.TYPES if virtual(t).random_event() is None}
    assert silent == {"scene", "lock", "blinds"}


def test_a_meter_counts_the_energy_of_the_interval_since_its_last_reading(monkeypatch):
    meter = virtual("energy_meter")
    clock = iter([1_000_000, 1_000_000 + 1800])
    monkeypatch.setattr("bridge.simulator.time.time", lambda: next(clock))
    first = meter.random_event()[1]
    second = meter.random_event()[1]
    assert first["wattHours"] == 0 and first["startTime"] == 1_000_000
    assert second["startTime"] == 1_000_000
    assert second["wattHours"] == pytest.approx(first["power"] / 2, abs=0.001)


def test_a_garage_door_opens_and_closes_as_asked_and_in_turn():
    door = virtual("garage_door")
    assert door.apply("setMode", {"mode": "Open"}, None) == {"mode": "Open"}
    assert door.random_event()[1] == {"mode": "Close"}
    with pytest.raises(Refused, match="one of Open, Close, Stop"):
        door.apply("setMode", {"mode": "Ajar"}, None)


def test_a_things_connection_changes_are_said_once_each():
    said: list[str] = []
    tell = _state_teller("Lamp", said.append)
    for _ in range(3):  # a broker that is away: tried again and again, said once
        tell(False, "no broker there")
    tell(True, "")
    tell(True, "")
    tell(False, "Unspecified error")
    assert said == [
        "thing Lamp not connected: no broker there",
        "thing Lamp connected",
        "thing Lamp not connected: Unspecified error",
    ]


def test_a_refusal_a_person_can_act_on_comes_with_what_to_do():
    assert "another `bridge simulate`" in _hint("device is connected on another live socket")
    assert "make run" in _hint("ConnectionRefusedError: [Errno 111] Connection refused")
    assert _hint("closed") == ""
