"""Fairness under load: what one noisy source does to everyone else.

    python bench/fairness.py [--scenario NAME] [--seconds 10] [--base REV] [--scaled]

Each scenario runs one bridge under gunicorn as `make run` serves it (one
worker, SQLite; with --scaled two workers on a Redis and a PostgreSQL it
starts), a paced load of victims (Alexa TurnOn/TurnOff to quiet
devices, 20 a second), and one noisy source in the middle third of the run.
It prints the victims' p50/p99 and failures before, during and after the
noise, the database's growth, the history rows written and the worker's CPU.
Prints figures, asserts nothing.

- `mqtt-flood`: one MQTT thing publishes shadow updates (QoS 0) as fast as
  it can; the victims are 40 other things on the same broker.
- `streams`: 400 open API event streams (20 accounts, 20 each, the most an
  account may hold) while a trickle of activity flows (10 refused commands a
  second through the API, each a history row, spread over the accounts); the
  victims are 40 socket devices of another account. Then one account with
  400 (the most it may hold is 20: the rest are refused). `--base REV` runs
  both against that commit's code as well (a worktree), in the same run.
- `refusals`: anyone on the internet sends Sigfox callbacks with a wrong
  secret and Alexa directives with a made-up token, 250 a second each.
- `budgets`: one linked account sends Alexa 200 directives a second (its
  budget is 20); the victims are another account's, at 10 a second.
- `storm`: 2,000 device sockets drop at once (their fleet killed) and come
  back all together while Alexa asks 40 other devices for their state
  (ReportState); "during" is until the last one is back.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.roundtrip import (  # noqa: E402
    PYTHON,
    SECRET_KEY,
    fleet,
    gunicorn,
    worker_cpu_seconds,
)
from bench.roundtrip import setup as roundtrip_setup  # noqa: E402
from bench.scaleout import start_redis  # noqa: E402
from bench.things import mosquitto, setup, thing_fleet  # noqa: E402
from bridge.store import Store  # noqa: E402
from bridge.store.secrets import Vault  # noqa: E402
from bridge.transports.mqtt import things  # noqa: E402
from bridge.transports.sigfox.tables import SigfoxStore  # noqa: E402

RATE = 20.0
"""Victim directives a second, in all."""


def directive(token: str, device: str, n: int, state: bool = False) -> dict:
    """A TurnOn/TurnOff, or with `state` a ReportState (answered from the shadow)."""
    return {
        "directive": {
            "header": {
                "namespace": "Alexa" if state else "Alexa.PowerController",
                "name": "ReportState" if state else random.choice(["TurnOn", "TurnOff"]),
                "payloadVersion": "3",
                "messageId": f"m-{n}",
                "correlationToken": f"c-{n}",
            },
            "endpoint": {
                "scope": {"type": "BearerToken", "token": token},
                "endpointId": device,
                "cookie": {},
            },
            "payload": {},
        }
    }


class Victims:
    """Paced directives on a few threads; each result kept with when it started."""

    def __init__(
        self, url: str, token: str, devices: list[str], state: bool = False, rate: float = RATE
    ) -> None:
        self.url, self.token, self.devices = url + "/voice/alexa", token, devices
        self.rate = rate
        self.state = state
        self.expect = "StateReport" if state else "Response"
        self.results: list[tuple[float, float, bool]] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(8)]

    def _run(self, index: int) -> None:
        session = requests.Session()
        n = index
        start = time.monotonic() + index / self.rate
        while not self.stopping.is_set():
            start += len(self.threads) / self.rate
            time.sleep(max(0.0, start - time.monotonic()))
            began = time.monotonic()
            body = directive(self.token, self.devices[n % len(self.devices)], n, self.state)
            try:
                reply = session.post(self.url, json=body, timeout=15)
                ok = reply.json()["event"]["header"]["name"] == self.expect
            except (requests.RequestException, ValueError, KeyError):
                ok = False
            self.results.append((began, time.monotonic() - began, ok))
            n += len(self.threads)

    def __enter__(self) -> Victims:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def phase(self, start: float, end: float) -> dict:
        taken = [(s, lat, ok) for s, lat, ok in self.results if start <= s < end]
        times = sorted(lat for _, lat, _ in taken)
        if not times:
            return {"requests": 0}
        return {
            "requests": len(taken),
            "failed": sum(1 for *_, ok in taken if not ok),
            "p50_ms": round(statistics.median(times) * 1000, 1),
            "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))] * 1000, 1),
        }


SCALED: dict = {}
"""With --scaled: the Redis URL and the PostgreSQL server every scenario's bridge uses."""


def fresh() -> None:
    """A new empty database for the next setup (on PostgreSQL; SQLite's is its folder's)."""
    if SCALED:
        os.environ["BENCH_DATABASE"] = SCALED["postgres"].database()


def served(env: dict[str, str]) -> dict[str, str]:
    """The bridge's settings, on two workers with Redis and PostgreSQL when --scaled."""
    if not SCALED:
        return env
    prefix = f"fair{random.randrange(10**9)}"
    return {
        **env,
        "BRIDGE_WORKERS": "2",
        "BRIDGE_REDIS_URL": SCALED["redis"],
        "BRIDGE_REDIS_PREFIX": prefix,
    }


def database(where: str) -> dict:
    """The database's size and its history rows (SQLite's files, or PostgreSQL's own count)."""
    if where.startswith("postgresql"):
        import psycopg

        with psycopg.connect(where) as db:
            size = db.execute("select pg_database_size(current_database())").fetchone()[0]
            rows = db.execute("select count(*) from messages").fetchone()[0]
        return {"bytes": size, "history_rows": rows}
    path = Path(where)
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with sqlite3.connect(path) as db:
        rows = db.execute("select count(*) from messages").fetchone()[0]
    return {"bytes": size, "history_rows": rows}


def flood(host: str, port: int, archive: str, seconds: float) -> None:
    """The noisy thing: shadow updates, QoS 0, as fast as paho sends them."""
    import paho.mqtt.client as mqtt

    from bridge.thing_client import unpack
    from bridge.transports.mqtt import topics

    with tempfile.TemporaryDirectory() as folder:
        creds = unpack(Path(archive), Path(folder))[0]
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=creds.thing)
        client.tls_set(ca_certs=str(creds.ca), certfile=str(creds.cert), keyfile=str(creds.key))
        client.connect(host, port, keepalive=60)
        client.loop_start()
        while not client.is_connected():
            time.sleep(0.01)
        topic, sent = topics.UPDATE.format(thing=creds.thing), 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for _ in range(100):
                state = "On" if sent % 2 else "Off"
                body = json.dumps({"state": {"reported": {"powerState": state}}})
                client.publish(topic, body, qos=0)
                sent += 1
            time.sleep(0)
        client.loop_stop()
        client.disconnect()
    print(json.dumps({"sent": sent}), flush=True)


def mqtt_flood(args: argparse.Namespace, tmp: Path) -> dict:
    fresh()
    s = setup(tmp, 0, 40)
    store = Store(s["env"]["BRIDGE_DATABASE"], Vault(SECRET_KEY))
    user, _ = store.users.by_app_key(s["app_key"])
    _, archive = things.batch(store, user, "switch", 1, "Noisy", "bench")
    store.close()
    noisy = tmp / "noisy.zip"
    noisy.write_bytes(archive)
    db = s["env"]["BRIDGE_DATABASE"]
    third = args.seconds
    with (
        mosquitto(s["conf"], s["port"]),
        gunicorn("app:app", served(s["env"])) as (url, master),
        thing_fleet(s["port"], s["archives"]),
    ):
        time.sleep(1)
        before_db, cpu = database(db), worker_cpu_seconds(master)
        with Victims(url, s["token"], s["things"]) as load:
            t0 = time.monotonic()
            time.sleep(third)
            t1 = time.monotonic()
            noise = [PYTHON, __file__, "flood", "127.0.0.1", str(s["port"]), str(noisy), str(third)]
            done = subprocess.run(noise, capture_output=True, text=True, check=True)
            t2 = time.monotonic()
            time.sleep(third)
            t3 = time.monotonic()
        spent = worker_cpu_seconds(master) - cpu
        after_db = database(db)
    return {
        "noise": json.loads(done.stdout.splitlines()[-1]),
        "before": load.phase(t0, t1),
        "during": load.phase(t1, t2),
        "after": load.phase(t2, t3),
        "database_growth_bytes": after_db["bytes"] - before_db["bytes"],
        "history_rows": after_db["history_rows"] - before_db["history_rows"],
        "worker_cpu_s": round(spent, 2),
        "seconds": round(t3 - t0, 1),
    }


def open_streams(url: str, tokens_file: str) -> None:
    """The streams' side: one aiohttp connection per token, read until told to stop."""
    import asyncio
    import signal

    import aiohttp

    tokens = Path(tokens_file).read_text().split()
    events = [0]

    async def one(session: aiohttp.ClientSession, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(url + "/api/v1/stream", headers=headers) as reply:
            if reply.status != 200:
                return
            async for line in reply.content:
                events[0] += line.startswith(b"data:")

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            tasks = [asyncio.create_task(one(session, t)) for t in tokens]
            await asyncio.sleep(3)
            opened = sum(1 for t in tasks if not t.done())
            print(f"ready {opened}", flush=True)
            await stop.wait()
            for task in tasks:
                task.cancel()
        print(json.dumps({"streams": opened, "events": events[0]}), flush=True)

    asyncio.run(main())


class Activity:
    """Refused commands through the API (the devices are offline), round robin over the
    accounts' keys: each a history row the streams of its account hear."""

    def __init__(self, url: str, keys: list[tuple[str, str]], rate: float) -> None:
        self.url, self.keys, self.rate = url + "/api/v1", keys, rate
        self.stopping = threading.Event()
        self.sent = 0
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        session = requests.Session()
        start = time.monotonic()
        while not self.stopping.is_set():
            token, device = self.keys[self.sent % len(self.keys)]
            start += 1 / self.rate
            time.sleep(max(0.0, start - time.monotonic()))
            session.post(
                f"{self.url}/devices/{device}/commands",
                json={"action": "setPowerState", "value": {"state": "On"}},
                headers={"Authorization": f"Bearer {token}"},
                timeout=15,
            )
            self.sent += 1

    def __enter__(self) -> Activity:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join()


def streams_setup(tmp: Path, accounts: int, keys_each: int) -> dict:
    """Victims of one account (40 sockets, Alexa) and `accounts` accounts, each with an
    offline device and `keys_each` API keys (a key may open 20 streams at once: its burst
    of requests)."""
    tmp.mkdir(parents=True, exist_ok=True)
    fresh()
    env, app_key, secret, tokens, ids = roundtrip_setup(tmp, 40)
    store = Store(env["BRIDGE_DATABASE"], Vault(SECRET_KEY))
    keys = []
    for n in range(accounts):
        user, _ = store.users.create(f"streamer{n}", "bench-password")
        device = store.devices.create(user.id, "switch", "Offline switch")
        for _ in range(keys_each):
            key, key_secret = store.keys.create(user.id, "inbound", ["switch"])
            keys.append((key.id, key_secret, device.id))
    store.close()
    env["BRIDGE_ADAPTERS"] = "alexa"
    return {
        "env": env,
        "app_key": app_key,
        "secret": secret,
        "token": tokens["alexa"],
        "ids": ids,
        "keys": keys,
    }


def streams_run(
    s: dict, tmp: Path, third: float, root: Path = ROOT, env: dict | None = None
) -> dict:
    """Victims and activity throughout; the streams open in the middle third."""
    with (
        gunicorn("app:app", served({**s["env"], **(env or {})}), root=root) as (url, master),
        fleet(url, s["app_key"], s["secret"], s["ids"], tmp),
    ):
        tokens = []
        for key_id, key_secret, device in s["keys"]:
            reply = requests.post(url + "/api/v1/token", auth=(key_id, key_secret), timeout=10)
            tokens.append((reply.json()["access_token"], device))
        tokens_file = tmp / "tokens.txt"
        tokens_file.write_text("\n".join(t for t, _ in tokens for _ in range(20)))
        marks: list[tuple[float, float]] = []

        def mark() -> None:
            marks.append((time.monotonic(), worker_cpu_seconds(master)))

        with Victims(url, s["token"], s["ids"]) as load, Activity(url, tokens, 10.0):
            time.sleep(2)  # warm
            mark()
            time.sleep(third)
            mark()
            command = [PYTHON, __file__, "streams", url, str(tokens_file)]
            with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as held:
                opened = int(held.stdout.readline().split()[1])
                mark()
                time.sleep(third)
                mark()
                held.terminate()
                heard = json.loads(held.stdout.read().splitlines()[-1])
            time.sleep(1)  # the server notices the streams are gone
            mark()
            time.sleep(third)
            mark()

    def phase(n: int) -> dict:
        (t0, c0), (t1, c1) = marks[n], marks[n + 1]
        return {**load.phase(t0, t1), "worker_cpu": round((c1 - c0) / (t1 - t0), 3)}

    return {
        "noise": {"streams": opened, "events": heard["events"]},
        "before": phase(0),
        "during": phase(2),
        "after": phase(4),
    }


def storm(args: argparse.Namespace, tmp: Path) -> dict:
    """2,000 device sockets drop and reconnect at once (their fleet killed, a new one
    connecting all together) while Alexa asks 40 other devices for their state."""
    fresh()
    env, app_key, secret, tokens, ids = roundtrip_setup(tmp, 2040)
    env["BRIDGE_ADAPTERS"] = "alexa"
    victims, stormers = ids[:40], ids[40:]
    ids_file = tmp / "storm.txt"
    ids_file.write_text("\n".join(stormers))
    marks: list[tuple[float, float]] = []
    with (
        gunicorn("app:app", served(env)) as (url, master),
        fleet(url, app_key, secret, victims, tmp),
    ):
        script = str(ROOT / "bench" / "devices.py")
        command = [PYTHON, script, "ws" + url[4:] + "/", app_key, secret, str(ids_file)]
        first = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        first.stdout.readline()  # all online

        def mark() -> None:
            marks.append((time.monotonic(), worker_cpu_seconds(master)))

        with Victims(url, tokens["alexa"], victims, state=True) as load:
            time.sleep(2)  # warm
            mark()
            time.sleep(args.seconds)
            first.kill()  # the network blinks: every socket drops
            first.wait()
            mark()
            storming = [*command, "--at-once", "2000"]
            with subprocess.Popen(storming, stdout=subprocess.PIPE, text=True) as second:
                _, online, took, refused = second.stdout.readline().split()
                mark()
                time.sleep(args.seconds)
                mark()
                second.terminate()
    return {
        "noise": {"back": int(online), "seconds": float(took), "refused": int(refused)},
        "before": load.phase(marks[0][0], marks[1][0]),
        "during": load.phase(marks[1][0], marks[2][0]),
        "after": load.phase(marks[2][0], marks[3][0]),
        "worker_cpu_storm_s": round(marks[2][1] - marks[1][1], 2),
    }


def noise(url: str, bodies: list[dict], rate: float, seconds: float, tmp: Path) -> subprocess.Popen:
    """A paced load of `bodies`: the load driver's process (its JSON says what it got)."""
    path = tmp / f"noise-{random.randrange(10**9)}.json"
    path.write_text(json.dumps(bodies))
    command = [PYTHON, str(ROOT / "bench" / "load.py"), url, str(path), "--any-body",
               "--concurrency", "20", "--rate", str(rate), "--seconds", str(seconds),
               "--warmup", "0"]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def quiet_then_noisy(
    args: argparse.Namespace, env: dict, victims: tuple, loud: list[tuple], tmp: Path
) -> dict:
    """Victims throughout, `loud` (url, bodies, rate) in the middle third; each phase's
    figures, the database's growth and the worker's CPU."""
    url_token, app_key, secret, devices, rate = victims
    marks: list[tuple[float, float]] = []
    with (
        gunicorn("app:app", served(env)) as (url, master),
        fleet(url, app_key, secret, devices, tmp),
    ):

        def mark() -> None:
            marks.append((time.monotonic(), worker_cpu_seconds(master)))

        before_db = database(env["BRIDGE_DATABASE"])
        with Victims(url, url_token, devices, rate=rate) as load:
            time.sleep(2)  # warm
            mark()
            time.sleep(args.seconds)
            mark()
            running = [noise(url + path, bodies, r, args.seconds, tmp) for path, bodies, r in loud]
            heard = [json.loads(proc.communicate()[0]) for proc in running]
            mark()
            time.sleep(args.seconds)
            mark()
        after_db = database(env["BRIDGE_DATABASE"])
    return {
        "noise": {"sent": sum(h["requests"] + h["errors"] for h in heard)},
        "before": load.phase(marks[0][0], marks[1][0]),
        "during": load.phase(marks[1][0], marks[2][0]),
        "after": load.phase(marks[2][0], marks[3][0]),
        "database_growth_bytes": after_db["bytes"] - before_db["bytes"],
        "history_rows": after_db["history_rows"] - before_db["history_rows"],
        "worker_cpu_s": round(marks[3][1] - marks[0][1], 2),
        "seconds": round(marks[3][0] - marks[0][0], 1),
    }


def refusals(args: argparse.Namespace, tmp: Path) -> dict:
    """Anyone on the internet: Sigfox callbacks with a wrong secret and Alexa directives
    with a made-up token, 250 a second each."""
    fresh()
    env, app_key, secret, tokens, ids = roundtrip_setup(tmp, 40)
    env["BRIDGE_ADAPTERS"] = "alexa"
    store = Store(env["BRIDGE_DATABASE"], Vault(SECRET_KEY))
    user, _ = store.users.create("sigfox", "bench-password")
    store.repository(SigfoxStore).create_type(
        "bench", "powerState::bool:0", "powerState::bool:0", "plug", None, "the-right-secret"
    )
    device = store.devices.create(user.id, "plug", "Plug", transport="sigfox")
    store.repository(SigfoxStore).add_device("0000BEEF", device.id, "bench")
    store.close()
    start = int(time.time())
    uplinks = [
        {"device": "0000BEEF", "time": start + n, "data": "01", "seqNumber": n % 4096}
        for n in range(5000)
    ]
    forged = [directive(f"forged-{n}", ids[0], n) for n in range(5000)]
    loud = [
        ("/device-clouds/sigfox/uplink?token=a-wrong-secret", uplinks, 250.0),
        ("/voice/alexa", forged, 250.0),
    ]
    return quiet_then_noisy(args, env, (tokens["alexa"], app_key, secret, ids, RATE), loud, tmp)


def budgets(args: argparse.Namespace, tmp: Path) -> dict:
    """One linked account sends Alexa 200 directives a second (its budget: 20); the
    victims are another account's, at 10 a second."""
    fresh()
    env, app_key, secret, tokens, ids = roundtrip_setup(tmp, 40)
    env.update(
        BRIDGE_ADAPTERS="alexa",
        BRIDGE_DIRECTIVE_RATE="20",
        BRIDGE_DIRECTIVE_BURST="40",
        BRIDGE_COMMAND_RATE="10",
        BRIDGE_COMMAND_BURST="20",
    )
    store = Store(env["BRIDGE_DATABASE"], Vault(SECRET_KEY))
    user, _ = store.users.create("loud", "bench-password")
    theirs = [store.devices.create(user.id, "switch", f"Loud {n}").id for n in range(10)]
    token = store.tokens.issue(user.id, "alexa", ttl=86400)
    store.close()
    loud = [("/voice/alexa", [directive(token, theirs[n % 10], n) for n in range(5000)], 200.0)]
    return quiet_then_noisy(args, env, (tokens["alexa"], app_key, secret, ids, 10.0), loud, tmp)


SHAPES = {"20 accounts x 20 streams": (20, 1), "1 account x 400 streams": (1, 20)}
"""The most every account may hold, and the issue's first measurement (one account)."""


def streams(args: argparse.Namespace, tmp: Path) -> dict:
    git = ["git", "-C", str(ROOT)]
    base = tmp / "base-tree"
    variants = [("current", ROOT, {})]
    if args.base:
        subprocess.run([*git, "worktree", "add", "-f", str(base), args.base], check=True)
        variants.append(("base", base, {}))
    # What the feed alone does for one account's many streams: the cap lifted.
    uncapped = ("current, no cap", ROOT, {"BRIDGE_STREAMS_PER_ACCOUNT": "1000"})
    result = {}
    try:
        for shape, (accounts, keys_each) in SHAPES.items():
            for code, tree, env in variants + ([uncapped] if accounts == 1 else []):
                made = streams_setup(tmp / f"{accounts}-{len(result)}", accounts, keys_each)
                result[f"{shape}, {code}"] = streams_run(made, tmp, args.seconds, tree, env)
    finally:
        if args.base:
            subprocess.run([*git, "worktree", "remove", "--force", str(base)], check=True)
    return result


SCENARIOS = {
    "mqtt-flood": mqtt_flood,
    "refusals": refusals,
    "streams": streams,
    "storm": storm,
    "budgets": budgets,
}


def main() -> None:
    if sys.argv[1:2] == ["flood"]:
        host, port, archive, seconds = sys.argv[2:6]
        flood(host, int(port), archive, float(seconds))
        return
    if sys.argv[1:2] == ["streams"]:
        open_streams(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    parser.add_argument("--seconds", type=float, default=10, help="each third of a run")
    parser.add_argument("--base", help="streams: also run against this commit's code")
    parser.add_argument(
        "--scaled", action="store_true", help="two workers, Redis and PostgreSQL (started here)"
    )
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as servers:
        if args.scaled:
            sys.path.insert(0, str(ROOT / "tests"))
            from postgres import PostgresServer

            redis, SCALED["redis"] = start_redis(Path(servers))
            SCALED["postgres"] = PostgresServer()
        try:
            for name in args.scenario or sorted(SCENARIOS):
                with tempfile.TemporaryDirectory() as folder:
                    results[name] = SCENARIOS[name](args, Path(folder))
                report(name, results[name])
        finally:
            if args.scaled:
                SCALED["postgres"].stop()
                redis.terminate()
    print(json.dumps(results))


def report(name: str, result: dict) -> None:
    """Print one scenario's figures."""
    runs = result if "noise" not in result else {"": result}
    for code, r in runs.items():
        print(f"{name} {code}: noise {r['noise']}")
        for phase in ("before", "during", "after"):
            p = r[phase]
            cpu = f"  worker CPU {p['worker_cpu']:.0%}" if "worker_cpu" in p else ""
            print(
                f"  {phase:6} {p.get('requests', 0):>4} directives  failed"
                f" {p.get('failed', 0):>4}  p50 {p.get('p50_ms')} ms  p99 {p.get('p99_ms')}"
                f" ms{cpu}"
            )
        if "database_growth_bytes" in r:
            print(
                f"  database +{r['database_growth_bytes'] / 1e6:.1f} MB, "
                f"{r['history_rows']} history rows, worker CPU {r['worker_cpu_s']} s "
                f"over {r['seconds']} s"
            )


if __name__ == "__main__":
    main()
