"""The outbox deliverer on its own: retries, gives up, never loses a report."""

import json
import time

import pytest
from recording import subscribe

from bridge.bus.local import LocalBus
from bridge.plugin import Adapter, DeadLetter, LinkRevoked, RetryLater, StateReport, VoiceReply
from bridge.reports.delivery import Reporter, announce


class Flaky(Adapter):
    """A real adapter subclass whose platform fails a set number of times."""

    name = "flaky"

    def __init__(self, failures: int, fail_with: type = ConnectionError):
        self.failures, self.delivered = failures, []
        self.fail_with = fail_with

    def handle(self, request):
        return VoiceReply({})

    def state_report(self, user, message):
        if self.failures:
            self.failures -= 1
            raise self.fail_with("platform down")
        self.delivered.append(message)

    device_announced = state_report


@pytest.fixture
def alice(store):
    """An account whose links to `flaky` and `paced` take reports."""
    user, _ = store.users.create("alice", "password1")
    subscribe(store, user, "flaky")
    subscribe(store, user, "paced")
    return user


@pytest.fixture
def store(open_store):
    """Reports ride the store: every test here runs on SQLite and on PostgreSQL."""
    return open_store()


def change(user_id, origin=None, state="On", device="d" * 24, changed=("powerState",)):
    return StateReport(
        user_id=user_id,
        device_id=device,
        event="setPowerState",
        value={"state": state},
        origin=origin,
        properties={"powerState": state},
        at=1.0,
        changed=changed,
    )


def deliver_until_done(reporter, store, rounds=10):
    for _ in range(rounds):
        store.db.execute("update outbox set next_attempt_at = 0")
        reporter.deliver_due()


def test_retries_until_delivered(store, alice):
    user = alice
    adapter = Flaky(failures=2)
    reporter = Reporter(store, lambda: {"flaky": adapter}, retry_base=0.01, max_attempts=5)
    reporter.publish(user, change(user.id))
    deliver_until_done(reporter, store)
    assert [c.properties for c in adapter.delivered] == [{"powerState": "On"}]
    assert [m["outcome"] for m in store.messages.query(kind="report")] == ["ok", "retry", "retry"]
    assert store.outbox.pending() == 0


def test_gives_up_after_max_attempts_on_what_is_not_a_devices_state(store, alice):
    user = alice
    adapter = Flaky(failures=99)
    reporter = Reporter(store, lambda: {"flaky": adapter}, retry_base=0.01, max_attempts=3)
    reporter.publish(user, change(user.id, changed=()))  # a doorbell press: no state
    deliver_until_done(reporter, store)
    assert adapter.delivered == []
    assert [m["outcome"] for m in store.messages.query(kind="report")] == [
        "dead-letter",
        "retry",
        "retry",
    ]
    row = store.db.execute("select attempts, last_error, failed_at from outbox").fetchone()
    assert row[0] == 3 and "platform down" in row[1] and row[2] is not None


class Paced(Flaky):
    """A platform that asks the report to wait for its quota a number of times."""

    name = "paced"

    def state_report(self, user, message):
        if self.failures:
            self.failures -= 1
            raise RetryLater("quota reached", after=0.0, throttled=True)
        self.delivered.append(message)


def test_waiting_for_a_quota_is_throttled_and_never_a_dead_letter(store, alice):
    user = alice
    adapter = Paced(failures=6)
    reporter = Reporter(store, lambda: {"paced": adapter}, retry_base=0.01, max_attempts=3)
    reporter.publish(user, change(user.id, changed=()))  # not a state: 3 failed tries would end it
    deliver_until_done(reporter, store)
    assert len(adapter.delivered) == 1
    outcomes = [m["outcome"] for m in store.messages.query(kind="report")]
    assert outcomes == ["ok"] + ["throttled"] * 6
    assert store.db.execute("select attempts from outbox").fetchone()[0] == 0  # none counted


def test_an_outage_of_any_length_ends_with_every_devices_current_state(store, alice):
    """Retries never stop for a device's newest state, never wait long, and never pile up."""
    user = alice
    adapter = Flaky(failures=10**6)
    reporter = Reporter(
        store, lambda: {"flaky": adapter}, retry_base=0.01, max_attempts=3, retry_max=15
    )
    for round_ in range(40):  # a long outage, while the devices keep changing
        for device in ("d" * 24, "e" * 24):
            state = "On" if round_ % 2 else "Off"
            reporter.publish(user, change(user.id, state=state, device=device))
        deliver_until_done(reporter, store, rounds=1)
    rows = store.db.execute(
        "select device_id, attempts, next_attempt_at - ? from outbox"
        " where delivered_at is null and failed_at is null",
        [time.time()],
    ).fetchall()
    assert sorted(r[0] for r in rows) == ["d" * 24, "e" * 24]  # one waiting report per device
    assert all(wait <= 15 * 1.2 + 1 for _, _, wait in rows)  # the next try is never far off
    reports = store.messages.query(kind="report", limit=1000)
    coalesced = [m for m in reports if m["outcome"] == "coalesced"]
    assert len(coalesced) == 2 * 39  # folded reports are visible in the history
    adapter.failures = 0  # the platform is back
    deliver_until_done(reporter, store, rounds=1)
    assert sorted((c.device_id, c.properties["powerState"]) for c in adapter.delivered) == [
        ("d" * 24, "On"),
        ("e" * 24, "On"),
    ]
    assert store.outbox.pending() == 0


def test_a_platform_back_from_an_outage_is_sent_what_backed_off_at_once(store, alice):
    user = alice
    adapter = Flaky(failures=2)
    reporter = Reporter(store, lambda: {"flaky": adapter}, retry_base=60.0, max_attempts=5)
    for device in ("d" * 24, "e" * 24):
        reporter.publish(user, change(user.id, device=device))
    reporter.deliver_due()  # both fail: their next try is a minute away
    assert adapter.delivered == [] and store.outbox.pending() == 2
    reporter.deliver_due()
    assert adapter.delivered == []  # not due yet
    reporter.publish(user, change(user.id, device="f" * 24))  # a new report, taken: it is back
    reporter.wake.clear()
    reporter.deliver_due()
    assert [c.device_id for c in adapter.delivered] == ["f" * 24]
    assert reporter.wake.is_set()  # the backed-off ones are due now, not in a minute
    reporter.deliver_due()
    assert sorted(c.device_id for c in adapter.delivered) == ["d" * 24, "e" * 24, "f" * 24]
    assert store.outbox.pending() == 0


def test_an_unreadable_stored_change_is_a_dead_letter_not_retried_forever(store, alice):
    user = alice
    adapter = Flaky(0)
    reporter = Reporter(store, lambda: {"flaky": adapter}, retry_base=0.01, max_attempts=3)
    reporter.publish(user, change(user.id))
    store.db.execute("update outbox set change = '{not json'")
    reporter.publish(user, change(user.id, device="e" * 24))
    [(stored,)] = store.db.execute("select change from outbox where id = 2").fetchall()
    newer = json.dumps({**json.loads(stored), "v": 99})  # written by a later version
    store.db.execute("update outbox set change = ? where id = 2", [newer])
    reporter.deliver_due()
    assert adapter.delivered == []
    assert [m["outcome"] for m in store.messages.query(kind="report")] == [
        "dead-letter",
        "dead-letter",
    ]
    assert store.outbox.pending() == 0


def test_never_echoes_to_the_origin_nor_queues_for_unwilling_adapters(store, alice):
    user = alice
    adapters = {"flaky": Flaky(0), "quiet": Flaky(0)}  # alice did not link "quiet"
    reporter = Reporter(store, lambda: adapters, retry_base=0.01, max_attempts=3)
    reporter.publish(user, change(user.id, origin="flaky"))
    assert store.outbox.pending() == 0
    reporter.publish(user, change(user.id))
    assert [r["adapter"] for r in store.outbox.due()] == ["flaky"]


def test_rapid_changes_of_one_device_coalesce(store, alice):
    user = alice
    adapter = Flaky(0)
    reporter = Reporter(store, lambda: {"flaky": adapter}, retry_base=0.01, max_attempts=3)
    reporter.publish(user, change(user.id, state="On"))
    reporter.publish(user, change(user.id, state="Off", changed=("brightness",)))
    reporter.publish(user, change(user.id, device="e" * 24))
    reporter.publish(user, change(user.id, changed=()))  # an event without state: kept
    reporter.deliver_due()
    assert [(c.device_id, c.properties, tuple(c.changed)) for c in adapter.delivered] == [
        ("d" * 24, {"powerState": "Off"}, ("powerState", "brightness")),
        ("e" * 24, {"powerState": "On"}, ("powerState",)),
        ("d" * 24, {"powerState": "On"}, ()),
    ]
    assert store.outbox.pending() == 0


def test_an_alarm_going_off_is_told_even_when_it_cleared_before_delivery(store, alice):
    """Folding keeps a platform's view current, but a smoke alarm that went off and
    cleared while the platform was away must still be heard going off."""
    user = alice
    adapter = Flaky(0)
    reporter = Reporter(store, lambda: {"flaky": adapter}, retry_base=0.01, max_attempts=3)

    def smoke(state: str) -> StateReport:
        return StateReport(
            user_id=user.id,
            device_id="s" * 24,
            event="setSmokeState",
            value={"state": state},
            properties={"smokeState": state},
            at=1.0,
            changed=("smokeState",),
        )

    for state in ("clear", "detected", "clear", "clear"):
        reporter.publish(user, smoke(state))
    reporter.deliver_due()
    assert [m.value["state"] for m in adapter.delivered] == ["detected", "clear"]
    assert store.outbox.pending() == 0


def test_dead_letter_is_final_and_revocation_stops_the_user(store, alice):
    user = alice
    adapter = Flaky(1, fail_with=DeadLetter)
    reporter = Reporter(store, lambda: {"flaky": adapter}, retry_base=0.01, max_attempts=5)
    reporter.publish(user, change(user.id))
    reporter.deliver_due()
    assert [m["outcome"] for m in store.messages.query(kind="report")] == ["dead-letter"]
    adapter.failures, adapter.fail_with = 1, LinkRevoked
    reporter.publish(user, change(user.id))
    store.outbox.add(["flaky"], user.id, "f" * 24, change(user.id))
    store.db.execute("update outbox set next_attempt_at = next_attempt_at + 3600 where id = 3")
    reporter.deliver_due()
    assert store.messages.query(kind="report")[0]["outcome"] == "revoked"
    assert store.outbox.pending() == 0  # the later report for that user is dropped too


def test_changes_from_another_process_fan_out_to_adapters(store, alice):
    user = alice
    adapters = {"flaky": Flaky(0), "quiet": Flaky(0)}  # alice did not link "quiet"
    reporter = Reporter(store, lambda: adapters, retry_base=0.01, max_attempts=3)
    announce(store, user.id, "d" * 24, "removed")
    reporter.deliver_due()
    reporter.deliver_due()
    assert [(c.change, c.device_id) for c in adapters["flaky"].delivered] == [("removed", "d" * 24)]
    assert adapters["quiet"].delivered == []


def test_a_restart_resumes_pending_reports(open_store):
    before = open_store()
    user, _ = before.users.create("alice", "password1")
    subscribe(before, user, "flaky")
    down = Flaky(99)
    Reporter(before, lambda: {"flaky": down}, retry_base=0.01, max_attempts=5).publish(
        user, change(user.id)
    )
    before.close()  # the bridge stops before delivering
    after = open_store()
    up = Flaky(0)
    Reporter(after, lambda: {"flaky": up}, retry_base=0.01, max_attempts=5).deliver_due()
    assert [c.properties for c in up.delivered] == [{"powerState": "On"}]
    assert after.outbox.pending() == 0


def test_a_crash_never_leaves_a_report_without_the_state_it_reports(open_store):
    """The outbox row and the shadow samples it will read are one durable step.

    The server writes shadow samples behind; a crash (nothing flushed, as after
    kill -9) right after a burst of events must not leave queued reports whose
    values the database does not have.
    """
    from bridge.devices.events import EventIntake
    from bridge.devices.limits import EventLimiter
    from bridge.plugin import DeviceEvent

    store = open_store()
    user, _ = store.users.create("alice", "password1")
    subscribe(store, user, "flaky")
    device = store.devices.create(user.id, "light", "Lamp")
    store.serve()  # write-behind on, as in the server
    reporter = Reporter(store, lambda: {"flaky": Flaky(99)}, retry_base=0.01, max_attempts=3)
    intake = EventIntake(store, reporter, EventLimiter(LocalBus("t"), 0.0, 0.0))
    for level in range(1, 21):
        event = DeviceEvent(device.id, "setBrightness", {"brightness": level})
        assert intake.handle(user, device, event) == "ok"
    # the crash: this process's buffers are gone; another opens the same file
    after = open_store()
    [row] = after.outbox.due()
    assert row["message"].properties["brightness"] == 20
    assert after.shadow.get(device.id)["brightness"]["value"] == 20


def test_reports_a_crashed_server_had_claimed_are_delivered_after_its_restart(open_store):
    before = open_store()
    user, _ = before.users.create("alice", "password1")
    subscribe(before, user, "flaky")
    crashed = Reporter(before, lambda: {}, retry_base=0.01, max_attempts=5, bus=LocalBus("old"))
    before.outbox.add(["flaky"], user.id, "d" * 24, change(user.id))
    assert len(before.outbox.due(worker=crashed.bus.worker)) == 1  # taken, then the crash
    after = open_store()
    up = Flaky(0)
    reporter = Reporter(after, lambda: {"flaky": up}, retry_base=0.01, max_attempts=5)
    reporter.deliver_due()
    assert up.delivered == []  # the old process's claim still stands ...
    reporter.release_dead_claims()  # ... until the new one sees its claimer is gone
    reporter.deliver_due()
    assert [c.properties for c in up.delivered] == [{"powerState": "On"}]


def test_an_event_whose_report_cannot_be_queued_leaves_no_history_row(open_store, monkeypatch):
    """The store away mid-event: the event fails whole (its transport holds it), so the
    history never shows an event whose report was never queued."""
    import sqlite3

    from bridge.devices.events import EventIntake
    from bridge.devices.limits import EventLimiter
    from bridge.plugin import DeviceEvent

    store = open_store()
    user, _ = store.users.create("alice", "password1")
    subscribe(store, user, "flaky")
    device = store.devices.create(user.id, "light", "Lamp")
    store.serve()
    reporter = Reporter(store, lambda: {"flaky": Flaky(0)}, retry_base=0.01, max_attempts=3)
    intake = EventIntake(store, reporter, EventLimiter(LocalBus("t"), 0.0, 0.0))
    event = DeviceEvent(device.id, "setBrightness", {"brightness": 40})

    def away(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store.outbox, "add", away)
    with pytest.raises(sqlite3.OperationalError):
        intake.handle(user, device, event)
    monkeypatch.undo()
    store.writer.flush()
    assert store.messages.query(device_id=device.id, kind="event") == []
    assert intake.handle(user, device, event) == "ok"  # tried again once the store is back
    store.writer.flush()
    assert len(store.messages.query(device_id=device.id, kind="event")) == 1
    [row] = store.outbox.due()
    assert row["message"].properties["brightness"] == 40
