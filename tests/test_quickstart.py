"""`make run`, the README's first command, serves the bridge on PORT."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from servers import ROOT, free_port, workers_answering


@dataclass
class Served:
    """A server started as a person would; its health answer, and its output once stopped."""

    health: dict = field(default_factory=dict)
    output: str = ""


@contextmanager
def serving(command: list[str] | str, env: dict[str, str], port: int, **popen):
    served = Served()
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )
    try:
        end = time.monotonic() + 60
        while True:
            try:
                served.health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
                break
            except requests.RequestException:
                assert proc.poll() is None and time.monotonic() < end, proc.stdout.read()
                time.sleep(0.2)
        yield served
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        served.output = proc.communicate(timeout=20)[0]


def test_make_run_serves_on_port(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "PORT": str(port), "BRIDGE_DATABASE": str(tmp_path / "q.db")}
    with serving(["make", "-s", "run"], env, port) as served:
        assert served.health["ok"] is True
        assert (tmp_path / "q.db").exists() and (tmp_path / "q.key").stat().st_mode & 0o077 == 0


def test_the_procfile_serves_on_every_interface(tmp_path: Path):
    """A platform's router reaches the deploy entry: 0.0.0.0:$PORT, not loopback."""
    command = (ROOT / "Procfile").read_text().split("web:", 1)[1].strip()
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "BRIDGE_DATABASE": str(tmp_path / "p.db"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("BRIDGE_BIND", None)
    with serving(command, env, port, shell=True) as served:
        assert served.health["ok"] is True
    assert f"Listening at: http://0.0.0.0:{port}" in served.output


def test_a_key_that_cannot_read_the_database_stops_server_and_cli_with_one_line(tmp_path: Path):
    from bridge.store import Store
    from bridge.store.secrets import Vault

    db = tmp_path / "k.db"
    Store(str(db), Vault("the-original-key")).users.create("alice", "password1")
    env = {
        **os.environ,
        "BRIDGE_DATABASE": str(db),
        "BRIDGE_SECRET_KEY": "some-other-key",
        "PORT": str(free_port()),
        "PYTHONPATH": str(ROOT),
    }
    bridge = str(Path(sys.executable).with_name("bridge"))
    cli = subprocess.run(
        [bridge, "user", "list"], env=env, capture_output=True, text=True, timeout=30
    )
    assert cli.returncode == 1
    assert cli.stderr.strip().count("\n") == 0 and "cannot decrypt" in cli.stderr
    server = gunicorn(env)
    assert server.returncode != 0
    assert "cannot decrypt the secrets" in server.stderr and "Traceback" not in server.stderr


def gunicorn(env: dict[str, str]) -> subprocess.CompletedProcess:
    """The bridge as the Procfile starts it, run to its end."""
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            "config/gunicorn.conf.py",
            "app:app",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_second_server_on_the_same_database_refuses_with_one_line(tmp_path: Path):
    db = tmp_path / "one.db"
    first_port = free_port()
    env = {**os.environ, "BRIDGE_DATABASE": str(db), "PYTHONPATH": str(ROOT)}
    with serving(["make", "-s", "run"], {**env, "PORT": str(first_port)}, first_port):
        second = gunicorn({**env, "PORT": str(free_port())})
        assert second.returncode != 0
        [line] = [x for x in second.stderr.splitlines() if x.startswith("bridge:")]
        assert f"already serves {db}" in line and "Traceback" not in second.stderr
        holder = int(line.split("(pid ", 1)[1].split(")", 1)[0])
        os.kill(holder, 0)  # the pid named is the live first server
        assert (db.with_suffix(".lock").stat().st_mode & 0o777) == 0o600
    port = free_port()
    with serving(["make", "-s", "run"], {**env, "PORT": str(port)}, port) as served:
        assert served.health["ok"] is True  # the lock left with the first server


def test_several_workers_without_the_redis_bus_are_refused_with_one_line(tmp_path: Path):
    env = {
        **os.environ,
        "BRIDGE_DATABASE": str(tmp_path / "w.db"),
        "BRIDGE_WORKERS": "2",
        "PORT": str(free_port()),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("BRIDGE_REDIS_URL", None)
    server = gunicorn(env)
    assert server.returncode != 0
    [line] = [x for x in server.stderr.splitlines() if x.startswith("bridge:")]
    assert "2 workers need the Redis bus: set BRIDGE_REDIS_URL" in line
    assert "Traceback" not in server.stderr


def test_postgresql_takes_one_server_without_the_bus_and_any_number_with_it(
    tmp_path: Path, postgres_server, redis_server
):
    database = postgres_server.database()
    env = {
        **os.environ,
        "BRIDGE_DATABASE": database,
        "BRIDGE_SECRET_KEY": "a-key-for-both-servers",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("BRIDGE_REDIS_URL", None)
    first_port = free_port()
    with serving(["make", "-s", "run"], {**env, "PORT": str(first_port)}, first_port):
        second = gunicorn({**env, "PORT": str(free_port())})
        assert second.returncode != 0
        [line] = [x for x in second.stderr.splitlines() if x.startswith("bridge:")]
        assert "already serves this PostgreSQL database without the bus" in line
    shared = {**env, "BRIDGE_REDIS_URL": redis_server.url, "BRIDGE_REDIS_PREFIX": "quick"}
    ports = free_port(), free_port()
    with (
        serving(["make", "-s", "run"], {**shared, "PORT": str(ports[0])}, ports[0]) as one,
        serving(["make", "-s", "run"], {**shared, "PORT": str(ports[1])}, ports[1]) as two,
    ):
        assert one.health["ok"] and two.health["ok"]
        assert one.health["worker"] != two.health["worker"]


def test_postgresql_without_a_secret_key_is_refused_with_one_line(postgres_server):
    env = {**os.environ, "BRIDGE_DATABASE": postgres_server.database(), "PYTHONPATH": str(ROOT)}
    env.pop("BRIDGE_SECRET_KEY", None)
    bridge = str(Path(sys.executable).with_name("bridge"))
    cli = subprocess.run([bridge, "check"], env=env, capture_output=True, text=True, timeout=30)
    assert cli.returncode != 0
    assert "BRIDGE_SECRET_KEY must be set with a PostgreSQL database" in cli.stderr
    assert "Traceback" not in cli.stderr


def test_the_scaled_procfile_serves_two_workers_on_its_own_redis(postgres_server):
    lines = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile.scaled").read_text().splitlines()
    )
    port, redis_port = free_port(), free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "REDIS_PORT": str(redis_port),
        "BRIDGE_DATABASE": postgres_server.database(),
        "BRIDGE_SECRET_KEY": "procfile-key",
        "BRIDGE_REDIS_PREFIX": "procfile",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    env.pop("BRIDGE_REDIS_URL", None)
    env.pop("BRIDGE_BIND", None)
    redis = subprocess.Popen(lines["redis"], shell=True, env=env, start_new_session=True)
    try:
        with serving(lines["web"], env, port, shell=True):
            assert len(workers_answering(f"http://127.0.0.1:{port}", 2)) == 2
    finally:
        os.killpg(redis.pid, signal.SIGTERM)
        redis.wait(10)
