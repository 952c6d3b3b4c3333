import pytest
from genie_helpers import Genie


@pytest.fixture
def genie(server) -> Genie:
    return Genie(server.url)


@pytest.fixture
def token(store, account) -> str:
    return store.tokens.issue(account.user.id, "tmallgenie")


@pytest.fixture
def pair(store, account):
    """The two devices of the composed samples: a light and an outlet."""
    light = store.devices.create(account.user.id, "light", "吸顶灯", "客厅")
    outlet = store.devices.create(account.user.id, "plug", "插座", "卧室")
    return light, outlet


@pytest.fixture
def ids(pair) -> dict[str, str]:
    return {"dev-light-001": pair[0].id, "dev-outlet-002": pair[1].id}
