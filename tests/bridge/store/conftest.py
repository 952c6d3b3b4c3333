"""The store's contract runs on both backends: every test here, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from bridge.secrets import Vault
from bridge.store import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    """A fresh database: a file, or a new database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "t.db")
    return request.getfixturevalue("postgres_server").database()


@pytest.fixture
def open_store(database) -> Iterator[Callable[[], Store]]:
    """Open the test's database (again: another worker or process on the same data)."""
    opened: list[Store] = []

    def open_() -> Store:
        opened.append(Store(database, Vault("k")))
        return opened[-1]

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def db(open_store) -> Store:
    return open_store()
