"""gunicorn settings: one gevent worker by default, thousands of sockets.

Every device holds a socket and every pending command an 8-second wait, so
connections are greenlets; `worker_connections` must exceed the device count.
"""

import os

bind = os.environ.get("BRIDGE_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
worker_class = "gevent"
workers = int(os.environ.get("BRIDGE_WORKERS", "1"))
worker_connections = int(os.environ.get("BRIDGE_WORKER_CONNECTIONS", "20000"))
backlog = 4096
keepalive = 75
graceful_timeout = 10
accesslog = os.environ.get("BRIDGE_ACCESS_LOG") or None
loglevel = os.environ.get("BRIDGE_LOG_LEVEL", "info")
certfile = os.environ.get("BRIDGE_TLS_CERT") or None
keyfile = os.environ.get("BRIDGE_TLS_KEY") or None
