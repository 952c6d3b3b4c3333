"""One server per database until the bus exists: a second one refuses to start.

Devices hold their sockets in one process; a second server on the same
database would see them all offline and answer every command for them as
unreachable. An advisory lock beside the database says so at start instead.
The kernel drops the lock with the process that holds it, so a crash never
leaves a stale one behind. CLI commands never take it: they share the
database with the running server by design.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class DatabaseInUse(Exception):
    """Another live server holds the database."""


def lock_path(database: str) -> Path:
    return Path(database).resolve().with_suffix(".lock")


def hold(database: str) -> int | None:
    """Lock the database for this process's lifetime; return the descriptor to keep open.

    Raises DatabaseInUse, naming the holder's pid, when another server has it.
    """
    if database == ":memory:":
        return None
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
