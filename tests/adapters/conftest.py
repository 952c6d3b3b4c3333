"""Fixtures every adapter's tests share."""

import pytest
from click.testing import CliRunner

from bridge.cli import main


@pytest.fixture
def cli(server, server_env):
    """`bridge ...` against the test server's database, as an operator runs it."""

    def run(*args: str, ok: bool = True) -> str:
        result = CliRunner().invoke(main, list(args), env=server_env, catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    return run
