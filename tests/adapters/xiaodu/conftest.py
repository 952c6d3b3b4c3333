import pytest
from xiaodu_helpers import DuerOS


@pytest.fixture
def duer(server) -> DuerOS:
    return DuerOS(server.url)


@pytest.fixture
def token(store, account) -> str:
    return store.tokens.issue(account.user.id, "xiaodu")
