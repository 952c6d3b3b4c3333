"""Live streams wake on new history and never poll while nothing happens."""

import gevent

from bridge.http import live


def test_a_stream_reads_only_when_its_user_has_something_new(monkeypatch):
    monkeypatch.setattr(live, "KEEPALIVE", 0.2)
    notifier = live.Notifier()
    rows: list[dict] = []
    fetches = []

    def fetch(after: int) -> list[dict]:
        fetches.append(after)
        return [r for r in rows if r["id"] > after]

    frames = live.stream(7, notifier, fetch, 0, lifetime=5)
    assert next(frames) == ": connected\n\n"
    reader = gevent.spawn(lambda: [next(frames) for _ in range(3)])
    gevent.sleep(0.05)
    assert fetches == [0]  # one look, then asleep
    notifier.notify([8])  # another user's history: nobody wakes
    gevent.sleep(0.05)
    assert fetches == [0]
    rows.append({"id": 1, "kind": "event"})
    notifier.notify([7])
    got = reader.get(timeout=2)
    assert got[0].startswith("id: 1\n") and got[1] == ": keep-alive\n\n"
    assert len(fetches) <= 4  # woken once, then one look per keep-alive


def test_a_notification_between_look_and_wait_is_not_lost():
    notifier = live.Notifier()
    seen = notifier.version(7)
    notifier.notify([7])  # arrives after the stream looked, before it waits
    assert notifier.wait(7, seen, timeout=5) is True
