"""Alerts: opened when a condition is first seen, closed when it clears, sent signed."""

import time

import pytest
import requests
from fakes.alerts import FakeNotifier

from bridge.reports.alerts import SINK, AlertChecker, AlertWebhook
from bridge.reports.delivery import Reporter
from bridge.store.messages import Entry

SECRET = "alert-secret"


@pytest.fixture
def notifier():
    fake = FakeNotifier(SECRET)
    yield fake
    fake.close()


class Linked:
    """What the checker needs of an adapter: its title."""

    title = "Platform X"


@pytest.fixture
def setup(open_store, notifier):
    store = open_store()
    reporter = Reporter(store, lambda: {}, retry_base=0.01, max_attempts=3)
    reporter.sinks[SINK] = AlertWebhook(notifier.base + "/alerts", SECRET, requests.Session())
    online: set[str] = set()
    checker = AlertChecker(
        store, lambda d: d.id in online, lambda: {"x": Linked()}, reporter, 600, 3, send=True
    )
    user, _ = store.users.create("alice", "password1")
    return store, reporter, checker, user, online


def _deliver(reporter, store):
    for _ in range(5):
        store.db.execute("update outbox set next_attempt_at = 0")
        reporter.deliver_due()


def test_a_device_offline_too_long_opens_once_and_closes(setup, notifier):
    store, reporter, checker, user, online = setup
    lamp = store.devices.create(user.id, "light", "Hall lamp")
    now = time.time()
    store.messages.record(
        Entry("in", "connection", "offline", lamp.id, user.id, detail="idle timeout", at=now - 900)
    )
    store.writer.flush()
    assert checker.check(now - 600) == 0  # offline for 300 s: not yet
    assert checker.check(now) == 1
    assert checker.check(now + 60) == 0  # still open: not sent again
    [alert] = store.alerts.active(user.id)
    assert alert["kind"] == "device_offline" and "Hall lamp" in alert["message"]
    assert "idle timeout" in alert["message"]
    _deliver(reporter, store)
    [sent] = notifier.alerts
    assert sent["alert"] == "device_offline" and sent["device_id"] == lamp.id
    assert sent["user"] == "alice" and notifier.refused == []
    online.add(lamp.id)
    checker.check(now + 120)
    assert store.alerts.active(user.id) == []


def test_a_failing_link_and_rising_dead_letters(setup, notifier):
    store, reporter, checker, user, _ = setup
    store.links("x").put(user.id, {"token": "t"})
    store.links("x").revoke(user.id, "403 SKILL_DISABLED_EXCEPTION")
    for _ in range(3):
        store.messages.record(Entry("out", "report", "dead-letter", None, user.id, origin="x"))
    store.writer.flush()
    assert checker.check() == 2
    kinds = {a["kind"]: a["message"] for a in store.alerts.active(user.id)}
    assert kinds["link_failing"] == "Platform X ended the link: 403 SKILL_DISABLED_EXCEPTION"
    assert kinds["dead_letters"] == "3 reports dead-lettered in the last hour"
    notifier.fail_next = 1  # the notifier is down once: the outbox tries again
    _deliver(reporter, store)
    assert sorted(a["alert"] for a in notifier.alerts) == ["dead_letters", "link_failing"]
    outcomes = [m["outcome"] for m in store.messages.query(kind="report")]
    assert outcomes.count("retry") == 1


def test_a_refused_signature_is_a_dead_letter(setup, notifier):
    store, reporter, checker, user, _ = setup
    reporter.sinks[SINK] = AlertWebhook(notifier.base + "/alerts", "wrong", requests.Session())
    for _ in range(3):
        store.messages.record(Entry("out", "report", "dead-letter", None, user.id, origin="x"))
    store.writer.flush()
    checker.check()
    _deliver(reporter, store)
    assert notifier.alerts == [] and notifier.refused == ["bad signature"]
    [row] = [m for m in store.messages.query(kind="report") if m["origin"] == SINK]
    assert row["outcome"] == "dead-letter" and "HTTP 401" in row["detail"]
