"""Plugins' migration sets: applied after the core's, on both backends, and an older
database whose core set made a plugin's tables keeps them and their rows."""

from __future__ import annotations

from bridge.runtime import plugins
from bridge.store.schema import migrations as core
from bridge.transports.mqtt.tables import ThingShadows
from bridge.transports.sigfox.tables import SigfoxStore


def table(store) -> str:
    return "_migrations" if store.db.dialect != "sqlite" else "_sqlite_migrations"


def recorded(store) -> set[tuple[str, str]]:
    rows = store.db.execute(f"select migration_set, name from {table(store)}").fetchall()
    return {(row[0], row[1]) for row in rows}


def test_every_installed_plugins_set_is_applied_and_recorded(open_store):
    store = open_store()
    assert {type(r) for r in store.plugin_tables()} == set(plugins.repositories())
    sets = {cls.migrations.name for cls in plugins.repositories()}
    assert {"mqtt", "sigfox"} <= sets
    done = recorded(store)
    for cls in plugins.repositories():
        assert {(cls.migrations.name, m.name) for m in cls.migrations._migrations} <= done
    assert (core.name, "m009_pending_commands") in done


def as_before_the_move(store) -> None:
    """Record the plugins' migrations as the core's set did before they had their own."""
    sets = {cls.migrations.name: cls.adopts for cls in plugins.repositories()}
    for name, adopts in sets.items():
        store.db.execute(f"delete from {table(store)} where migration_set = ?", [name])
        for old in adopts.values():
            store.db.execute(
                f"insert into {table(store)} (migration_set, name, applied_at) values (?, ?, ?)",
                [core.name, old, None],
            )


def test_an_older_database_keeps_the_tables_a_plugin_took_over(open_store):
    store = open_store()
    tables = store.repository(SigfoxStore)
    tables.create_type("plug", "powerState::bool:0", None, "plug", None, "s3cret")
    store.repository(ThingShadows).save("t" * 24, {"state": {}}, 4, durable=True)
    as_before_the_move(store)
    assert not any(kind == "sigfox" for kind, _ in recorded(store))
    store.close()

    again = open_store()  # the tables exist: running the set's migrations again would fail
    again.plugin_tables()
    assert again.repository(SigfoxStore).type("plug").catalog_type == "plug"
    assert again.repository(ThingShadows).get("t" * 24) == ({"state": {}}, 4)
    assert ("sigfox", "m003_type_owner") in recorded(again)
    assert ("mqtt", "m001_things") in recorded(again)


def test_a_deleted_device_leaves_no_row_in_a_plugins_tables(open_store):
    store = open_store()
    user, _ = store.users.create("alice", "password1")
    heater = store.devices.create(user.id, "plug", "Heater", transport="sigfox")
    tables = store.repository(SigfoxStore)
    tables.create_type("plug", "powerState::bool:0", None, "plug", None, "s3cret")
    tables.add_device("1A2B3C", heater.id, "plug")
    other = open_store()  # another process (the CLI) deletes it
    other.devices.delete(heater.id)
    assert store.repository(SigfoxStore).by_device(heater.id) is None
