"""State accuracy: what each platform was told against the shadow, sampled and repaired."""

import pytest
from recording import subscribe

from bridge.plugin import (
    Adapter,
    DeviceAnnounced,
    RetryLater,
    StateReport,
    UnknownDevice,
    VoiceReply,
    coverage,
)
from bridge.reports.accuracy import REPAIR, Accuracy
from bridge.reports.alerts import AlertChecker
from bridge.reports.delivery import Reporter

GRACE, EVERY = 30.0, 10.0


class Platform(Adapter):
    """A real adapter subclass that takes every report and can be read back."""

    name = "platform"
    title = "Platform X"

    def __init__(self, rate: float = 0.0) -> None:
        self.delivered: list = []
        self.rate = rate
        self.holds: dict[str, dict] = {}  # what a read-back finds, by device
        self.asked: list[list[str]] = []
        self.down = False
        self.forgot: set[str] = set()  # devices it no longer knows

    @classmethod
    def coverage(cls, type_name):
        return coverage.fitted(
            type_name, coverage.yes("x"), coverage.yes("x"), coverage.yes("x"), coverage.yes("x")
        )

    def handle(self, request):
        return VoiceReply({})

    def state_report(self, user, message):
        if message.device_id in self.forgot:
            raise UnknownDevice("no such device here")
        self.delivered.append(message)

    def device_announced(self, user, message):
        self.forgot.discard(message.device_id)  # an announce teaches it the device
        self.delivered.append(message)

    def read_back_rate(self) -> float:
        return self.rate

    def read_back(self, user, devices):
        if self.down:
            raise RetryLater("quota")
        self.asked.append([d.id for d in devices])
        return {d.id: self.holds[d.id] for d in devices if d.id in self.holds}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(open_store):
    store = open_store()
    platform = Platform(rate=60.0)
    reporter = Reporter(store, lambda: {"platform": platform}, retry_base=0.01, max_attempts=3)
    user, _ = store.users.create("alice", "password1")
    subscribe(store, user, "platform")
    lamp = store.devices.create(user.id, "light", "Hall lamp")
    clock = Clock()
    repairs: list[str] = []
    accuracy = Accuracy(
        store,
        lambda: {"platform": platform},
        reporter.reporting,
        GRACE,
        EVERY,
        repaired=repairs.append,
        clock=clock,
    )
    return store, reporter, platform, user, lamp, clock, accuracy, repairs


def _changed(store, reporter, user, lamp, state, brightness=50):
    changed = store.shadow.update(
        lamp.id, {"powerState": state, "brightness": brightness}, None, 1.0
    )
    store.writer.flush()
    reporter.publish(
        user,
        StateReport(
            user_id=user.id,
            device_id=lamp.id,
            event="setPowerState",
            value={"state": state},
            properties=store.shadow.values(lamp.id),
            changed=tuple(changed),
            at=1.0,
        ),
    )


def _deliver(store, reporter):
    for _ in range(3):
        store.db.execute("update outbox set next_attempt_at = 0")
        reporter.deliver_due()


def test_a_delivered_report_is_what_the_platform_holds_and_agrees(world):
    store, reporter, _platform, user, lamp, clock, accuracy, _ = world
    _changed(store, reporter, user, lamp, "On")
    [sample] = accuracy.check()
    assert (sample.pairs, sample.agreeing) == (0, 0)  # told nothing yet: nothing to compare
    _deliver(store, reporter)
    clock.now += EVERY
    [sample] = accuracy.check()
    assert (sample.pairs, sample.agreeing) == (2, 2)
    assert store.beliefs.latest()["platform"].pairs == 2


def test_drift_is_repaired_after_the_grace_once_with_its_reason_as_a_journey(world):
    store, reporter, platform, user, lamp, clock, accuracy, repairs = world
    _changed(store, reporter, user, lamp, "On")
    _deliver(store, reporter)
    # The device moves and the report is lost (given up): the platform still holds "On".
    store.shadow.update(lamp.id, {"powerState": "Off"}, None, 2.0)
    store.writer.flush()
    [sample] = accuracy.check()
    assert (sample.pairs, sample.agreeing) == (2, 1)
    clock.now += GRACE - 1
    accuracy.check()
    assert not repairs  # within the grace: a report may still be on its way
    clock.now += 2
    accuracy.check()
    assert repairs == ["platform"]
    store.writer.flush()
    [hop] = store.messages.query(device_id=lamp.id, kind="repair")
    [queued] = store.outbox.of_journey(user.id, hop["journey"])
    assert queued["adapter"] == "platform" and queued["delivered_at"] is None
    assert "Platform X held powerState On, the device has powerState Off since" in hop["detail"]
    clock.now += 1
    accuracy.check()
    assert repairs == ["platform"]  # once per grace, and not while its report waits
    _deliver(store, reporter)
    [resent] = [m for m in platform.delivered if m.event == REPAIR]
    assert resent.changed == ("powerState",) and resent.properties["powerState"] == "Off"
    assert resent.journey == hop["journey"] and resent.cause == "PERIODIC_POLL"
    clock.now += EVERY
    [sample] = accuracy.check()
    assert (sample.pairs, sample.agreeing) == (2, 2)  # the repair was taken: they agree
    assert all(p.drift_since is None for p in store.beliefs.pairs())


def test_accuracy_is_weighted_by_the_time_each_sample_covers(world):
    store, reporter, _platform, user, lamp, clock, accuracy, _ = world
    _changed(store, reporter, user, lamp, "On")
    _deliver(store, reporter)
    start = clock.now
    accuracy.check()  # agree, covering EVERY
    store.shadow.update(lamp.id, {"powerState": "Off"}, None, 2.0)
    store.writer.flush()
    clock.now += 3 * EVERY
    accuracy.check()  # half agree, covering 3 x EVERY
    ratio, covered = store.beliefs.accuracy(start)["platform"]
    assert covered == pytest.approx(4 * EVERY)
    assert ratio == pytest.approx((1.0 * EVERY + 0.5 * 3 * EVERY) / (4 * EVERY))


def test_a_platform_read_back_holding_another_value_is_drift(world):
    store, reporter, platform, user, lamp, clock, accuracy, repairs = world
    _changed(store, reporter, user, lamp, "On")
    _deliver(store, reporter)
    platform.holds[lamp.id] = {"brightness": 10}  # it took the report, then lost it
    [sample] = accuracy.check()
    assert platform.asked == [[lamp.id]]
    assert (sample.pairs, sample.agreeing) == (2, 1)
    platform.holds.clear()
    platform.down = True  # a read-back that cannot be made changes nothing
    clock.now += GRACE + 1
    accuracy.check()
    assert repairs == ["platform"]
    store.writer.flush()
    [hop] = store.messages.query(device_id=lamp.id, kind="repair")
    assert "brightness 10 (read back)" in hop["detail"]


def test_a_removed_device_or_an_ended_link_is_no_longer_compared(world):
    store, reporter, _platform, user, lamp, _clock, _accuracy, _ = world
    _changed(store, reporter, user, lamp, "On")
    _deliver(store, reporter)
    assert store.beliefs.pairs()
    store.beliefs.forget("platform", user.id)
    assert not store.beliefs.pairs()
    _changed(store, reporter, user, lamp, "Off")
    _deliver(store, reporter)
    store.devices.delete(lamp.id)
    assert not store.beliefs.pairs()


def test_a_device_the_platform_forgot_is_announced_again_with_its_whole_state(world):
    store, reporter, platform, user, lamp, _clock, _accuracy, _ = world
    _changed(store, reporter, user, lamp, "On")
    _deliver(store, reporter)
    platform.forgot.add(lamp.id)
    _changed(store, reporter, user, lamp, "Off", brightness=20)
    _deliver(store, reporter)
    [again] = [m for m in platform.delivered if isinstance(m, DeviceAnnounced)]
    assert (again.change, again.personal, again.user_id) == ("added", True, user.id)
    held = {p.name: p.held for p in store.beliefs.pairs(user.id)}
    assert held == {"powerState": "Off", "brightness": 20}  # the announce told it all
    [repair] = store.messages.query(kind="repair")
    assert repair["outcome"] == "announced" and repair["origin"] == "platform"
    assert repair["detail"] == (
        "Platform X no longer knew the device (no such device here); announced again"
    )
    reports = store.messages.query(kind="report", device_id=lamp.id)
    assert [r["journey"] for r in reports if r["outcome"] == "unknown"] == [repair["journey"]]
    # Forgotten again soon after: that report is given up and nothing is believed, but
    # the device is not announced twice within the spacing (the platform is still learning).
    platform.forgot.add(lamp.id)
    _changed(store, reporter, user, lamp, "On", brightness=30)
    _deliver(store, reporter)
    assert len([m for m in platform.delivered if isinstance(m, DeviceAnnounced)]) == 1
    assert store.beliefs.pairs(user.id) == []
    assert store.outbox.pending() == 0


def test_a_platform_under_its_target_for_too_long_opens_an_alert_that_closes(world):
    store, reporter, platform, user, lamp, clock, accuracy, _ = world
    alerts = AlertChecker(
        store, lambda d: True, lambda: {"platform": platform}, reporter, 600, 3, False, 600.0
    )
    _changed(store, reporter, user, lamp, "On")
    _deliver(store, reporter)
    store.shadow.update(lamp.id, {"powerState": "Off"}, None, 2.0)  # its report lost
    store.writer.flush()
    accuracy.check()
    drifting = clock.now
    alerts.check(drifting + 599)
    assert store.alerts.active(user.id) == []  # apart for less: a report may be on its way
    alerts.check(drifting + 600)
    [alert] = store.alerts.active(user.id)
    assert alert["kind"] == "state_inaccurate"
    assert alert["message"] == (
        "Platform X has held 1 of 2 device properties wrong for 10 min or more"
        " (50.0% right, target 99.5%)"
    )
    store.shadow.update(lamp.id, {"powerState": "On"}, None, 3.0)  # back as it was told
    store.writer.flush()
    clock.now += EVERY
    accuracy.check()
    alerts.check(drifting + 700)
    assert store.alerts.active(user.id) == []
