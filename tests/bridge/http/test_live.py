"""Live streams: an account's streams wake together on new history, one of them reads for
all, none polls while nothing happens, and their number is capped."""

from __future__ import annotations

from collections.abc import Callable

import gevent
import pytest

from bridge.bus.local import LocalBus
from bridge.http import live
from bridge.model import Unavailable


class History:
    """The store's `messages.page` over a list: newest first, counted."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.reads = 0

    def add(self, user_id: int, device_id: str | None = None) -> None:
        self.rows.append({"id": len(self.rows) + 1, "user_id": user_id, "device_id": device_id})

    def page(
        self, user_id: int, *, after: int = 0, limit: int = 50, oldest_first: bool = False
    ) -> list[dict]:
        self.reads += 1
        mine = [r for r in self.rows if r["user_id"] == user_id and r["id"] > after]
        return mine[:limit] if oldest_first else list(reversed(mine))[:limit]


class AwayBus(LocalBus):
    """A shared bus whose Redis is down."""

    def lease(self, scope: str, member: str, limit: int, ttl: float) -> bool:
        raise Unavailable("the bus is away")

    def unlease(self, scope: str, member: str) -> None:
        raise Unavailable("the bus is away")


@pytest.fixture
def history() -> History:
    return History()


@pytest.fixture
def streams(history) -> live.Streams:
    return live.Streams(live.Notifier(), history.page, LocalBus("w"), per_account=3, per_worker=4)


def own_reads(after: int) -> list[dict]:
    raise AssertionError("a stream within the feed never reads for itself")


def everything() -> Callable:
    return live.everything


def frames_of(stream, count: int) -> gevent.Greenlet:
    return gevent.spawn(lambda: [next(stream) for _ in range(count)])


def ids_of(stream, count: int) -> gevent.Greenlet:
    """The ids of the next `count` rows a stream sends (a wake's rows come in one write)."""

    def read() -> list[int]:
        found: list[int] = []
        while len(found) < count:
            chunk = next(stream)
            found += [int(line[4:]) for line in chunk.split("\n") if line.startswith("id: ")]
        return found

    return gevent.spawn(read)


def test_an_accounts_streams_wake_together_and_one_read_serves_them_all(
    streams, history, monkeypatch
):
    monkeypatch.setattr(live, "KEEPALIVE", 0.3)
    history.add(7)  # before the streams: not sent
    opened = [streams.open(7, everything, own_reads, lifetime=5) for _ in range(3)]
    assert all(next(s) == ": connected\n\n" for s in opened)
    readers = [ids_of(s, 2) for s in opened]
    gevent.sleep(0.05)
    reads = history.reads
    streams.notifier.notify([8])  # another account's history: nobody wakes
    gevent.sleep(0.05)
    assert history.reads == reads
    history.add(7, "d1")
    history.add(7, None)
    streams.notifier.notify([7])
    assert [r.get(timeout=2) for r in readers] == [[2, 3]] * 3
    assert history.reads == reads + 1  # one read for the three streams
    more = [frames_of(s, 1) for s in opened]
    assert all(r.get(timeout=2) == [": keep-alive\n\n"] for r in more)
    assert history.reads == reads + 1  # a keep-alive reads nothing


def test_a_stream_shows_only_its_scope(streams, history):
    def scoped() -> Callable:
        return lambda row: row["device_id"] in (None, "d1")

    stream = streams.open(7, scoped, own_reads, lifetime=5)
    next(stream)
    reader = ids_of(stream, 2)
    gevent.sleep(0.01)
    for device in ("d2", "d1", None, "d2"):
        history.add(7, device)
    streams.notifier.notify([7])
    assert reader.get(timeout=2) == [2, 3]


def test_a_stream_the_feed_left_behind_reads_for_itself(streams, history, monkeypatch):
    monkeypatch.setattr(live, "KEPT", 2)
    monkeypatch.setattr(live, "READ", 2)
    slow_reads: list[int] = []

    def fetch(after: int) -> list[dict]:
        slow_reads.append(after)
        return history.page(7, after=after, limit=2, oldest_first=True)

    fast = streams.open(7, everything, own_reads, lifetime=5)
    slow = streams.open(7, everything, fetch, lifetime=5)
    next(fast), next(slow)
    for _ in range(6):
        history.add(7)
    streams.notifier.notify([7])
    assert ids_of(fast, 6).get(timeout=2) == [1, 2, 3, 4, 5, 6]  # the feed keeps 2 of them
    assert ids_of(slow, 6).get(timeout=2) == [1, 2, 3, 4, 5, 6]
    assert slow_reads and slow_reads[0] == 0  # behind the feed: it read what it missed


def test_streams_are_capped_per_account_and_per_worker_and_given_back_at_their_end(streams):
    held = [streams.open(7, everything, own_reads, lifetime=5) for _ in range(3)]
    assert all(held)
    assert streams.open(7, everything, own_reads, lifetime=5) is None  # the account's most
    other = streams.open(8, everything, own_reads, lifetime=5)
    assert other is not None
    assert streams.open(9, everything, own_reads, lifetime=5) is None  # the worker's most
    next(held[0])
    held[0].close()  # the client went away: its place is given back
    assert streams.open(9, everything, own_reads, lifetime=5) is not None
    held[1].close()  # closed before its first frame (the server never wrote it): the same
    held[1].close()  # and once only
    assert streams.open(7, everything, own_reads, lifetime=5) is not None
    assert streams.open(7, everything, own_reads, lifetime=5) is None


def test_a_stream_ends_as_soon_as_its_caller_leaves(streams):
    import gevent.socket

    server, caller = gevent.socket.socketpair()
    held = [streams.open(7, everything, own_reads, lifetime=60, client=server)]
    held += [streams.open(7, everything, own_reads, lifetime=60) for _ in range(2)]
    assert next(held[0]) == ": connected\n\n"
    reader = gevent.spawn(lambda: list(held[0]))  # waits for history, for a minute
    gevent.sleep(0.05)
    assert streams.open(7, everything, own_reads, lifetime=5) is None
    caller.close()
    assert reader.get(timeout=2) == []  # it ended without a keep-alive
    assert streams.open(7, everything, own_reads, lifetime=5) is not None
    server.close()


def test_a_stream_is_served_while_the_bus_is_away(history):
    streams = live.Streams(live.Notifier(), history.page, AwayBus("w"), per_account=1)
    first = streams.open(7, everything, own_reads, lifetime=5)
    second = streams.open(7, everything, own_reads, lifetime=5)
    assert first is not None and second is not None
    next(first)
    first.close()  # nothing raises: the place frees itself when its lease ends


def test_a_notification_between_look_and_wait_is_not_lost():
    notifier = live.Notifier()
    seen = notifier.version(7)
    notifier.notify([7])  # arrives after the stream looked, before it waits
    assert notifier.wait(7, seen, timeout=5) is True
