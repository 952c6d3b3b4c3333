"""Login throttling: after a few free failures, each try waits twice as long."""

from __future__ import annotations

import time

from bridge.store.logins import Logins

MAX_WAIT = 900.0


def wait_seconds(
    logins: Logins, name: str, address: str, free: int, now: float | None = None
) -> int:
    """Seconds to wait before the next attempt for this account or from this address."""
    now = now if now is not None else time.time()
    wait = 0.0
    for column, value in (("name", name), ("address", address)):
        count, last = logins.failures(column, value, now)
        if count >= free:
            wait = max(wait, min(MAX_WAIT, 2.0 ** (count - free)) - (now - last))
    return max(0, int(wait + 0.999))
