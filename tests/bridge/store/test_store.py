import threading
import time
import uuid

import pytest

from bridge.model import ExpiredToken, InvalidToken, MissingToken, NoSuchDevice
from bridge.plugin import DeviceAnnounced
from bridge.store.devices import DeviceExists
from bridge.store.messages import Entry
from bridge.store.secrets import Vault, hash_token
from bridge.store.users import UserExists


def test_user_gets_uuid_app_key_and_long_secret(db):
    user, secret = db.users.create("alice", "password1")
    assert str(uuid.UUID(user.app_key)) == user.app_key
    assert len(secret) >= 32
    assert db.users.by_app_key(user.app_key) == (user, secret)


def test_secrets_are_not_stored_in_clear(db):
    _user, secret = db.users.create("alice", "password1")
    row = db.db.execute("select password_hash, app_secret from users").fetchone()
    assert "password1" not in row[0] and row[0].startswith("scrypt:")
    assert secret not in row[1]
    assert Vault("k").decrypt(row[1]) == secret
    with pytest.raises(ValueError, match="BRIDGE_SECRET_KEY"):
        Vault("other").decrypt(row[1])


def test_passwords_check_and_change(db):
    db.users.create("alice", "password1")
    assert db.users.verify_password("alice", "password1").name == "alice"
    assert db.users.verify_password("alice", "wrong-password") is None
    assert db.users.verify_password("nobody", "password1") is None
    db.users.set_password("alice", "password2")
    assert db.users.verify_password("alice", "password2") is not None


def test_duplicate_and_bad_users_are_refused(db):
    db.users.create("alice", "password1")
    with pytest.raises(UserExists):
        db.users.create("alice", "password1")
    with pytest.raises(Exception, match="at least 8"):
        db.users.create("bob", "short")
    with pytest.raises(Exception, match="user name"):
        db.users.create("bad name!", "password1")


def test_device_ids_and_ownership(db):
    alice, _ = db.users.create("alice", "password1")
    bob, _ = db.users.create("bob", "password1")
    lamp = db.devices.create(alice.id, "light", "Lamp", "Hall")
    assert len(lamp.id) == 24 and int(lamp.id, 16) >= 0 and lamp.id == lamp.id.lower()
    assert db.devices.owned(alice.id, lamp.id) == lamp
    with pytest.raises(NoSuchDevice) as foreign:
        db.devices.owned(bob.id, lamp.id)
    with pytest.raises(NoSuchDevice) as missing:
        db.devices.owned(bob.id, "f" * 24)
    assert str(foreign.value).replace(lamp.id, "X") == str(missing.value).replace("f" * 24, "X")
    fixed = db.devices.create(alice.id, "switch", "Fan", device_id="ab" * 12)
    assert fixed.id == "ab" * 12
    with pytest.raises(DeviceExists):
        db.devices.create(bob.id, "switch", "Dup", device_id="ab" * 12)
    with pytest.raises(Exception, match="24 lowercase hex"):
        db.devices.create(alice.id, "switch", "Bad", device_id="AB" * 12)
    assert [d.name for d in db.devices.of_user(alice.id)] == ["Fan", "Lamp"]


def test_delete_device_drops_its_shadow(db):
    alice, _ = db.users.create("alice", "password1")
    lamp = db.devices.create(alice.id, "light", "Lamp")
    db.shadow.update(lamp.id, {"powerState": "On"}, None, 1.0)
    db.devices.delete(lamp.id)
    assert db.devices.get(lamp.id) is None and db.shadow.get(lamp.id) == {}


def test_shadow_reports_only_changes_and_keeps_instances_apart(db):
    assert db.shadow.update("d" * 24, {"powerState": "On"}, None, 1.0) == {"powerState": "On"}
    assert db.shadow.update("d" * 24, {"powerState": "On"}, None, 2.0) == {}
    db.shadow.update("d" * 24, {"rangeValue": 3}, "Fan.Speed", 3.0)
    state = db.shadow.get("d" * 24)
    assert state["powerState"] == {"value": "On", "sampled_at": 2.0}
    assert state["rangeValue:Fan.Speed"]["value"] == 3


def test_message_history_query_and_retention(db):
    db.messages.record(Entry("in", "event", "ok", "d" * 24, 1, "setPowerState", at=100.0))
    db.messages.record(Entry("out", "request", "timeout", "e" * 24, 1, "setPowerState"))
    assert [m["device_id"] for m in db.messages.query()] == ["e" * 24, "d" * 24]
    assert db.messages.query(device_id="d" * 24)[0]["outcome"] == "ok"
    assert db.messages.prune(time.time() - 60) == 1
    assert len(db.messages.query()) == 1


def test_message_history_is_indexed_on_device_and_time(db):
    query = "select * from messages where device_id = ? and at > ?"
    if db.db.dialect == "sqlite":
        plan = db.db.execute(f"explain query plan {query}", ["x", 0]).fetchall()
    else:
        with db.db.atomic():  # an empty table is scanned unless told otherwise
            db.db.execute("set local enable_seqscan = off")
            plan = db.db.execute(f"explain {query}", ["x", 0]).fetchall()
    assert "idx_messages_device_id_at" in str(plan)


def test_tokens_resolve_with_precise_reasons(db):
    alice, _ = db.users.create("alice", "password1")
    token = db.tokens.issue(alice.id, "echo")
    assert db.tokens.resolve(token) == alice
    with pytest.raises(MissingToken):
        db.tokens.resolve("")
    with pytest.raises(InvalidToken):
        db.tokens.resolve(token + "x")
    expired = db.tokens.issue(alice.id, "echo", ttl=-1)
    with pytest.raises(ExpiredToken):
        db.tokens.resolve(expired)
    raw = db.db.execute("select token_hash from tokens").fetchall()
    assert token not in str(raw)


def test_outbox_retries_then_gives_up(db):
    told = DeviceAnnounced(user_id=1, device_id="d" * 24, at=1.0, change="added")
    db.outbox.add(["a", "b"], 1, "d" * 24, told)
    rows = db.outbox.due()
    assert [r["adapter"] for r in rows] == ["a", "b"] and rows[0]["message"] == told
    db.outbox.delivered(rows[0]["id"])
    db.outbox.retry(rows[1]["id"], 1, 60, "boom")
    assert db.outbox.due() == [] and db.outbox.pending() == 1
    assert [r["id"] for r in db.outbox.due(now=time.time() + 61)] == [rows[1]["id"]]
    db.outbox.give_up(rows[1]["id"], 2, "boom")
    assert db.outbox.pending() == 0


def test_unchanged_samples_are_written_at_most_once_a_minute(db):
    db.writer.buffered = True
    db.shadow.update("d" * 24, {"powerState": "On"}, None, 1000.0)
    db.shadow.update("d" * 24, {"powerState": "On"}, None, 1010.0)
    assert db.writer.flush() == 1
    assert db.shadow.get("d" * 24)["powerState"]["sampled_at"] == 1010.0  # the cache knows
    db.shadow.update("d" * 24, {"powerState": "On"}, None, 1061.0)
    db.shadow.update("d" * 24, {"powerState": "Off"}, None, 1062.0)
    assert db.writer.flush() == 2


def test_queued_writes_survive_a_failed_flush(db, monkeypatch):
    db.writer.buffered = True
    db.messages.record(Entry("in", "event", "ok", "d" * 24))
    monkeypatch.setattr(db.writer, "db", None)
    with pytest.raises(AttributeError):
        db.writer.flush()
    monkeypatch.undo()
    assert db.writer.flush() == 1
    assert len(db.messages.query()) == 1


def test_server_caches_notice_changes_made_by_another_process(open_store):
    server, cli = open_store(), open_store()
    server.serve()
    alice, _ = cli.users.create("alice", "password1")
    lamp = cli.devices.create(alice.id, "light", "Lamp")
    token = cli.tokens.issue(alice.id, "x")
    assert server.devices.get(lamp.id) == lamp and server.tokens.resolve(token) == alice
    cli.devices.delete(lamp.id)
    cli.tokens.forget([hash_token(token)])
    assert server.devices.get(lamp.id) == lamp  # still cached ...
    assert server.notice_external_changes()
    assert server.devices.get(lamp.id) is None  # ... until the change is noticed
    with pytest.raises(InvalidToken):
        server.tokens.resolve(token)
    assert not server.notice_external_changes()


def test_a_due_report_is_claimed_by_one_worker_and_a_dead_workers_claims_return(open_store):
    a, b = open_store(), open_store()
    told = DeviceAnnounced(user_id=1, device_id="d" * 24, at=1.0, change="updated")
    a.outbox.add(["x", "y", "z"], 1, "d" * 24, told)
    taken = a.outbox.due(worker="a")
    assert len(taken) == 3
    assert b.outbox.due(worker="b") == []  # nobody else gets them while a holds them
    a.outbox.delivered(taken[0]["id"])
    assert b.outbox.claimers() == {"a"}  # a died with two in hand
    assert b.outbox.release("a") == 2
    assert sorted(r["id"] for r in b.outbox.due(worker="b")) == [r["id"] for r in taken[1:]]
    assert b.outbox.claimers() == {"b"}


@pytest.fixture
def workers(open_store):
    """Two server-mode stores on one database that hear each other (a, b, their buses)."""
    from fakes.bus import GroupBus

    group: list[GroupBus] = []
    a, b = open_store(), open_store()
    for store, name in ((a, "a"), (b, "b")):
        store.serve()
        store.share(GroupBus(name, group))
    return a, b, group


def test_workers_drop_each_others_stale_cache_entries_and_share_shadow_changes(workers):
    import gevent

    a, b, group = workers
    alice, _ = a.users.create("alice", "password1")
    lamp = a.devices.create(alice.id, "light", "Lamp")
    token = a.tokens.issue(alice.id, "x")
    assert b.tokens.resolve(token) == alice and b.devices.get(lamp.id) == lamp
    assert b.shadow.values(lamp.id) == {}
    a.shadow.update(lamp.id, {"powerState": "On"}, None, time.time())  # written behind
    gevent.sleep(0)  # the greenlets of this moment have made their changes: announced
    assert b.shadow.values(lamp.id) == {"powerState": "On"}  # b heard it: not in the db yet
    b.shadow.update(lamp.id, {"brightness": 40}, None, time.time())  # b has a copy now
    a.shadow.update(lamp.id, {"powerState": "Off"}, None, time.time())
    a.shadow.update(lamp.id, {"powerState": "On"}, None, time.time())
    a.shadow.update(lamp.id, {"powerState": "Off"}, None, time.time())
    sent = len(group[0].published)
    a.announce_changes()
    assert len(group[0].published) == sent + 1  # three changes, one notice
    assert b.shadow.values(lamp.id) == {"powerState": "Off", "brightness": 40}
    a.devices.rename(lamp.id, "Desk lamp")
    a.tokens.forget([hash_token(token)])
    assert b.devices.get(lamp.id).name == "Desk lamp"  # no data_version poll needed
    with pytest.raises(InvalidToken):
        b.tokens.resolve(token)


def test_shadow_changes_the_bus_could_not_take_are_announced_next_time(workers):
    a, b, group = workers
    alice, _ = a.users.create("alice", "password1")
    lamp = a.devices.create(alice.id, "light", "Lamp")
    assert b.shadow.values(lamp.id) == {}
    a.shadow.update(lamp.id, {"powerState": "On", "brightness": 10}, None, 1.0)
    group[0].down = True
    with pytest.raises(ConnectionError):
        a.announce_changes()
    group[0].down = False
    a.shadow.update(lamp.id, {"brightness": 20}, None, 2.0)  # newer than the one kept
    a.announce_changes()
    assert b.shadow.values(lamp.id) == {"powerState": "On", "brightness": 20}
    assert a.shadow.take_changes() == {}


def test_first_updates_of_a_device_at_once_keep_each_others_values(db, monkeypatch):
    """On PostgreSQL a load yields to other greenlets (psycopg under gevent): three
    answers for one device applied at once must not replace each other's copy."""
    import gevent

    load = db.shadow._load

    def yielding_load(device_id):
        state = load(device_id)
        gevent.sleep(0.01)  # what a cooperative database driver does mid-query
        return state

    monkeypatch.setattr(db.shadow, "_load", yielding_load)
    props = [{"powerState": "On"}, {"brightness": 60}, {"color": {"r": 255, "g": 0, "b": 0}}]
    gevent.joinall([gevent.spawn(db.shadow.update, "d" * 24, p, None, 1.0) for p in props])
    assert db.shadow.values("d" * 24) == {
        "powerState": "On",
        "brightness": 60,
        "color": {"r": 255, "g": 0, "b": 0},
    }


def test_a_history_page_for_a_scope_with_no_device_holds_entries_of_no_device(db):
    """An API key whose products match none of the account's devices (PostgreSQL refused
    `device_id in ()`: the key's /messages and /stream answered 500)."""
    from bridge.store.messages import Entry

    user, _ = db.users.create("scoped", "password1")
    device = db.devices.create(user.id, "light", "Lamp")
    db.messages.record(Entry("in", "event", "ok", device.id, user.id, "setPowerState"))
    db.messages.record(Entry("in", "webhook", "ok", None, user.id, "TurnOn"))
    db.writer.flush()
    rows = db.messages.page(user.id, limit=10, device_ids=[])
    assert [r["kind"] for r in rows] == ["webhook"]
    assert len(db.messages.page(user.id, limit=10, device_ids=[device.id])) == 2


def test_a_history_page_reads_the_next_rows_oldest_first_for_a_stream(db):
    """A stream reading after its last row takes the oldest next ones: none skipped when
    more came at once than it reads."""
    from bridge.store.messages import Entry

    user, _ = db.users.create("streamed", "password1")
    for n in range(5):
        db.messages.record(Entry("in", "event", "ok", None, user.id, f"a{n}"))
    db.writer.flush()
    first = db.messages.page(user.id, limit=1, oldest_first=True)[0]["id"]
    rows = db.messages.page(user.id, after=first, limit=2, oldest_first=True)
    assert [r["action"] for r in rows] == ["a1", "a2"]
    assert [r["action"] for r in db.messages.page(user.id, after=first, limit=2)] == ["a4", "a3"]


def test_history_rows_commit_in_the_order_of_their_ids(open_store):
    """A live stream follows new history rows by id: a row that took a lower id must never
    commit after one with a higher id (two workers flushing at once, on PostgreSQL)."""
    first, second = open_store(), open_store()
    user, _ = first.users.create("alice", "password1")
    inside, go, done = threading.Event(), threading.Event(), threading.Event()

    def slow() -> None:  # a flush that has taken its id and not yet committed
        first.messages.write(Entry("in", "event", "ok", None, user.id, detail="first"))
        inside.set()
        go.wait(10)

    flushing = threading.Thread(target=lambda: first.writer.flush_with(slow))
    flushing.start()
    assert inside.wait(10)

    def other() -> None:
        second.messages.record(Entry("in", "event", "ok", None, user.id, detail="second"))
        second.writer.flush()
        done.set()

    racing = threading.Thread(target=other)
    racing.start()
    assert not done.wait(0.5)  # it waits for the first to commit (SQLite: one writer)
    go.set()
    flushing.join(10)
    racing.join(10)
    rows = first.messages.query(user_id=user.id, kind="event", limit=10)
    assert [r["detail"] for r in sorted(rows, key=lambda r: r["id"])] == ["first", "second"]
