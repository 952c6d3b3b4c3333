"""Live history for the SSE streams: woken when rows are written, never polling the database.

The store records history behind and flushes every 50 ms; after each flush the
bridge tells the notifier whose rows went in. An account's streams wake
together, and one of them reads the new rows for all (the feed); each keeps
those its scope shows. A quiet stream costs a keep-alive every 30 s and no
read. Streams are capped per account (on the bus, so for every worker
together) and per worker: an idle page must not starve the others.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gevent
import gevent.select
from gevent.event import Event
from gevent.lock import Semaphore

from bridge.model import Unavailable

if TYPE_CHECKING:
    from bridge.bus import Bus

KEEPALIVE = 30.0
"""Seconds between keep-alives on a quiet stream (proxies close idle ones at 60)."""
READ = 100
"""Rows the feed reads at a time."""
KEPT = 500
"""Rows the feed keeps per account: a stream further behind reads for itself."""

Page = Callable[..., list[dict[str, Any]]]
"""A person's history page (`Bridge.history(user_id, after=, limit=, oldest_first=)`: the
store's `messages.page`, with the commands they sent to their households' devices)."""


MOVED = Event()
MOVED.set()


class Notifier:
    def __init__(self) -> None:
        self._versions: dict[int, int] = {}
        self._events: dict[int, Event] = {}

    def version(self, user_id: int) -> int:
        return self._versions.get(user_id, 0)

    def wait(self, user_id: int, seen: int, timeout: float) -> bool:
        """Until the user's history moves past `seen` (True) or the timeout (False)."""
        return self.waiter(user_id, seen).wait(timeout)

    def waiter(self, user_id: int, seen: int) -> Event:
        """An event set once the user's history moves past `seen` (already, if it has)."""
        if self.version(user_id) != seen:
            return MOVED
        event = self._events.get(user_id)
        if event is None:
            event = self._events[user_id] = Event()
        return event

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


@dataclass
class _Feed:
    """One account's newest rows, oldest first: every row after `floor` up to `cursor`."""

    floor: int
    cursor: int
    version: int = -1
    rows: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    """Each row with its JSON, encoded once for every stream."""
    streams: int = 0
    lock: Semaphore = field(default_factory=Semaphore)


class Streams:
    """The open streams of this worker: their places, and one feed per account.

    `per_account`: streams one account may hold open, on all workers together (its
    console pages and API clients); `per_worker`: all accounts together, on this one.
    """

    def __init__(
        self,
        notifier: Notifier,
        page: Page,
        bus: Bus,
        per_account: int = 20,
        per_worker: int = 1000,
    ) -> None:
        self.notifier, self.page, self.bus = notifier, page, bus
        self.per_account, self.per_worker = per_account, per_worker
        self._feeds: dict[int, _Feed] = {}

    def open(
        self,
        user_id: int,
        visible: Callable[[], Callable[[dict[str, Any]], bool]],
        fetch: Callable[[int], list[dict[str, Any]]],
        lifetime: float,
        event: str | None = None,
        client: socket.socket | None = None,
    ) -> Iterator[str] | None:
        """A stream of the account's new rows that `visible()` (asked again at each
        keep-alive: a key's scope may change) shows, or None when the account or this
        worker holds its most. `fetch(after)` reads for a stream the feed left behind (the
        next rows in its scope, oldest first). `client`, the caller's socket when the
        server lends it: the stream ends as soon as the caller leaves, not at the next
        keep-alive, so a closed page gives its place back at once."""
        if sum(f.streams for f in self._feeds.values()) >= self.per_worker:
            return None
        place = uuid.uuid4().hex
        if not self._lease(user_id, place):
            return None
        feed = self._feeds.get(user_id)
        if feed is None:
            try:
                latest = self.page(user_id, limit=1)
            except BaseException:
                self._unlease(user_id, place)
                raise
            start = latest[0]["id"] if latest else 0
            feed = self._feeds[user_id] = _Feed(start, start)
        feed.streams += 1
        left = _watch(client)
        frames = self._frames(
            user_id,
            feed,
            visible=visible,
            fetch=fetch,
            lifetime=lifetime,
            event=event,
            left=left,
            renew=lambda: self._lease(user_id, place),
        )
        return _Stream(frames, lambda: self._close(user_id, feed, place, left))

    def _lease(self, user_id: int, place: str) -> bool:
        try:
            return self.bus.lease(f"streams:{user_id}", place, self.per_account, 2 * KEEPALIVE)
        except Unavailable:
            return True  # unknown while the bus is away: serve (the worker's cap holds)

    def _frames(
        self,
        user_id: int,
        feed: _Feed,
        *,
        visible: Callable[[], Callable[[dict[str, Any]], bool]],
        fetch: Callable[[int], list[dict[str, Any]]],
        lifetime: float,
        event: str | None,
        left: Event,
        renew: Callable[[], object],
    ) -> Iterator[str]:
        end = time.monotonic() + lifetime
        last, shows = feed.cursor, visible()
        kind = f"event: {event}\n" if event else ""
        yield ": connected\n\n"
        while time.monotonic() < end:
            seen = self.notifier.version(user_id)
            rows = self._rows(user_id, feed, last, fetch)
            if rows:
                last = rows[-1][0]["id"]
            frames = [
                f"id: {row['id']}\n{kind}data: {text}\n\n" for row, text in rows if shows(row)
            ]
            if frames:  # one write for what one wake brought
                yield "".join(frames)
            if rows:
                continue
            moved = self.notifier.waiter(user_id, seen)
            gevent.wait([moved, left], timeout=KEEPALIVE, count=1)
            if left.is_set():
                return
            if not moved.is_set():
                yield ": keep-alive\n\n"
                shows = visible()
                renew()  # the place is the stream's while it lives

    def _rows(
        self,
        user_id: int,
        feed: _Feed,
        last: int,
        fetch: Callable[[int], list[dict[str, Any]]],
    ) -> list[tuple[dict[str, Any], str]]:
        """Rows after `last` with their JSON, oldest first: from the feed, read once per
        change for all the account's streams; a stream behind it reads for itself."""
        version = self.notifier.version(user_id)
        if feed.version != version:
            with feed.lock:  # the account's other streams wait for this one read
                if feed.version != version:
                    fresh = self.page(user_id, after=feed.cursor, limit=READ, oldest_first=True)
                    feed.version = version if len(fresh) < READ else -1  # more: read again
                    if fresh:
                        feed.cursor = fresh[-1]["id"]
                        feed.rows = feed.rows + [(row, json.dumps(row)) for row in fresh]
                        if len(feed.rows) > KEPT:
                            feed.floor = feed.rows[-KEPT - 1][0]["id"]
                            feed.rows = feed.rows[-KEPT:]
        if last < feed.floor:
            return [(row, json.dumps(row)) for row in fetch(last)]
        return [(row, text) for row, text in feed.rows if row["id"] > last][:READ]

    def _close(self, user_id: int, feed: _Feed, place: str, left: Event) -> None:
        left.set()  # the watcher ends with the stream
        feed.streams -= 1
        if feed.streams <= 0 and self._feeds.get(user_id) is feed:
            del self._feeds[user_id]
        self._unlease(user_id, place)

    def _unlease(self, user_id: int, place: str) -> None:
        with contextlib.suppress(Unavailable):  # away: the place frees itself in time
            self.bus.unlease(f"streams:{user_id}", place)


class _Stream:
    """A stream's frames, giving its place back exactly once: when they end, or when the
    server closes the response, started or not (a generator's `finally` would not run
    if it never started)."""

    def __init__(self, frames: Iterator[str], release: Callable[[], None]) -> None:
        self.frames, self._release = frames, release
        self._released = False

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> str:
        try:
            return next(self.frames)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self.frames.close()
        if not self._released:
            self._released = True
            self._release()


def _watch(client: socket.socket | None) -> Event:
    """An event set when the caller closes its connection: its socket turns readable (an
    SSE client sends nothing more). The stream sets it when it ends, which ends the
    watcher too."""
    left = Event()
    if client is None:
        return left

    def watch() -> None:
        with contextlib.suppress(OSError, ValueError):
            gevent.select.select([client], [], [])
        left.set()

    watcher = gevent.spawn(watch)
    left.rawlink(lambda _: watcher.kill(block=False))
    return left


def everything(row: dict[str, Any]) -> bool:
    """A stream that shows all of its account's rows (the owner's console)."""
    return True
