"""A Sigfox device type and plug, made through the CLI as an operator would."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner
from sigfox_helpers import Plug

from bridge.cli import main


@pytest.fixture
def cli(server_env):
    def run(*args: str) -> dict:
        result = CliRunner().invoke(main, list(args), env=server_env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    return run


@pytest.fixture
def plug(cli, account, server) -> Plug:
    kind = f"plug-{random.getrandbits(32):08x}"
    made = cli(
        "sigfox", "type", "create", kind,
        "--uplink", "powerState::bool:0",
        "--downlink", "powerState::bool:0",
        "--catalog-type", "plug",
    )  # fmt: skip
    sigfox_id = f"{random.getrandbits(24):06X}"
    device = cli(
        "device", "create", account.user.name, "--type", "plug", "--name", "Heater",
        "--transport", "sigfox", "--sigfox-id", sigfox_id, "--sigfox-type", kind,
    )  # fmt: skip
    base = "http://127.0.0.1:8000"  # the CLI's default public URL; the test server's port differs
    callbacks = {k: v.replace(base, server.url) for k, v in made["callbacks"].items()}
    return Plug(device["id"], sigfox_id, made["secret"], callbacks)
