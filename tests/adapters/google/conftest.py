"""Fixtures for the Google Home adapter tests (helpers live in tests/google_helpers.py)."""

import pytest
from google_helpers import Google, intent

from bridge import catalog


@pytest.fixture
def home(server) -> Google:
    return Google(server.url)


@pytest.fixture
def token(store, account) -> str:
    return store.tokens.issue(account.user.id, "google")


@pytest.fixture
def synced(home, token, google) -> str:
    """The user's agentUserId, learnt by Google from a SYNC (as HomeGraph needs)."""
    agent = home.call(intent("SYNC"), token)["payload"]["agentUserId"]
    google.agents.add(agent)
    return agent


@pytest.fixture
def devices(store, account) -> dict:
    """One device of every type the catalog has, named for it."""
    made = {}
    for kind in catalog.TYPES:
        made[kind] = store.devices.create(account.user.id, kind, kind.replace("_", " "), "Hall")
    return made
