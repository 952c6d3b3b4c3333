"""`make run`, the README's first command, serves the bridge on PORT."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from servers import ROOT, free_port


def test_make_run_serves_on_port(tmp_path: Path):
    port = free_port()
    env = {**os.environ, "PORT": str(port), "BRIDGE_DATABASE": str(tmp_path / "q.db")}
    proc = subprocess.Popen(
        ["make", "-s", "run"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        end = time.monotonic() + 60
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
                break
            except requests.RequestException:
                assert proc.poll() is None and time.monotonic() < end, proc.stdout.read()
                time.sleep(0.2)
        assert health["ok"] is True
        assert (tmp_path / "q.db").exists() and (tmp_path / "q.key").stat().st_mode & 0o077 == 0
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


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
    proc = subprocess.Popen(
        command,
        shell=True,
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        end = time.monotonic() + 60
        while True:
            try:
                assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok
                break
            except requests.RequestException:
                assert proc.poll() is None and time.monotonic() < end, proc.stdout.read()
                time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=20)[0]
    assert f"Listening at: http://0.0.0.0:{port}" in output


def test_a_key_that_cannot_read_the_database_stops_server_and_cli_with_one_line(tmp_path: Path):
    from bridge.secrets import Vault
    from bridge.store import Store

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
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    server = subprocess.run(
        [gunicorn, "-c", "config/gunicorn.conf.py", "app:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert server.returncode != 0
    assert "cannot decrypt the secrets" in server.stderr and "Traceback" not in server.stderr
