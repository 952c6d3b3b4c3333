"""The tests here run against the bridge over https/wss, on a database of its own."""

import pytest


@pytest.fixture(scope="session")
def server(tls_server):
    return tls_server


@pytest.fixture(scope="session")
def store(tls_store):
    return tls_store
