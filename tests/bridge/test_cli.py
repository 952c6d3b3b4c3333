"""The `bridge` console script, run as a user runs it."""

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from servers import eventually

from bridge import catalog
from bridge.reports.messages import DeviceAnnounced, decode
from bridge.store.beliefs import Sample

BRIDGE = str(Path(sys.executable).with_name("bridge"))


@pytest.fixture
def cli(server, server_env):
    env = {**os.environ, **server_env, "BRIDGE_URL": server.url}

    def run(*args: str, ok: bool | None = True) -> subprocess.CompletedProcess:
        """Run `bridge ARGS`; `ok` is the expected success (None: either)."""
        proc = subprocess.run([BRIDGE, *args], env=env, capture_output=True, text=True, timeout=30)
        if ok is not None:
            assert (proc.returncode == 0) == ok, proc.stderr
        return proc

    return run


def test_user_create_prints_app_key_and_secret(cli, store):
    name = "cli" + uuid.uuid4().hex[:8]
    out = json.loads(cli("user", "create", name, "--password", "correct horse").stdout)
    assert str(uuid.UUID(out["app_key"])) == out["app_key"]
    assert len(out["app_secret"]) >= 32
    assert store.users.by_app_key(out["app_key"])[1] == out["app_secret"]
    assert store.users.verify_password(name, "correct horse") is not None
    failed = cli("user", "create", name, "--password", "correct horse", ok=False)
    assert failed.stderr.strip() == f"Error: user {name!r} exists"


def test_user_password_changes_it(cli, account, store):
    cli("user", "password", account.user.name, "--password", "new password 1")
    assert store.users.verify_password(account.user.name, "new password 1") is not None


def test_device_create_list_delete(cli, account):
    out = json.loads(
        cli(
            "device",
            "create",
            account.user.name,
            "--type",
            "thermostat",
            "--name",
            "Hall thermostat",
            "--room",
            "Hall",
        ).stdout
    )
    assert len(out["id"]) == 24 and out["room"] == "Hall"
    assert [c["name"] for c in out["capabilities"]] == [
        "powerState",
        "targetTemperature",
        "thermostatMode",
        "currentTemperature",
    ]
    fixed = json.loads(
        cli(
            "device",
            "create",
            account.user.name,
            "--type",
            "plug",
            "--name",
            "Plug",
            "--id",
            "abcdef0123456789abcdef01",
        ).stdout
    )
    assert fixed["id"] == "abcdef0123456789abcdef01"
    listed = json.loads(cli("device", "list", account.user.name).stdout)
    assert {d["id"] for d in listed} == {out["id"], fixed["id"]}
    cli("device", "delete", fixed["id"])
    assert [d["id"] for d in json.loads(cli("device", "list", account.user.name).stdout)] == [
        out["id"]
    ]


def test_device_create_refuses_bad_input(cli, account):
    bad_type = cli(
        "device", "create", account.user.name, "--type", "toaster", "--name", "T", ok=False
    )
    assert "toaster" in bad_type.stderr
    bad_id = cli(
        "device",
        "create",
        account.user.name,
        "--type",
        "plug",
        "--name",
        "P",
        "--id",
        "xyz",
        ok=False,
    )
    assert "24 lowercase hex" in bad_id.stderr
    assert "no user" in cli("device", "list", "nobody-here", ok=False).stderr


def test_send_prints_the_device_response(cli, account, light, connect):
    connect(account, [light])
    out = json.loads(cli("send", light.id, "setPowerState", "--value", '{"state": "On"}').stdout)
    assert out["success"] is True and out["value"] == {"state": "On"}


@pytest.mark.parametrize(
    "args, reason",
    [
        (["setPowerState", "--value", '{"state": "On"}'], "offline"),
        (["setPowerState", "--value", "not json"], "--value is not JSON"),
        (["setBrightness", "--value", '{"brightness": 900}'], "between 0 and 100"),
    ],
)
def test_send_fails_with_a_one_line_reason(cli, light, args, reason):
    proc = cli("send", light.id, *args, ok=False)
    assert reason in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_send_reports_a_timeout(cli, account, light, connect):
    connect(account, [light], delay=3)
    proc = cli("send", light.id, "setPowerState", "--value", '{"state": "On"}', ok=False)
    assert "timeout" in proc.stderr


def test_send_without_a_server_says_so(server_env):
    env = {**os.environ, **server_env, "BRIDGE_URL": "http://127.0.0.1:9"}
    proc = subprocess.run(
        [BRIDGE, "send", "a" * 24, "setPowerState"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode != 0 and "cannot reach the bridge" in proc.stderr


def test_token_create_and_history(cli, account, light, store):
    token = cli("token", "create", account.user.name, "--client", "script").stdout.strip()
    assert store.tokens.resolve(token) == account.user
    cli("send", light.id, "setPowerState", "--value", '{"state": "On"}', ok=False)
    rows = eventually(
        lambda: [
            json.loads(line)
            for line in cli("history", "--device", light.id, "--json").stdout.splitlines()
        ]
    )
    assert rows[0]["outcome"] == "offline" and rows[0]["device_id"] == light.id
    table = cli("history", "--device", light.id).stdout.splitlines()
    assert table[0].split()[:6] == ["id", "time", "device", "kind", "action", "outcome"]
    assert light.id in table[1] and "setPowerState" in table[1] and "offline" in table[1]
    shown = table[1].split()[0]  # the row's id, to follow its journey without --json
    assert shown == str(rows[0]["id"])
    followed = cli("history", "--journey", shown).stdout
    assert followed.startswith(f"journey {rows[0]['journey']}")


def test_version(cli):
    assert cli("--version").stdout.startswith("bridge, version ")


def test_simulate_runs_virtual_devices_that_answer(cli, server, server_env, account, store):
    env = {**os.environ, **server_env, "BRIDGE_URL": server.url}
    proc = subprocess.Popen(
        [BRIDGE, "simulate", "--user", account.user.name, "--devices", "3"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        devices = eventually(
            lambda: (
                len(store.devices.of_user(account.user.id)) == 3
                and store.devices.of_user(account.user.id)
            )
        )
        assert {d.type for d in devices} <= set(catalog.TYPES)
        powered = next(d for d in devices if d.type == "air_conditioner")
        out = eventually(
            lambda: (
                cli(
                    "send", powered.id, "setPowerState", "--value", '{"state": "On"}', ok=None
                ).stdout
            )
        )
        assert json.loads(out)["value"] == {"state": "On"}
        # A second simulator of the same account is refused (the first one's socket still
        # answers its pings): it says why, once, instead of retrying in silence.
        second = subprocess.Popen(
            [BRIDGE, "simulate", "--user", account.user.name],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            line = eventually(lambda: _line_with(second, "not connected"), timeout=20)
        finally:
            second.terminate()
            second.communicate(timeout=10)
        assert "another live socket" in line and "another `bridge simulate`" in line
    finally:
        proc.terminate()
        said = proc.communicate(timeout=10)[0]
    assert "connected: 3 devices" in said
    assert f"command {powered.name}: setPowerState" in said


def _line_with(proc: subprocess.Popen, text: str) -> str | None:
    """The next line of `proc` that holds `text` (None: it ended before one did)."""
    for line in proc.stdout:
        if text in line:
            return line
    return None


def test_device_changes_are_announced_to_the_platforms(cli, account, store):
    out = json.loads(
        cli("device", "create", account.user.name, "--type", "plug", "--name", "Desk plug").stdout
    )
    renamed = json.loads(
        cli("device", "rename", out["id"], "Desk lamp plug", "--room", "Office").stdout
    )
    assert (renamed["name"], renamed["room"]) == ("Desk lamp plug", "Office")
    cli("device", "delete", out["id"])
    said = [
        decode(r[0])
        for r in store.db.execute(
            "select change from outbox where device_id = ? and adapter = '*' order by id",
            [out["id"]],
        )
    ]
    assert [(type(m), m.change) for m in said] == [
        (DeviceAnnounced, "added"),
        (DeviceAnnounced, "updated"),
        (DeviceAnnounced, "removed"),
    ]


def test_key_commands(cli, account, store):
    made = json.loads(
        cli(
            "key",
            "create",
            "--user",
            account.user.name,
            "--purpose",
            "read",
            "--product",
            "light,plug",
            "--name",
            "dashboard",
        ).stdout
    )
    assert made["purpose"] == "read" and made["products"] == ["light", "plug"]
    assert store.keys.check_secret(made["id"], made["secret"]) is not None
    listed = cli("key", "list", account.user.name).stdout
    assert made["id"] in listed and made["secret"] not in listed
    cli("key", "disable", made["id"])
    assert store.keys.check_secret(made["id"], made["secret"]) is None
    cli("key", "enable", made["id"])
    assert store.keys.get(made["id"]).disabled is False
    bad = cli(
        "key",
        "create",
        "--user",
        account.user.name,
        "--purpose",
        "read",
        "--product",
        "toaster",
        ok=False,
    )
    assert "device types or 24-hex device ids" in bad.stderr
    cli("key", "delete", made["id"])
    assert "no key" in cli("key", "disable", made["id"], ok=False).stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["send", "0123456789abcdef01234567", "setPowerState", "--value", '{"state": "On"}'],
    ],
)
def test_the_quick_commands_import_neither_the_server_nor_a_plugin(args):
    """What keeps them fast (bench/cli.py times them): no Flask, no database driver, no
    store, no adapter or transport is imported for --version, --help or send."""
    probe = (
        "import sys\n"
        "from bridge.cli import main\n"
        f"try: main({args!r})\n"
        "except SystemExit: pass\n"
        "heavy = ('flask', 'psycopg', 'sqlite_utils', 'gevent', 'bridge.store', 'adapters',"
        " 'bridge.transports', 'bridge.runtime.app', 'cryptography')\n"
        "print(sorted({m for m in sys.modules if m.split('.')[0] in heavy"
        " or m.startswith(heavy)}))\n"
    )
    env = {**os.environ, "BRIDGE_URL": "http://127.0.0.1:9"}  # nothing listens: send fails
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def test_help_lists_the_plugins_commands_and_they_still_run(cli):
    listed = cli("--help").stdout
    for name in ("sigfox", "mqtt", "thing", "tuya"):
        assert f"  {name} " in listed
    assert "payload layouts" in cli("sigfox", "--help").stdout
    assert "--sigfox-id" in cli("device", "create", "--help").stdout


def test_status_prints_each_service_and_says_ready(cli):
    printed = eventually(lambda: (p := cli("status", ok=None)).returncode == 0 and p)
    lines = printed.stdout.splitlines()
    assert lines[-1] == "ready"
    assert {line.split("  ")[0].strip() for line in lines[:-1]} >= {"reports", "store sync"}


def test_status_without_a_server_says_so(server_env):
    env = {**os.environ, **server_env, "BRIDGE_URL": "http://127.0.0.1:9"}
    proc = subprocess.run([BRIDGE, "status"], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and "cannot reach the bridge" in proc.stderr


def test_accuracy_prints_each_platforms_time_weighted_share_against_its_target(cli, store):
    now = time.time()
    store.beliefs.sampled(
        [
            Sample("cliplatform", now - 100, 50.0, 10, 9),  # 90% for 50 s
            Sample("cliplatform", now - 50, 50.0, 10, 10),  # then 100% for 50 s
        ]
    )
    store.writer.flush()
    [line] = [x for x in cli("accuracy", "--hours", "1").stdout.splitlines() if "cliplatform" in x]
    assert line.split() == [
        "cliplatform",
        "95.000%",
        "over",
        "0.0",
        "h",
        "now",
        "100.00%",
        "of",
        "10",
        "target",
        "99.5%",
        "NOT",
        "met",
    ]
    assert cli("accuracy", "--hours", "0", ok=False).returncode == 2
