"""The Redis bus: several workers (or hosts) of one bridge, coordinated by Redis.

Placement is openHAB Cloud's registry: `<prefix>:dev:<id>` names the worker
holding the device, with an expiry renewed while the worker lives, and
renewal and removal only by the holder (a Lua check-and-act). A worker that
dies stops renewing: its devices are free within `hold_ttl`.

Calls and notices ride pub/sub, which is at most once: right for a request
with a deadline (a lost message is a timeout, as silence from a device is),
wrong for anything durable (reports go through the store's outbox).
Each worker listens on its own channel `<prefix>:w:<worker>` and on the
topics `<prefix>:t:*`.

Times inside scripts come from Redis's own clock, so hosts whose clocks
disagree still share one limit.

Each worker keeps who holds which device in memory for `PLACED_TTL`,
refreshed by the notices every worker publishes on `<prefix>:placed` when
it takes or lets go of devices: a command for a device on another worker
then costs no lookup. A stale entry costs a second lookup: the worker named
answers that it does not hold it, and the asker asks Redis before it says offline.
"""

from __future__ import annotations

import functools
import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

import gevent
import orjson
import redis
from gevent.event import AsyncResult, Event

from bridge.bus import Bus, Handler, Listener, Message, Unreachable, forgotten
from bridge.model import Unavailable
from bridge.runtime.service import Service

log = logging.getLogger(__name__)
T = TypeVar("T")

_RENEW = """
local lost, back = {}, {}
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
  elseif holder then
    table.insert(lost, i)
  else
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
    table.insert(back, i)
  end
end
return {lost, back}
"""

_RELEASE = """
local released = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    table.insert(released, i)
  end
end
return released
"""

_FIRST_USE = """
local t = redis.call('TIME')
local now = string.format('%d.%06d', t[1], t[2])
local began = redis.call('GET', KEYS[2])
if not began then
  began = now
  redis.call('SET', KEYS[2], began)
end
local first = redis.call('SET', KEYS[1], 1, 'NX', 'PX', ARGV[1]) and 1 or 0
return {first, began, now}
"""

_DROP_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_LEAD = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

_SPACED = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local last = redis.call('HGET', KEYS[1], ARGV[1])
local interval = tonumber(ARGV[2])
if last and now - tonumber(last) < interval then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], now)
if redis.call('PTTL', KEYS[1]) < interval then redis.call('PEXPIRE', KEYS[1], interval) end
return 1
"""

_TAKE = """
local t = redis.call('TIME')
local now = t[1] + t[2] / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


_LEASE = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local limit, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= limit then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
redis.call('PEXPIRE', KEYS[1], math.max(1, tonumber(last) - now))
return 1
"""


MAX_PLACED = 500_000
"""Holders remembered at most (then the memory starts over)."""
PLACED_TTL = 10.0
"""Seconds a worker trusts its copy of a device's holder without asking Redis."""
POOL_SIZE = 50
"""Redis connections per worker (one more listens for pub/sub)."""


class Publisher:
    """Publishes from many greenlets, sent together: one write for all that wait.

    A command forwarded to another worker is two publishes (the call, the
    answer); each alone costs a round trip and the client's per-command work.
    Under load, those waiting at one moment go out together, on a connection
    of the publisher's own, packed and read back with the client's connection
    API (a pipeline object per batch cost as much again, measured). A notice
    need not wait for its count (`wait=False`): its sender goes on at once.
    Until `start`, each publish goes out on its own.
    """

    MAX_BATCH = 500

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._queue: list[tuple[str, bytes, AsyncResult | None]] = []
        self._wake = Event()
        self._greenlet: gevent.Greenlet | None = None

    def publish(self, channel: str, data: bytes, wait: bool = True) -> int:
        """Subscribers that received it (0: nobody listens on that channel; not waited
        for, 0 too)."""
        if self._greenlet is None:
            return int(self.client.publish(channel, data))
        done = AsyncResult() if wait else None
        self._queue.append((channel, data, done))
        self._wake.set()
        return int(done.get()) if done is not None else 0

    def start(self) -> None:
        if self._greenlet is None:
            self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=True, timeout=2)
            self._greenlet = None

    def _run(self) -> None:
        pool = self.client.connection_pool
        conn = None
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                while self._queue:
                    batch = self._queue[: self.MAX_BATCH]
                    del self._queue[: self.MAX_BATCH]
                    if conn is None:
                        try:  # Redis away at start: this batch fails, the next one tries again
                            conn = pool.get_connection()
                        except redis.RedisError as exc:
                            self._fail(batch, exc)
                            continue
                    self._send(conn, batch)
        finally:
            if conn is not None:
                conn.disconnect()  # stopped mid-batch, maybe: never hand back a half-read one
                pool.release(conn)

    @staticmethod
    def _fail(batch: list[tuple[str, bytes, AsyncResult | None]], exc: Exception) -> None:
        waiting = [done for _, _, done in batch if done is not None]
        if len(waiting) < len(batch):
            log.warning("%d bus notices were lost: %s", len(batch) - len(waiting), exc)
        for done in waiting:
            done.set_exception(exc)

    @staticmethod
    def _send(conn: Any, batch: list[tuple[str, bytes, AsyncResult | None]]) -> None:
        try:
            packed = conn.pack_commands([("PUBLISH", channel, data) for channel, data, _ in batch])
            conn.send_packed_command(packed)  # pings first after 30 s idle (a restarted Redis)
            results = [conn.read_response() for _ in batch]
        except redis.RedisError as exc:
            conn.disconnect()  # mid-batch: what it has read is unknown; the next send reconnects
            Publisher._fail(batch, exc)
            return
        for (_, _, done), received in zip(batch, results, strict=True):
            if done is not None:
                done.set(received)


def _reachable(method: Callable[..., T]) -> Callable[..., T]:
    """Redis away is the bus away: a core error every caller answers in its own terms
    (a platform's unreachable, a 503), never a 500 with a Redis trace."""

    @functools.wraps(method)
    def guarded(self: RedisBus, *args: Any, **kwargs: Any) -> T:
        try:
            found = method(self, *args, **kwargs)
        except redis.RedisError as exc:
            if self._away is None or self._reached:
                self._away, self._reached = time.time(), False  # an outage begins
            raise Unavailable(f"the bus is unreachable ({type(exc).__name__})") from exc
        self._reached = True
        return found

    return guarded


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisBus(Bus):
    def __init__(
        self,
        url: str,
        worker: str,
        prefix: str = "bridge",
        hold_ttl: float = 15.0,
        client: redis.Redis | None = None,
    ) -> None:
        super().__init__(worker)
        self.prefix = prefix
        self.hold_ttl = hold_ttl
        if client is None:
            # Greenlets wait their turn for a connection instead of failing at the pool's size.
            pool = redis.BlockingConnectionPool.from_url(
                url,
                max_connections=POOL_SIZE,
                timeout=5,
                socket_timeout=5,
                socket_connect_timeout=5,
                health_check_interval=30,
            )
            client = redis.Redis(connection_pool=pool)
        self.redis = client
        self.publisher = Publisher(self.redis)
        self._renew = self.redis.register_script(_RENEW)
        self._release = self.redis.register_script(_RELEASE)
        self._drop_if = self.redis.register_script(_DROP_IF)
        self._lead = self.redis.register_script(_LEAD)
        self._spaced = self.redis.register_script(_SPACED)
        self._take = self.redis.register_script(_TAKE)
        self._lease = self.redis.register_script(_LEASE)
        self._first_use = self.redis.register_script(_FIRST_USE)
        self._held: set[str] = set()
        self._roles: set[str] = set()
        self._away: float | None = None
        """When this worker last lost Redis (the start of its latest outage)."""
        self._reached = False
        self._began: bytes | None = None
        self._memory = 0.0
        """Since when the replay guard's memory is whole (its Redis's start, or earlier)."""
        self._calls: dict[str, AsyncResult] = {}
        self._call_ids = itertools.count()  # unique per worker: answers come to its channel
        self._handler: Handler | None = None
        self._listeners: dict[str, list[Listener]] = defaultdict(list)
        self._placed: dict[str, tuple[str | None, float]] = {}
        self._placed_channel = f"{prefix}:placed"

    @property
    def shared(self) -> bool:
        return True

    def _key(self, kind: str, name: str) -> str:
        """Every key and channel of this bridge: `<prefix>:<kind>:<name>`."""
        return f"{self.prefix}:{kind}:{name}"

    def _device_key(self, device_id: str) -> str:
        return self._key("dev", device_id)

    def _channel(self, worker: str) -> str:
        return self._key("w", worker)

    # Placement
    @_reachable
    def hold(self, device_ids: list[str]) -> None:
        if not device_ids:
            return
        self._held.update(device_ids)  # first: Redis away, the renewal registers them later
        pipe = self.redis.pipeline(transaction=False)
        for device_id in device_ids:
            pipe.set(self._device_key(device_id), self.worker, px=_ms(self.hold_ttl), get=True)
        previous = pipe.execute()
        self._announce(self.worker, device_ids)
        for device_id, before in zip(device_ids, previous, strict=True):
            if before is not None and before.decode() != self.worker:
                self._send(before.decode(), {"t": "lost", "device": device_id})

    @_reachable
    def release(self, device_ids: list[str]) -> list[str]:
        if not device_ids:
            return []
        self._held.difference_update(device_ids)
        keys = [self._device_key(d) for d in device_ids]
        released = [device_ids[i - 1] for i in self._release(keys=keys, args=[self.worker])]
        if released:
            self._announce(None, released)
        return released

    def _announce(self, worker: str | None, device_ids: list[str]) -> None:
        """Tell every worker (this one too) who holds these devices now."""
        self._placed_here(worker, self.worker, device_ids)
        notice = {"w": worker, "by": self.worker, "d": device_ids}
        self.publisher.publish(self._placed_channel, orjson.dumps(notice))

    def _placed_here(self, worker: str | None, by: str, device_ids: list[str]) -> None:
        if len(self._placed) > MAX_PLACED:
            self._placed.clear()
        until = time.monotonic() + PLACED_TTL
        for device_id in device_ids:
            if worker is None:
                known = self._placed.get(device_id)
                if known is not None and known[0] not in (by, None):
                    continue  # released by a worker that no longer held it: a late notice
            self._placed[device_id] = (worker, until)

    def holder(self, device_id: str) -> str | None:
        """A remembered holder is trusted for `PLACED_TTL`; "nobody" never is: a worker that
        missed the notice of a device's arrival would answer offline for it."""
        known = self._placed.get(device_id)
        if known is not None and known[0] is not None and known[1] > time.monotonic():
            return known[0]
        try:
            found = self.redis.get(self._device_key(device_id))
        except redis.RedisError:
            log.warning("Redis is unreachable: devices on other workers look offline")
            return None
        worker = found.decode() if found is not None else None
        self._placed[device_id] = (worker, time.monotonic() + PLACED_TTL)
        return worker

    def mistaken(self, device_id: str) -> None:
        """The worker named for a device did not hold it: ask Redis next time."""
        self._placed.pop(device_id, None)

    def lead(self, role: str) -> bool:
        key = self._key("lead", role)
        try:
            leading = bool(self._lead(keys=[key], args=[self.worker, _ms(self.hold_ttl)]))
        except redis.RedisError:
            log.warning("Redis is unreachable: %s is not led by this worker", role)
            leading = False
        (self._roles.add if leading else self._roles.discard)(role)
        return leading

    def leader(self, role: str) -> str | None:
        try:
            found = self.redis.get(self._key("lead", role))
        except redis.RedisError:
            return None
        return found.decode() if found is not None else None

    def alive(self, worker: str) -> bool:
        try:
            return bool(self.redis.exists(self._key("alive", worker)))
        except redis.RedisError:
            return True  # unknown: never take work from a worker that may be running

    def renew(self) -> None:
        """Say this worker lives; extend what it holds; forget what another worker took.

        A registration that is gone (Redis restarted without its data, or this
        worker was away past the hold time) is taken back and announced: the
        socket is still here, and other workers must not believe it offline.
        """
        self.redis.set(self._key("alive", self.worker), 1, px=_ms(self.hold_ttl))
        held = sorted(self._held)
        for start in range(0, len(held), 500):
            chunk = held[start : start + 500]
            keys = [self._device_key(d) for d in chunk]
            lost, back = self._renew(keys=keys, args=[self.worker, _ms(self.hold_ttl)])
            for i in lost:
                self._lose(chunk[i - 1])
            if back:
                self._announce(self.worker, [chunk[i - 1] for i in back])

    def _lose(self, device_id: str) -> None:
        if device_id in self._held:
            self._held.discard(device_id)
            self._was_lost(device_id)

    # Calls
    @_reachable
    def call(self, worker: str, message: Message, timeout: float) -> Message:
        call_id = str(next(self._call_ids))
        result = AsyncResult()
        self._calls[call_id] = result
        try:
            envelope = {"t": "call", "id": call_id, "from": self.worker, "body": message}
            if not self._send(worker, envelope):
                self._forget_worker(worker, message)
                raise Unreachable(worker)
            try:
                return result.get(timeout=timeout)
            except gevent.Timeout:
                raise TimeoutError(f"worker {worker} did not answer in {timeout:.1f} s") from None
        finally:
            del self._calls[call_id]

    def _forget_worker(self, worker: str, message: Message) -> None:
        """Nobody listens for that worker: its registration of the device is stale."""
        device_id = message.get("device")
        if isinstance(device_id, str):
            self.mistaken(device_id)
            self._drop_if(keys=[self._device_key(device_id)], args=[worker])

    def serve(self, handler: Handler) -> None:
        self._handler = handler

    def _send(self, worker: str, envelope: Message) -> bool:
        return bool(self.publisher.publish(self._channel(worker), orjson.dumps(envelope)))

    def _answer(self, envelope: Message) -> None:
        handler = self._handler
        try:
            if handler is None:
                raise RuntimeError("this worker serves no calls")
            body = handler(envelope["body"])
        except Exception:
            log.exception("a call from another worker failed")
            body = {"error": "internal"}
        self._send(envelope["from"], {"t": "answer", "id": envelope["id"], "body": body})

    # Shared facts
    @_reachable
    def first_use(self, key: str, ttl: float, stamped: float | None = None) -> bool:
        """`<prefix>:began` is set with the first key after Redis started empty: the
        guard's memory begins there (Redis's own clock)."""
        keys = [self._key("once", key), self._key("began", "guard")]
        first, began, now = self._first_use(keys=keys, args=[_ms(ttl)])
        if began != self._began:
            # Redis forgot: what it knew ended when this worker lost it, if it saw that.
            lost = self._away if self._began is not None and self._away is not None else None
            self._began, self._memory = began, min(float(began), lost or float(began))
        if stamped is not None and forgotten(stamped, self._memory, float(now), ttl):
            return False
        return bool(first)

    @_reachable
    def spaced(self, scope: str, key: str, interval: float) -> bool:
        return bool(self._spaced(keys=[self._key("sp", scope)], args=[key, _ms(interval)]))

    @_reachable
    def forget(self, scope: str) -> None:
        self.redis.delete(self._key("sp", scope))

    @_reachable
    def take(self, key: str, rate: float, burst: int) -> float:
        return float(self._take(keys=[self._key("tb", key)], args=[rate, burst]))

    @_reachable
    def lease(self, scope: str, member: str, limit: int, ttl: float) -> bool:
        return bool(self._lease(keys=[self._key("ls", scope)], args=[member, limit, _ms(ttl)]))

    @_reachable
    def unlease(self, scope: str, member: str) -> None:
        self.redis.zrem(self._key("ls", scope), member)

    @_reachable
    def put(self, key: str, value: Any, ttl: float) -> None:
        self.redis.set(self._key("v", key), orjson.dumps(value), px=_ms(ttl))

    @_reachable
    def get(self, key: str) -> Any:
        found = self.redis.get(self._key("v", key))
        return orjson.loads(found) if found is not None else None

    @_reachable
    def pop(self, key: str) -> Any:
        found = self.redis.getdel(self._key("v", key))
        return orjson.loads(found) if found is not None else None

    # Notices
    def publish(self, topic: str, message: Message) -> None:
        self.publisher.publish(self._key("t", topic), orjson.dumps(message), wait=False)

    def subscribe(self, topic: str, listener: Listener) -> None:
        self._listeners[topic].append(listener)

    # Background
    def start(self) -> None:
        """Before the services: say this worker lives, and batch publishes from now on."""
        try:
            self.renew()
        except redis.RedisError:
            log.warning("Redis is not reachable yet; this worker keeps trying")
        self.publisher.start()

    def services(self) -> list[Service]:
        return [BusListener(self), HolderRenewal(self)]

    def stop(self) -> None:
        self.publisher.stop()
        try:
            self.release(sorted(self._held))
            roles = [self._key("lead", role) for role in self._roles]
            if roles:
                self._release(keys=roles, args=[self.worker])
            self.redis.delete(self._key("alive", self.worker))
        except redis.RedisError:
            log.warning("could not release this worker's devices; they expire on their own")

    def listen(self, connected: Callable[[], None]) -> None:
        """Listen until Redis goes away (then raise): this worker's channel, the
        placement notices and every topic."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self._channel(self.worker), self._placed_channel)
            pubsub.psubscribe(f"{self.prefix}:t:*")
            self._placed.clear()  # notices may have been missed while away
            connected()
            for raw in pubsub.listen():
                self._dispatch(raw)
        finally:
            pubsub.close()

    def _dispatch(self, raw: dict[str, Any]) -> None:
        try:
            data = orjson.loads(raw["data"])
        except (orjson.JSONDecodeError, TypeError):
            log.warning("ignored a bus message that is not JSON")
            return
        if raw["type"] == "pmessage":
            topic = raw["channel"].decode().rsplit(":t:", 1)[-1]
            for listener in self._listeners.get(topic, ()):
                gevent.spawn(self._notice, topic, listener, data)
            return
        if raw["channel"] == self._placed_channel.encode():
            devices = data.get("d")
            if isinstance(devices, list):
                self._placed_here(data.get("w"), str(data.get("by")), [str(d) for d in devices])
            return
        kind = data.get("t")
        if kind == "call":
            gevent.spawn(self._answer, data)
        elif kind == "answer":
            waiting = self._calls.get(data.get("id"))
            if waiting is not None and not waiting.ready():
                waiting.set(data.get("body") or {})
        elif kind == "lost":
            self._lose(str(data.get("device")))

    @staticmethod
    def _notice(topic: str, listener: Listener, data: Message) -> None:
        try:
            listener(data)
        except Unavailable as exc:  # the store or the bus away: the notice is lost, said so
            log.warning("a listener of %s could not act: %s", topic, exc)
        except Exception:
            log.exception("a listener of %s failed", topic)


class BusListener(Service):
    """This worker's subscription: calls, answers, placement notices and topics."""

    name = "bus"
    every = 0.1
    backoff_base = 0.1
    backoff_max = 5.0
    budget = 5.0
    settle = 10.0
    expected = (*Service.expected, redis.RedisError)

    def __init__(self, bus: RedisBus) -> None:
        super().__init__(bus)

    def run_once(self) -> None:
        self.bus.listen(self.up)
        raise redis.ConnectionError("the subscription ended")


class HolderRenewal(Service):
    """Say this worker lives; keep (or take back, after Redis lost them) its devices."""

    name = "bus holders"
    expected = (*Service.expected, redis.RedisError)

    def __init__(self, bus: RedisBus) -> None:
        super().__init__(bus)
        self.every = self.backoff_base = self.backoff_max = bus.hold_ttl / 3
        self.budget = bus.hold_ttl

    def run_once(self) -> None:
        self.bus.renew()
