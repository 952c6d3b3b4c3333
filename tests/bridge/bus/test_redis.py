"""The Redis bus against a real redis-server: the facts two workers must share.

These calls are synchronous, so they run here without gevent's patching;
calls between workers and notices are tested end to end on two gunicorn
workers (tests/scaled).
"""

import time
import uuid

import pytest
import redis

from bridge.bus.redis import RedisBus
from bridge.devices.limits import EventLimiter
from bridge.runtime.budgets import Budgets


@pytest.fixture
def pair(redis_server):
    """Two workers of one bridge (their own prefix in the shared Redis)."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(redis_server.url)
    lost: dict[str, list[str]] = {"a": [], "b": []}
    buses = []
    for name in ("a", "b"):
        bus = RedisBus(redis_server.url, name, prefix=prefix, hold_ttl=0.3, client=client)
        bus.on_lost(lost[name].append)
        buses.append(bus)
    buses[0].lost, buses[1].lost = lost["a"], lost["b"]
    return buses


def test_a_replay_seen_by_one_worker_is_refused_by_the_other(pair):
    a, b = pair
    assert a.first_use("sinric:dev:token-1", ttl=5)
    assert not b.first_use("sinric:dev:token-1", ttl=5)
    assert b.first_use("sinric:dev:token-2", ttl=5)


def test_n_workers_allow_one_burst_not_n(pair):
    a, b = pair
    buckets = [Budgets(bus).budget("api requests", 0.01, 4, shared=True) for bus in (a, b)]
    waits = [buckets[i % 2].take("key-1") for i in range(8)]
    assert waits[:4] == [0.0] * 4
    assert all(w > 0 for w in waits[4:])


def test_event_spacing_is_shared_and_forgotten_with_the_device(pair):
    a, b = pair
    limiters = EventLimiter(a, 5, 60), EventLimiter(b, 5, 60)
    assert limiters[0].allow("dev", "power", sensor=False)
    assert not limiters[1].allow("dev", "power", sensor=False)
    assert limiters[1].allow("dev", "brightness", sensor=False)
    limiters[1].forget("dev")
    assert limiters[0].allow("dev", "power", sensor=False)


def registered(bus, device_id):
    """What Redis says (the workers' own copies are refreshed by notices, not running here)."""
    found = bus.redis.get(f"{bus.prefix}:dev:{device_id}")
    return found.decode() if found else None


def test_the_newest_holder_wins_and_the_old_one_cannot_release_it(pair):
    a, b = pair
    a.hold(["d1", "d2"])
    assert a.holder("d1") == "a" == registered(a, "d1")
    b.hold(["d1"])
    assert registered(a, "d1") == "b"
    assert a.release(["d1", "d2"]) == ["d2"]  # d1 is b's now: not a's to remove
    assert registered(b, "d1") == "b" and b.holder("d1") == "b"
    assert registered(b, "d2") is None


def test_a_workers_copy_of_the_holders_follows_the_notices_and_a_late_release(pair):
    _, b = pair
    assert b.holder("d1") is None
    b._placed_here("a", "a", ["d1"])  # a's notice: it took d1
    assert b.holder("d1") == "a"
    b._placed_here("c", "c", ["d1"])  # c took it over; a's release arrives late:
    b._placed_here(None, "a", ["d1"])
    assert b.holder("d1") == "c"
    b.mistaken("d1")
    assert b.holder("d1") is None  # asked Redis again


def test_a_remembered_nobody_is_never_trusted(pair):
    """b heard that d1 was let go, then missed a's notice that it took it: b asks Redis."""
    a, b = pair
    b._placed_here(None, "c", ["d1"])
    a.hold(["d1"])  # b's listener is not running here: the notice does not reach it
    assert b.holder("d1") == "a"


def test_renewal_keeps_a_holding_and_reports_what_was_taken(pair):
    a, b = pair
    a.hold(["d1", "d2"])
    b.redis.set(f"{b.prefix}:dev:d2", "b")  # taken over behind a's back
    key = f"{a.prefix}:dev:d1"
    a.redis.pexpire(key, 50)  # about to expire
    a.renew()
    assert a.lost == ["d2"]
    assert a.redis.pttl(key) > 200  # extended to the full time to live (300 ms) again
    a.renew()
    assert a.lost == ["d2"]  # lost once, not at every renewal


def test_a_dead_workers_registrations_expire(pair):
    a, b = pair
    a.hold(["d1"])
    time.sleep(0.5)  # a never renews: it died (the time to live is 0.3 s here)
    assert b.holder("d1") is None


def test_a_call_to_a_worker_nobody_listens_for_is_unreachable_and_clears_it(pair):
    from bridge.bus import Unreachable

    a, b = pair
    b.hold(["d1"])  # b registered d1, but b's listener never started: b is gone
    with pytest.raises(Unreachable):
        a.call("b", {"op": "request", "device": "d1"}, 1.0)
    assert registered(a, "d1") is None and a.holder("d1") is None


def test_an_adapters_facts_are_shared_scoped_and_taken_once(pair):
    from bridge.bus.facts import Facts

    a, b = pair
    Facts(a, "genie").put("pending:d1:setPowerState", {"messageId": "m1"}, ttl=5)
    assert Facts(b, "other").get("pending:d1:setPowerState") is None  # scoped by adapter
    assert Facts(b, "genie").pop("pending:d1:setPowerState") == {"messageId": "m1"}
    assert Facts(a, "genie").pop("pending:d1:setPowerState") is None


def test_one_worker_leads_a_role_until_it_stops_renewing(pair):
    a, b = pair
    assert a.lead("transport:mqtt")
    assert not b.lead("transport:mqtt")
    assert a.lead("transport:mqtt")  # renewed
    assert b.leader("transport:mqtt") == "a"
    time.sleep(0.5)  # a stopped renewing (time to live 0.3 s)
    assert b.lead("transport:mqtt")
    assert a.leader("transport:mqtt") == "b"


def test_a_lease_is_one_set_of_places_for_every_worker_and_frees_itself(pair):
    a, b = pair
    assert a.lease("streams:1", "s1", limit=2, ttl=0.3)
    assert b.lease("streams:1", "s2", limit=2, ttl=0.3)
    assert not a.lease("streams:1", "s3", limit=2, ttl=0.3)
    assert not b.lease("streams:1", "s3", limit=2, ttl=0.3)
    assert a.lease("streams:1", "s1", limit=2, ttl=5)  # renewed, for longer
    b.unlease("streams:1", "s2")
    assert a.lease("streams:1", "s3", limit=2, ttl=0.3)
    time.sleep(0.4)  # s3's worker stopped renewing: its place frees itself, s1's holds
    assert b.lease("streams:1", "s4", limit=2, ttl=0.3)
    assert not b.lease("streams:1", "s5", limit=2, ttl=0.3)
