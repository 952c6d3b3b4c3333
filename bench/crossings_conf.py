"""Gunicorn settings for bench/crossings.py: the served tree's own config, and a worker
that counts, for each voice webhook call and each device message, the calls that cross
between the core and a plugin (in the greenlet serving it), into BENCH_CROSSINGS_OUT."""

import os
import sys

import gevent

with open(os.path.join(os.getcwd(), "config", "gunicorn.conf.py")) as _own:
    exec(_own.read())  # the tree's own settings, hooks included

_own_post_worker_init = post_worker_init  # noqa: F821 (defined by the tree's config)
PLUGINS = ("bridge/transports/sinric/", "bridge/transports/mqtt/", "bridge/transports/sigfox/")
KIT = ("adapters/base.py", "adapters/__init__.py")
"""Before the kit, the adapter contract lived in adapters/: it counts as the core's side."""


def _region(filename: str, root: str) -> str:
    if not filename.startswith(root + "/"):
        return ""
    rel = filename[len(root) + 1 :]
    if rel.startswith(PLUGINS) or (rel.startswith("adapters/") and rel not in KIT):
        return "plugin"
    return "core" if rel.startswith(("bridge/", "config/", "adapters/")) else ""


def _counted(fn, label):
    root, out, regions = os.getcwd(), os.environ["BENCH_CROSSINGS_OUT"], {}

    def region(code) -> str:
        found = regions.get(code)
        if found is None:
            found = regions[code] = _region(code.co_filename, root)
        return found

    def run(*args, **kwargs):
        me, count = gevent.getcurrent(), [0]

        def profile(frame, event, arg):
            if event != "call" or gevent.getcurrent() is not me:
                return
            callee = region(frame.f_code)
            if not callee:
                return
            caller = frame.f_back
            while caller is not None and not region(caller.f_code):
                caller = caller.f_back
            if caller is not None and region(caller.f_code) != callee:
                count[0] += 1

        sys.setprofile(profile)
        try:
            return fn(*args, **kwargs)
        finally:
            sys.setprofile(None)
            with open(out, "a") as fh:
                fh.write(f"{label(*args)} {count[0]}\n")

    return run


def post_worker_init(worker):
    _own_post_worker_init(worker)
    from bridge.http import webhooks
    from bridge.transports.sinric import endpoint

    webhooks.Webhooks._serve = _counted(
        webhooks.Webhooks._serve, lambda self, adapter, *rest: f"webhook:{adapter.name}"
    )
    endpoint.DeviceEndpoint.on_message = _counted(
        endpoint.DeviceEndpoint.on_message,
        lambda self, conn, text: "event" if '"type":"event"' in text else "message",
    )
