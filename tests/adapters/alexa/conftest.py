"""Fixtures for the Alexa adapter tests (helpers live in tests/alexa_helpers.py)."""

import pytest
from alexa_helpers import Alexa


@pytest.fixture
def alexa(server) -> Alexa:
    return Alexa(server.url)


@pytest.fixture
def token(store, account) -> str:
    return store.tokens.issue(account.user.id, "alexa")
