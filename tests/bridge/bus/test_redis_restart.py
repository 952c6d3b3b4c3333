"""Redis restarted without its data (as `Procfile.scaled` runs it): what the workers
knew must come back, and what Redis forgot must not let a replay through."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from servers import RedisServer

from bridge.bus.local import LocalBus
from bridge.bus.redis import RedisBus
from bridge.model import Unavailable


@pytest.fixture
def restartable(tmp_path) -> Iterator[RedisServer]:
    """A Redis of this test's own: it is stopped and started again."""
    server = RedisServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def workers(restartable) -> tuple[RedisBus, RedisBus]:
    prefix = f"r{uuid.uuid4().hex[:8]}"
    made = []
    for name in ("a", "b"):
        client = redis.Redis.from_url(restartable.url, socket_timeout=2)
        made.append(RedisBus(restartable.url, name, prefix=prefix, hold_ttl=3, client=client))
    return made[0], made[1]


def restart(server: RedisServer) -> None:
    server.stop()
    server.start()


def again(call):
    """A call after the restart: the first use of a pooled connection may find it closed."""
    try:
        return call()
    except Unavailable:
        return call()


def test_a_worker_takes_its_devices_back_and_says_so_after_redis_forgot_them(restartable, workers):
    a, b = workers
    a.hold(["d1", "d2"])
    restart(restartable)
    assert again(lambda: b.redis.get(f"{b.prefix}:dev:d1")) is None  # forgotten
    announced = b.redis.pubsub(ignore_subscribe_messages=True)
    announced.subscribe(f"{a.prefix}:placed")
    again(a.renew)
    assert b.holder("d1") == b.holder("d2") == "a"
    notice, deadline = None, time.monotonic() + 5
    while notice is None and time.monotonic() < deadline:
        notice = announced.get_message(timeout=0.5)  # the subscription's own reply is skipped
    announced.close()
    assert notice is not None and b"d1" in notice["data"] and b'"w":"a"' in notice["data"]


def test_the_replay_guard_refuses_what_it_may_have_forgotten_and_takes_what_is_new(
    restartable, workers
):
    a, b = workers
    a.redis.set(f"{a.prefix}:began:guard", f"{time.time() - 300:.6f}")  # Redis ran for long
    seen_at = int(time.time()) - 3  # stamped a little before Redis forgot it
    assert a.first_use("sinric:d1:token-1", ttl=120, stamped=seen_at)
    assert not b.first_use("sinric:d1:token-1", ttl=120, stamped=seen_at)
    restart(restartable)
    # The same message again: Redis no longer knows it, the guard still refuses it.
    assert not again(lambda: b.first_use("sinric:d1:token-1", ttl=120, stamped=seen_at))
    # A message the device makes after the restart is stamped later: it passes, once.
    later = int(time.time())
    assert a.first_use("sinric:d1:token-2", ttl=120, stamped=later)
    assert not b.first_use("sinric:d1:token-2", ttl=120, stamped=later)
    # A claim without a stamp (a platform's pacing) is not held back.
    assert a.first_use("facts:genie:claim:x", ttl=120)


def test_the_replay_guard_remembers_the_start_of_its_memory_once_it_is_older_than_a_window(
    restartable, workers
):
    a, _ = workers
    a.redis.set(f"{a.prefix}:began:guard", f"{time.time() - 200:.6f}")
    assert a.first_use("sinric:d1:old", ttl=120, stamped=time.time() - 100)


def test_the_in_process_guard_begins_with_the_process():
    bus = LocalBus("w")
    bus.began = time.time()
    before = bus.began - 3
    assert not bus.first_use("k", ttl=60, stamped=before)  # may have been seen: refused
    behind = int(bus.began) - 1  # a device clock a second behind, set from ours
    assert bus.first_use("k", ttl=60, stamped=behind)
    assert not bus.first_use("k", ttl=60, stamped=behind)
    bus.began -= 61
    assert bus.first_use("k2", ttl=60, stamped=before)  # the window has passed


def test_a_message_held_while_redis_was_away_passes_when_it_returns_empty(restartable, workers):
    a, _ = workers
    a.redis.set(f"{a.prefix}:began:guard", f"{time.time() - 300:.6f}")
    assert a.first_use("sinric:d1:before", ttl=120, stamped=time.time())
    restartable.stop()
    with pytest.raises(Unavailable):  # the device's message waits (the endpoint holds it)
        a.first_use("sinric:d1:held", ttl=120, stamped=time.time())
    held = time.time()
    restartable.start()
    assert again(lambda: a.first_use("sinric:d1:held", ttl=120, stamped=held))
    # What the old memory may have seen (stamped before the outage) is still refused.
    assert not a.first_use("sinric:d1:before", ttl=120, stamped=held - 3)
