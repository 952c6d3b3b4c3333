"""A plugin's own tables: a named migration set and the queries over them.

The core keeps no table of a plugin's. A plugin lists its Repository classes
(`repositories` on its Adapter or Transport class); the store opens each one
of every installed plugin when it opens, applying its migrations after the
core's (on SQLite and PostgreSQL alike), and tells it when a device is
deleted, whichever process deleted it. A plugin reaches its rows through
`store.repository(TheClass)`, and SQL stays inside these classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from sqlite_utils.migrations import Migrations

if TYPE_CHECKING:
    from bridge.store import Store

__all__ = ["Migrations", "Repository"]


class Repository:
    """Base of a plugin's repository; subclasses set `migrations` (a set named for the plugin)."""

    migrations: ClassVar[Migrations]
    """The plugin's migration set: `Migrations("<plugin>")`, one function per change,
    written the sqlite-utils way (`db[table].create`, `create_index`, `add_column`), which
    the store also runs on PostgreSQL."""
    adopts: ClassVar[Mapping[str, str]] = {}
    """Migrations of this set that the core's set ran on databases older than the move of
    these tables (this set's name: the core's name): recorded as done, not run again."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    def device_deleted(self, device_id: str) -> None:
        """A device was deleted: end or forget what these tables hold of it."""
