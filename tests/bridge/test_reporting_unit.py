"""The outbox deliverer on its own: retries, gives up, never loses a report."""

import pytest

from adapters import Adapter, VoiceReply
from bridge.model import StateChange
from bridge.reporting import Reporter
from bridge.secrets import Vault
from bridge.store import Store


class Flaky(Adapter):
    """A real adapter subclass whose platform fails a set number of times."""

    name = "flaky"

    def __init__(self, failures: int, wants: bool = True):
        self.failures, self.wants, self.delivered = failures, wants, []

    def handle(self, request):
        return VoiceReply({})

    def wants_reports(self, user):
        return self.wants

    def report(self, user, change):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("platform down")
        self.delivered.append(change)


@pytest.fixture
def store(tmp_path):
    return Store(str(tmp_path / "r.db"), Vault("k"))


def change(user_id, origin=None):
    return StateChange(
        user_id,
        "d" * 24,
        "setPowerState",
        {"state": "On"},
        None,
        "PHYSICAL_INTERACTION",
        origin,
        {"powerState": "On"},
        1.0,
    )


def deliver_until_done(reporter, store, rounds=10):
    for _ in range(rounds):
        store.db.execute("update outbox set next_attempt_at = 0")
        reporter.deliver_due()


def test_retries_until_delivered(store):
    user, _ = store.users.create("alice", "password1")
    adapter = Flaky(failures=2)
    reporter = Reporter(store, lambda: {"flaky": adapter}, retry_base=0.01, max_attempts=5)
    reporter.publish(user, change(user.id))
    deliver_until_done(reporter, store)
    assert [c.properties for c in adapter.delivered] == [{"powerState": "On"}]
    assert [m["outcome"] for m in store.messages.query(kind="report")] == ["ok", "retry", "retry"]
    assert store.outbox.pending() == 0


def test_gives_up_after_max_attempts(store):
    user, _ = store.users.create("alice", "password1")
    adapter = Flaky(failures=99)
    reporter = Reporter(store, lambda: {"flaky": adapter}, retry_base=0.01, max_attempts=3)
    reporter.publish(user, change(user.id))
    deliver_until_done(reporter, store)
    assert adapter.delivered == []
    assert [m["outcome"] for m in store.messages.query(kind="report")] == [
        "failed",
        "retry",
        "retry",
    ]
    row = store.db.execute("select attempts, last_error, failed_at from outbox").fetchone()
    assert row[0] == 3 and "platform down" in row[1] and row[2] is not None


def test_never_echoes_to_the_origin_nor_queues_for_unwilling_adapters(store):
    user, _ = store.users.create("alice", "password1")
    adapters = {"flaky": Flaky(0), "quiet": Flaky(0, wants=False)}
    reporter = Reporter(store, lambda: adapters, retry_base=0.01, max_attempts=3)
    reporter.publish(user, change(user.id, origin="flaky"))
    assert store.outbox.pending() == 0
    reporter.publish(user, change(user.id))
    assert [r["adapter"] for r in store.outbox.due()] == ["flaky"]
