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
