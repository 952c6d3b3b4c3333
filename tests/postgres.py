"""A real PostgreSQL server on a free loopback port, for the tests (Debian `postgresql`).

PostgreSQL refuses to run as root, so under root (CI, containers) the server
runs as the `postgres` user the Debian package creates. Durability is off:
the tests want speed, not crash safety from the test database.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from servers import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    return found[-1]


class PostgresServer:
    def __init__(self) -> None:
        if not Path(_bin("initdb")).exists():
            raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
        self.port = free_port()
        # Not under pytest's temporary folder: its parents are root's own (0700).
        directory = self.directory = Path(tempfile.mkdtemp(prefix="bridge-postgres-"))
        data = directory / "data"
        as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres")
            as_user = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [
                *as_user,
                _bin("initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "bridge",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        self.log = directory / "postgres.log"
        self.data, self.as_user = data, as_user
        self.admin = f"postgresql://bridge@127.0.0.1:{self.port}/postgres"
        self.start()

    def start(self) -> None:
        """Start the server (again, on the same port and data)."""
        self.proc = subprocess.Popen(
            [
                *self.as_user,
                _bin("postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-k",
                str(self.directory),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=300",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("a"),
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.admin, connect_timeout=1).close()
                return
            except psycopg.OperationalError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"postgres did not start: {self.log.read_text()}") from None
                time.sleep(0.1)

    def halt(self) -> None:
        """Stop the server, keeping its data: a fast shutdown, which ends the sessions
        clients still hold, as a restart does."""
        if self.proc.poll() is None:  # pg_ctl: a signal to runuser would not reach it
            subprocess.run(
                [*self.as_user, _bin("pg_ctl"), "-D", str(self.data), "stop", "-m", "fast"],
                check=True,
                capture_output=True,
            )
            self.proc.wait(20)

    def database(self) -> str:
        """A new empty database's URL."""
        name = f"t{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        return f"postgresql://bridge@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self.halt()
        shutil.rmtree(self.directory, ignore_errors=True)
