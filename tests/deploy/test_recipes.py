"""The deploy recipes run: the image and the Compose set-up, rehearsed without Docker.

CI has no Docker engine (`deploy/check-container.sh` builds and starts both where one
runs). What can be checked without one is checked here for real: the build context
holds the code and no secret, and the image's command, environment and health check,
and Compose's settings for the scaled set-up, serve against real PostgreSQL and Redis.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml
from servers import RedisServer, free_port, workers_answering

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def instructions(text: str) -> list[tuple[str, str]]:
    """A Dockerfile's instructions, continuation lines joined, comments dropped."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


DOCKERFILE = instructions((ROOT / "Dockerfile").read_text())
FINAL = DOCKERFILE[max(i for i, (word, _) in enumerate(DOCKERFILE) if word == "FROM") :]


def final(word: str) -> list[str]:
    return [rest for w, rest in FINAL if w == word]


def image_env(data: Path, port: int) -> dict[str, str]:
    """The image's ENV, with /data and the port where this test put them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIDGE_", "PYTHON"))}
    for rest in final("ENV"):
        for pair in shlex.split(rest):
            key, _, value = pair.partition("=")
            env[key] = value.replace("$PATH", env.get("PATH", ""))
    env["PATH"] = env["PATH"].replace("/venv/bin", str(VENV_BIN))
    env["BRIDGE_DATABASE"] = env["BRIDGE_DATABASE"].replace("/data", str(data))
    env["BRIDGE_BIND"] = env["BRIDGE_BIND"].replace(":8000", f":{port}")
    return env


def exec_form(rest: str) -> list[str]:
    import json

    return json.loads(rest)


def test_the_image_is_small_runs_as_nobody_special_and_serves_as_make_run_does():
    [base] = final("FROM")
    assert base.startswith("python:3.11-slim")
    [user] = final("USER")
    assert user not in ("root", "0")
    assert final("VOLUME") == ["/data"] and final("EXPOSE") == ["8000"]
    command = exec_form(final("CMD")[0])
    make_run = re.search(r"gunicorn (-c \S+ app:app)", (ROOT / "Makefile").read_text())
    assert make_run and command == ["gunicorn", *make_run.group(1).split()]
    build = [rest for word, rest in DOCKERFILE[: -len(FINAL)] if word == "RUN"]
    assert any("pip install" in r and r.endswith(" .") for r in build)


def ignored(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last pattern matching the path or a folder above it decides."""
    parts = path.split("/")
    decided = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern.lstrip("!").rstrip("/")
        regex = re.escape(body).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        if any(re.fullmatch(regex, "/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            decided = not negate
    return decided


def test_the_build_context_holds_the_code_and_no_secret():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = [
        rest.split()[0] for word, rest in DOCKERFILE if word == "COPY" and "--from" not in rest
    ]
    needed = [p for c in copied for p in c.split() if (ROOT / p).exists()]
    assert "bridge" in needed and "config/gunicorn.conf.py" in needed
    for path in needed:
        files = (
            [path]
            if (ROOT / path).is_file()
            else [str(f.relative_to(ROOT)) for f in (ROOT / path).rglob("*.py")]
        )
        assert files and not [f for f in files if ignored(patterns, f)], path
    secrets = [
        "bridge.db",
        "bridge.key",
        "data/bridge.db-wal",
        ".venv/bin/python",
        "broker/ca.key",
        "things.zip",
        "tests/conftest.py",
        ".git/config",
        "bridge/__pycache__/cli.cpython-311.pyc",
    ]
    assert [s for s in secrets if not ignored(patterns, s)] == []


@pytest.fixture
def image(tmp_path):
    """The final stage's files, from the context as its COPY lines say, and /data."""
    app = tmp_path / "app"
    for rest in final("COPY"):
        if "--from" in rest:
            continue
        *sources, target = rest.split()
        for source in sources:
            into = app / target / Path(source).name if target.endswith("/") else app / target
            into.parent.mkdir(parents=True, exist_ok=True)
            into.write_bytes((ROOT / source).read_bytes())
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    return app, data


def serve(app: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    command = exec_form(final("CMD")[0])
    return subprocess.Popen(
        command, cwd=app, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def healthy(env: dict[str, str], port: int, proc: subprocess.Popen, log: Path) -> None:
    """The image's HEALTHCHECK command, until it passes (or the server dies)."""
    [check] = final("HEALTHCHECK")
    command = exec_form(check.split(" CMD ", 1)[1].strip())
    command = [part.replace(":8000", f":{port}") for part in command]
    for _ in range(150):
        if proc.poll() is not None:
            pytest.fail(f"the image's command exited:\n{log.read_text()}")
        if subprocess.run(command, env=env, capture_output=True, check=False).returncode == 0:
            return
        subprocess.run(["sleep", "0.2"], check=True)
    pytest.fail(f"the health check never passed:\n{log.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0


def test_the_image_serves_the_embedded_default_and_keeps_its_files_private(image, tmp_path):
    app, data = image
    port = free_port()
    env = image_env(data, port)
    log = tmp_path / "image.log"
    proc = serve(app, env, log)
    try:
        healthy(env, port, proc, log)
        made = subprocess.run(  # `docker exec ... bridge user create`
            ["bridge", "user", "create", "alice", "--password", "correct horse"],
            cwd=app,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert made.returncode == 0, made.stderr
        listening = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert listening.status_code == 200 and listening.json()["ready"]
    finally:
        stop(proc)
    modes = {p.name: p.stat().st_mode & 0o777 for p in data.iterdir() if p.is_file()}
    assert {"bridge.db", "bridge.key"} <= set(modes)
    assert {name: mode for name, mode in modes.items() if mode != 0o600} == {}
    assert "Traceback" not in log.read_text()


def interpolate(value: str, given: dict[str, str]) -> str:
    """Compose's `${VAR:-default}` and `${VAR:?message}`."""

    def one(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if given.get(name):
            return given[name]
        if op == ":?":
            raise KeyError(arg)
        return arg

    return re.sub(r"\$\{(\w+)(:-|:\?)([^}]*)\}", one, value)


COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_refuses_to_start_without_its_two_secrets():
    env = COMPOSE["services"]["bridge"]["environment"]
    for missing in ("BRIDGE_SECRET_KEY", "POSTGRES_PASSWORD"):
        given = {"BRIDGE_SECRET_KEY": "k", "POSTGRES_PASSWORD": "p"}
        del given[missing]
        with pytest.raises(KeyError, match=missing):
            {k: interpolate(v, given) for k, v in env.items()}


def test_compose_runs_the_scaled_set_up_on_real_servers(image, tmp_path, postgres_server):
    services = COMPOSE["services"]
    assert services["bridge"]["build"] == "."
    postgres = services["postgres"]["environment"]
    given = {"BRIDGE_SECRET_KEY": "compose-secret", "POSTGRES_PASSWORD": "compose-password"}
    env = {k: interpolate(str(v), given) for k, v in services["bridge"]["environment"].items()}
    pg = {k: interpolate(str(v), given) for k, v in postgres.items()}
    assert env["BRIDGE_DATABASE"] == (
        f"postgresql://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/"
        f"{pg['POSTGRES_DB']}"
    )
    assert services["redis"]["command"][-4:] == ["--save", "", "--appendonly", "no"]
    assert int(env["BRIDGE_WORKERS"]) > 1 and env["BRIDGE_REDIS_URL"] == "redis://redis:6379/0"
    # The services' host names, where this test's servers listen (the test server trusts
    # loopback, so the password is carried and not checked).
    redis = RedisServer(tmp_path)
    database = postgres_server.database().rpartition("/")[2]
    env["BRIDGE_DATABASE"] = env["BRIDGE_DATABASE"].replace(
        "@postgres:5432/bridge", f"@127.0.0.1:{postgres_server.port}/{database}"
    )
    env["BRIDGE_REDIS_URL"] = redis.url
    app, data = image
    port = free_port()
    environment = {**image_env(data, port), **env}
    log = tmp_path / "compose.log"
    proc = serve(app, environment, log)
    try:
        healthy(environment, port, proc, log)
        url = f"http://127.0.0.1:{port}"
        assert len(workers_answering(url, int(env["BRIDGE_WORKERS"]))) == 2
        services_up = {
            s["name"] for s in requests.get(url + "/readyz", timeout=5).json()["services"]
        }
        assert "bus" in services_up
    finally:
        stop(proc)
        redis.stop()
    assert list(data.iterdir()) == []  # PostgreSQL holds everything; no key file is made
    assert "Traceback" not in log.read_text()


def test_the_systemd_unit_runs_what_make_run_runs_as_its_own_user():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(ROOT / "deploy" / "voice-bridge.service")
    service = unit["Service"]
    assert service["User"] not in ("root", "0") and service["UMask"] == "0077"
    command = service["ExecStart"].split()
    assert command[0] == service["WorkingDirectory"] + "/.venv/bin/gunicorn"
    assert command[1:] == exec_form(final("CMD")[0])[1:]
    database = service["Environment"].partition("=")[2]
    assert database.startswith("/var/lib/" + service["StateDirectory"] + "/")
    assert service["ReadWritePaths"] == "/var/lib/" + service["StateDirectory"]
    assert int(service["LimitNOFILE"]) > 20000  # above gunicorn's worker_connections


def test_a_python_paas_finds_the_app_its_python_and_its_dependencies():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    version = (ROOT / ".python-version").read_text().strip()
    minimum = re.fullmatch(r">=(\d+\.\d+)", project["requires-python"]).group(1)
    assert tuple(map(int, version.split("."))) >= tuple(map(int, minimum.split(".")))
    assert final("FROM")[0].startswith(f"python:{version}-")
    requirements = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert requirements == ["."]  # the project itself: the pins stay in one place
    web = (ROOT / "Procfile").read_text().split("web:", 1)[1].split("\n", 1)[0].split()
    at = web.index("--bind")
    assert web[at + 1] == "0.0.0.0:$PORT"  # the platform's router finds it there
    assert web[:at] + web[at + 2 :] == exec_form(final("CMD")[0])
