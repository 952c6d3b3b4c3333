"""One server per SQLite database, and per PostgreSQL database without the bus.

Devices hold their sockets in one server; a second server on the same data
would see them all offline and answer every command for them as
unreachable. So a second one refuses to start: on SQLite always (a lock
file beside the database, taken with flock; several workers of one server
share it), on PostgreSQL unless the servers share the Redis bus (an
advisory lock held on a connection of the first server's master). Either
lock goes with the process that holds it, so a crash never leaves a stale
one behind. CLI commands never take it: they share the database with the
running server by design.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class DatabaseInUse(Exception):
    """Another live server holds the database."""


def lock_path(database: str) -> Path:
    return Path(database).resolve().with_suffix(".lock")


def is_postgres(database: str) -> bool:
    return database.startswith(("postgresql://", "postgres://"))


def hold_postgres(url: str) -> object:
    """The PostgreSQL lock: an advisory lock on a connection kept open (returned)."""
    import psycopg

    conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
    row = conn.execute("select pg_try_advisory_lock(hashtext('voice-bridge server'))").fetchone()
    if not row[0]:
        conn.close()
        raise DatabaseInUse(
            "another bridge server already serves this PostgreSQL database without the bus:"
            " set BRIDGE_REDIS_URL on every server to run several, or stop that one"
        )
    return conn


def hold(database: str, shared: bool = False) -> object:
    """Lock the database for this process's lifetime; return what to keep open.

    Raises DatabaseInUse, naming the holder, when another server has it.
    `shared`: the servers share the Redis bus (then PostgreSQL takes any number).
    """
    if database == ":memory:":
        return None
    if is_postgres(database):
        return None if shared else hold_postgres(database)
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise DatabaseInUse(
            f"another bridge server (pid {holder}) already serves {Path(database).resolve()}:"
            " one database takes one server; stop that one or set BRIDGE_DATABASE"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd
