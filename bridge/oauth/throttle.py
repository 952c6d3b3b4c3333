"""Login throttling: after a few free failures, each try waits twice as long."""

from __future__ import annotations

import time

from bridge.store.logins import Logins

MAX_WAIT = 900.0
ADDRESS_FACTOR = 4
"""An address (an office behind one NAT) gets this many times an account's free failures."""


def wait_seconds(
    logins: Logins,
    name: str,
    address: str,
    free: int,
    now: float | None = None,
    attempt: int | None = None,
) -> int:
    """Seconds to wait before the next attempt for this account or from this address.

    `attempt`: the attempt being judged, already recorded; the attempts before it count.
    """
    now = now if now is not None else time.time()
    wait = 0.0
    for column, value, allowed in (
        ("name", name, free),
        ("address", address, free * ADDRESS_FACTOR),
    ):
        count, last = logins.failures(column, value, now, before=attempt)
        if count >= allowed:
            wait = max(wait, min(MAX_WAIT, 2.0 ** (count - allowed)) - (now - last))
    return max(0, int(wait + 0.999))
