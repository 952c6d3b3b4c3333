"""A transport's own tables run on both backends, like the store's (tests/conftest.py)."""

from __future__ import annotations

import pytest

from bridge.store import Store


@pytest.fixture
def db(open_store) -> Store:
    return open_store()


@pytest.fixture
def alice(db):
    user, _ = db.users.create("alice", "password1")
    return user
