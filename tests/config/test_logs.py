"""The server's log: one format for gunicorn's lines and the bridge's (time, level,
logger), or JSON lines with the journey on every line logged while one is served."""

from __future__ import annotations

import json
import re

import pytest
import requests
from servers import BridgeServer, eventually

from config import logs

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def json_server(tmp_path_factory, server_env):
    db = tmp_path_factory.mktemp("logs") / "l.db"
    env = {**server_env, "BRIDGE_DATABASE": str(db), "BRIDGE_LOG_FORMAT": "json"}
    srv = BridgeServer(env).start()
    yield srv
    srv.stop()


def test_the_bridges_lines_and_gunicorns_share_one_format_with_time_level_and_logger(server):
    requests.post(server.url + "/voice/alexa", data=b"not json", headers=JSON, timeout=5)
    line = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[(\w+)\] ([\w.]+): ")
    found = eventually(
        lambda: [m.groups() for m in map(line.match, server.log().splitlines()) if m]
    )
    assert ("INFO", "gunicorn.error") in found  # gunicorn's own, and INFO appears
    assert ("INFO", "adapters.alexa") in found  # the bridge's, in the same shape


def test_json_lines_carry_the_journey_of_the_request_they_were_logged_for(json_server, store):
    requests.post(json_server.url + "/voice/alexa", data=b"not json", headers=JSON, timeout=5)

    def malformed() -> list[dict]:
        lines = [json.loads(text) for text in json_server.log().splitlines() if text]
        return [line for line in lines if line["message"].startswith("malformed directive")]

    [line] = eventually(malformed)
    assert {"time", "level", "logger", "pid"} <= set(line) and line["level"] == "INFO"
    booted = [json.loads(t) for t in json_server.log().splitlines() if "Booting" in t]
    assert booted and "journey" not in booted[0]  # no journey served: none said
    from conftest import SECRET_KEY

    from bridge.store import Store
    from bridge.store.secrets import Vault

    own = Store(json_server.env["BRIDGE_DATABASE"], Vault(SECRET_KEY))
    rows = eventually(lambda: own.messages.query(kind="webhook"))
    assert line["journey"] == rows[0]["journey"]  # the webhook's own row, the same id
    own.close()


def test_an_unknown_format_is_refused_by_name():
    with pytest.raises(ValueError, match="BRIDGE_LOG_FORMAT must be one of text, json"):
        logs.config("xml", "info")
