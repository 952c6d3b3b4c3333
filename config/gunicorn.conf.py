"""gunicorn settings: one gevent worker by default, thousands of sockets.

Every device holds a socket and every pending command an 8-second wait, so
connections are greenlets; `worker_connections` must exceed the device count.
"""

import resource
import subprocess
import sys

from config import logs  # light: no ssl before the gevent worker patches it
from config.settings import Settings  # light too: the variables and their defaults

settings = Settings.from_env()
bind = settings.bind or f"127.0.0.1:{settings.port}"
worker_class = "gevent"
# One worker by default; more only with the Redis bus (BRIDGE_REDIS_URL), which routes
# each command to the worker holding the device and shares every limit.
workers = settings.workers
worker_connections = settings.worker_connections
backlog = 4096
# Also the time a client has to send its request headers: slow senders are cut off.
keepalive = max(1, round(settings.header_timeout))
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
graceful_timeout = round(settings.graceful_timeout)
accesslog = settings.access_log or None
loglevel = settings.log_level or "info"
# One format for gunicorn's lines and the bridge's (time, level, logger), or JSON lines.
logconfig_dict = logs.config(settings.log_format or "text", loglevel, access=bool(accesslog))
certfile = settings.tls_cert or None
keyfile = settings.tls_key or None
# No control socket: gunicorn runs it on a thread of the master that it stops before
# every fork and starts again after (with a 2 s join that a busy machine can outlast), so
# workers respawned together after a crash could be forked beside a live thread; its path
# (~/.gunicorn/gunicorn.ctl) is also one per user, which two servers on a host fight over.
# Nothing here uses it: signals do the same (HUP reloads, TTIN/TTOU change the workers).
control_socket_disable = True

_held: list[object] = []  # the database lock, kept open for the master's lifetime


def on_starting(server):
    """Before any worker: refuse a database another server holds or a key that
    cannot read it, then lift the soft open-files limit to the hard one (every
    device is an open socket).

    The check runs in a process of its own (`bridge check`): importing the
    bridge here would import ssl before the gevent worker patches it.
    """
    from config.db_lock import DatabaseInUse, hold

    if server.cfg.workers > 1 and not settings.redis_url:
        sys.stderr.write(
            f"bridge: {server.cfg.workers} workers need the Redis bus: set BRIDGE_REDIS_URL"
            " (one worker is the default without it)\n"
        )
        sys.exit(1)
    try:
        _held.append(hold(settings.database, shared=bool(settings.redis_url)))
    except DatabaseInUse as exc:
        sys.stderr.write(f"bridge: {exc}\n")
        sys.exit(1)
    check = subprocess.run(
        [sys.executable, "-m", "bridge.cli", "check"], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        sys.stderr.write(check.stderr or check.stdout)
        sys.exit(1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def post_worker_init(worker):
    """Move what the worker made at start (modules, the app) out of the collector's
    reach: full collections then walk only what requests make (a shorter tail)."""
    import gc

    gc.freeze()
