"""Run CPU-heavy calls that release the GIL off the event loop.

A password hash (scrypt) takes ~100 ms; in the server that would stall every
device socket for as long, and a flood of logins would stall them for good.
Inside a gevent-patched server the call runs on gevent's thread pool and only
the calling greenlet waits; anywhere else it simply runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from gevent import get_hub, monkey

T = TypeVar("T")


def offload(fn: Callable[..., T], *args: object) -> T:
    if monkey.is_module_patched("threading"):
        return get_hub().threadpool.apply(fn, args)
    return fn(*args)
