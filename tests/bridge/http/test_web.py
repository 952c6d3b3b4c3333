"""The app-wide error handler: a part away is a 503 in the caller's format, not a 500."""

from __future__ import annotations

import logging

import pytest

from bridge import create_app
from bridge.model import Unavailable


@pytest.fixture
def app(tmp_path):
    built = create_app({"database": str(tmp_path / "w.db")})  # built, not serving

    def away() -> None:
        raise Unavailable("the store is unreachable (PoolTimeout)")

    built.add_url_rule("/api/v1/devices/away", "api_away", away)
    built.add_url_rule("/device-clouds/away", "cloud_away", away)
    return built


@pytest.mark.parametrize("path", ["/api/v1/devices/away", "/device-clouds/away"])
def test_a_part_away_is_a_503_with_a_retry_and_one_log_line(app, path, caplog):
    with caplog.at_level(logging.WARNING):
        answer = app.test_client().get(path)
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.mimetype == "application/problem+json"
    assert answer.json["title"] == "unavailable" and answer.json["status"] == 503
    assert answer.json["detail"] == "the store is unreachable (PoolTimeout)"
    assert not [r for r in caplog.records if r.exc_info]  # no trace: not a bug
