"""Live history for the SSE streams: woken when rows are written, never polling the database.

The store records history behind and flushes every 50 ms; after each flush the
bridge tells the notifier whose rows went in. A stream reads the database
only when its user has something new (or once per keep-alive), however many
streams are open.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator

from gevent.event import Event

KEEPALIVE = 15.0


class Notifier:
    def __init__(self) -> None:
        self._versions: dict[int, int] = {}
        self._events: dict[int, Event] = {}

    def version(self, user_id: int) -> int:
        return self._versions.get(user_id, 0)

    def wait(self, user_id: int, seen: int, timeout: float) -> bool:
        """Until the user's history moves past `seen` (True) or the timeout (False)."""
        if self.version(user_id) != seen:
            return True
        event = self._events.get(user_id)
        if event is None:
            event = self._events[user_id] = Event()
        return event.wait(timeout)

    def notify(self, user_ids: Iterable[int | None]) -> None:
        for user_id in user_ids:
            if user_id is None:
                continue
            self._versions[user_id] = self._versions.get(user_id, 0) + 1
            event = self._events.pop(user_id, None)
            if event is not None:
                event.set()

    def notify_all(self) -> None:
        """Another process wrote (the CLI): every stream looks once."""
        self.notify(list(self._events))


def stream(
    user_id: int,
    notifier: Notifier,
    fetch: Callable[[int], list[dict]],
    last: int,
    lifetime: float,
    event: str | None = None,
) -> Iterator[str]:
    """Server-sent events: every row `fetch(after_id)` returns, oldest first, as it comes."""
    end = time.monotonic() + lifetime
    yield ": connected\n\n"
    while time.monotonic() < end:
        seen = notifier.version(user_id)
        rows = fetch(last)
        for row in rows:
            last = row["id"]
            kind = f"event: {event}\n" if event else ""
            yield f"id: {row['id']}\n{kind}data: {json.dumps(row)}\n\n"
        if not rows and not notifier.wait(user_id, seen, KEEPALIVE):
            yield ": keep-alive\n\n"
