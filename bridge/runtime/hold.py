"""Hold a step while a part of the bridge is away, within a bound.

A device's message that arrives while the bus or the store is away is not
dropped: the step is tried again with a short backoff until it succeeds or
the bound passes. Past the bound the caller refuses the message in the
device's own terms (a socket closed with "try again later", a callback
answered 503), so the device keeps it: never acknowledged and forgotten.
While a step is held, the device's later messages wait behind it (the
socket is not read), which bounds what is held to one message per device.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import gevent

from bridge.model import Unavailable

T = TypeVar("T")

BOUND = 10.0
"""Seconds a message is held at most (a bus or store restart takes a few)."""


def when_available(
    step: Callable[[], T],
    bound: float = BOUND,
    sleep: Callable[[float], object] = gevent.sleep,
) -> T:
    """`step()`, tried again while it raises Unavailable, for `bound` seconds at most
    (then the last Unavailable is raised)."""
    waited, pause = 0.0, 0.1
    while True:
        try:
            return step()
        except Unavailable:
            if waited >= bound:
                raise
        pause = min(pause * 2, 2.0)
        sleep(pause)
        waited += pause
