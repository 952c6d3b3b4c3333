"""What a push platform delivered and the bridge handled: kept, scoped, then forgotten."""

import time


def test_a_handled_message_is_seen_in_its_scope_until_it_expires(db, monkeypatch):
    assert not db.handled.seen("tuya", "m-1")
    db.handled.mark("tuya", "m-1", 60)
    assert db.handled.seen("tuya", "m-1")
    assert not db.handled.seen("other", "m-1")  # another adapter's messages are its own
    db.handled.mark("tuya", "m-1", 120)  # marked again: one row, later expiry
    assert db.db.execute("select count(*) from handled").fetchone()[0] == 1
    later = time.time() + 121
    monkeypatch.setattr(time, "time", lambda: later)
    assert not db.handled.seen("tuya", "m-1")
    assert db.handled.prune() == 1
    assert db.db.execute("select count(*) from handled").fetchone()[0] == 0


def test_handled_messages_survive_a_restart(open_store):
    first = open_store()
    first.handled.mark("tuya", "m-2", 60)
    assert open_store().handled.seen("tuya", "m-2")  # another store on the same database
