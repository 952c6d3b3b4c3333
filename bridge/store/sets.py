"""Migration sets on either backend: the core's, then each plugin's own.

A plugin's tables are its own (`bridge.plugin.Repository`): a migration set
named for it, applied after the core's. Tables a plugin took over from the
core keep their data: the migrations the core's set ran for them on an older
database are *adopted* (recorded as the plugin's, not run again).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from sqlite_utils.migrations import Migrations

from bridge.store import postgres_schema
from bridge.store.schema import migrations as core
from bridge.store.sql import SqliteDatabase


def apply(db: Any, migrations: Migrations = core, adopts: Mapping[str, str] | None = None) -> None:
    """Apply a set's pending migrations (adopting the core's record of those in `adopts`)."""
    if not isinstance(db, SqliteDatabase):
        db.keys.update(postgres_schema.apply(db, migrations, dict(adopts or {})))
        return
    if not migrations.pending(db):
        return  # every open after the first
    # One process migrates; another (a second worker booting) waits its turn for the write
    # lock, then finds the set applied. A deferred transaction would fail at once instead.
    with db.immediate():
        migrations.ensure_migrations_table(db)
        table = Migrations.migrations_table
        for name, old in (adopts or {}).items():
            db.execute(
                f"insert or ignore into {table} (migration_set, name, applied_at)"
                f" select ?, ?, ? from {table} where migration_set = ? and name = ?",
                (migrations.name, name, str(datetime.datetime.now(datetime.UTC)), core.name, old),
            )
        migrations.apply(db)
