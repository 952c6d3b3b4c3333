"""The store's contract runs on both backends: every test here, on SQLite and PostgreSQL
(the `database` and `open_store` fixtures of tests/conftest.py)."""

from __future__ import annotations

import pytest

from bridge.store import Store


@pytest.fixture
def db(open_store) -> Store:
    return open_store()
