"""Fixtures: registered platforms (OAuth clients) for the linking tests."""

import uuid

import pytest
from linking import Platform


@pytest.fixture
def make_platform(store, recorder):
    def make(base: str) -> Platform:
        name = "Platform " + uuid.uuid4().hex[:6]
        redirect_uri = f"{recorder.base}/callback/{uuid.uuid4().hex[:8]}"
        client, secret = store.clients.create(name, [redirect_uri])
        return Platform(base, client.client_id, secret, name, redirect_uri)

    return make


@pytest.fixture
def platform(make_platform, server) -> Platform:
    return make_platform(server.url)
