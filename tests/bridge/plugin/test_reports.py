"""Report messages: stored with their tag and version, read back typed, older rows too."""

from __future__ import annotations

import json

import pytest

from bridge.reports.messages import (
    Alert,
    DeviceAnnounced,
    LateResult,
    Reachability,
    Sink,
    StateReport,
    decode,
    encode,
)

WHO = {"user_id": 7, "device_id": "d" * 24, "at": 100.0, "journey": "j1", "origin": "alexa"}
MESSAGES = [
    StateReport(event="setPowerState", value={"state": "On"}, changed=("powerState",), **WHO),
    Reachability(online=False, **WHO),
    DeviceAnnounced(change="removed", **WHO),
    LateResult(command="setLockState", outcome="timeout", reply_to="c-1", **WHO),
    Alert(alert="dead_letters", message="5 reports dead-lettered", **WHO),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.label)
def test_each_message_is_stored_with_its_tag_and_version_and_read_back(message):
    stored = json.loads(encode(message))
    assert stored["kind"] == type(message).__struct_config__.tag and stored["v"] == 2
    assert decode(encode(message)) == message


class Heard(Sink):
    name = "heard"

    def __init__(self) -> None:
        self.got: list[str] = []

    def state_report(self, user, message):
        self.got.append("state")

    def late_result(self, user, message):
        self.got.append("late")


def test_a_sink_hears_only_what_it_implements():
    sink = Heard()
    for message in MESSAGES:
        message.to(sink, None)
    assert sink.got == ["state", "late"]


def test_unreadable_or_unknown_versions_are_none():
    assert decode("{not json") is None
    assert decode(json.dumps({**json.loads(encode(MESSAGES[0])), "v": 99})) is None
    assert decode(json.dumps({"kind": "state", "v": 2})) is None  # fields missing
    assert decode(json.dumps({"kind": "gossip", "v": 2, **WHO})) is None
    assert decode("[1, 2]") is None


def old(**change) -> str:
    """A row as the bridge wrote it before messages were typed (one shape for all)."""
    base = {
        "user_id": 7,
        "device_id": "d" * 24,
        "action": "setPowerState",
        "value": {},
        "instance_id": None,
        "cause": "PHYSICAL_INTERACTION",
        "origin": None,
        "properties": {},
        "at": 1.0,
        "changed": [],
        "kind": "state",
        "outcome": None,
        "reply_to": None,
        "journey": None,
        "v": 1,
    }
    return json.dumps({**base, **change})


def test_rows_of_before_are_read_as_what_they_said():
    state = decode(old(changed=["powerState"], properties={"powerState": "On"}))
    assert isinstance(state, StateReport) and state.changed == ("powerState",)
    both = decode(old(changed=["connectivity", "powerState"]))  # folded before the upgrade
    assert isinstance(both, StateReport) and both.changed == ("connectivity", "powerState")
    reach = decode(old(action="connectivity", value={"online": True}, changed=["connectivity"]))
    assert isinstance(reach, Reachability) and reach.online
    late = decode(old(kind="late", outcome="refused", cause="jammed", reply_to="c-9"))
    assert isinstance(late, LateResult) and (late.outcome, late.detail) == ("refused", "jammed")
    assert decode(old(kind="added")) == DeviceAnnounced(
        user_id=7, device_id="d" * 24, at=1.0, change="added"
    )
    alert = decode(old(kind="alert", action="device_offline", cause="Lamp is offline"))
    assert isinstance(alert, Alert) and alert.message == "Lamp is offline"


def test_a_devices_newest_state_absorbs_its_older_state_and_reachability():
    """One report per device says all that moved: what a platform is told is its state now."""
    first, second = (
        StateReport(event="setPowerState", changed=("powerState",), **WHO),
        StateReport(event="setBrightness", changed=("brightness", "powerState"), **WHO),
    )
    assert second.absorb(first).changed == ("powerState", "brightness")
    press = StateReport(event="DoorbellPress", **WHO)  # an event: no state to supersede
    assert not press.latest_state and press.absorb(first) is None
    assert second.absorb(press) is None
    online = Reachability(online=True, **{**WHO, "at": 200.0})
    assert second.absorb(online).changed == ("connectivity", "brightness", "powerState")
    folded = online.absorb(first)  # the newer is reachability: a state report of both
    assert isinstance(folded, StateReport) and folded.changed == ("powerState", "connectivity")
    assert folded.at == 200.0
    assert MESSAGES[1].absorb(online) == MESSAGES[1]


def test_an_alarm_going_off_is_never_folded_into_what_came_after():
    went_off = StateReport(
        event="setLeakState", value={"state": "detected"}, changed=("leakState",), **WHO
    )
    cleared = StateReport(
        event="setLeakState", value={"state": "clear"}, changed=("leakState",), **WHO
    )
    assert went_off.alarm and not cleared.alarm
    assert cleared.absorb(went_off) is None
    assert Reachability(online=False, **WHO).absorb(went_off) is None
    assert went_off.absorb(cleared).changed == ("leakState",)  # a clear may be folded into it
