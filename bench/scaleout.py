"""Scale-out benchmark: one worker against two on the Redis bus, in one run.

    python bench/scaleout.py [--devices 400] [--seconds 8] [--rounds 2]

Measures Alexa directives per second through the webhook for
(a) one worker, in-process bus;
(b) two workers where every command is forwarded (the load's connections all
    on one worker, the devices all held by the other), and, as its baseline,
    the same two workers with every command local;
(c) two workers with devices and load spread as they fall;
and hello world at one and two workers. Starts its own redis-server.
Then (a) paced at a third of its rate (`--paced`) and (c) at twice that: each
worker as loaded as the one of (a), with the machine not yet full. What a
directive costs the workers there gives what two workers with a core each
would carry (here the load driver, the fleet and Redis share the two cores,
so the rates at full load show the machine's limit as much as the bridge's).
Prints figures and ratios, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.roundtrip import (
    _best,
    alexa_directives,
    fleet,
    free_port,
    gunicorn,
    hello_run,
    load,
    setup,
)


def start_redis(tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp)],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


def holders(url: str, prefix: str, ids: list[str]) -> dict[str, list[str]]:
    """Devices by the worker holding them."""
    client = redis.Redis.from_url(url, decode_responses=True)
    found: dict[str, list[str]] = {}
    for device_id, worker in zip(ids, client.mget([f"{prefix}:dev:{d}" for d in ids]), strict=True):
        if worker:
            found.setdefault(worker, []).append(device_id)
    return found


def measure(args, tmp, url, master, token: str, devices: list[str], *extra: str) -> dict:
    """The median of `rounds` runs of directives for these devices (extra: driver options)."""
    runs = [
        load(
            url + "/voice/alexa",
            alexa_directives(token, devices),
            args,
            tmp,
            master,
            "--alexa",
            *extra,
        )
        for _ in range(args.rounds)
    ]
    return _best(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--paced", type=float, default=0, help="0: a third of (a)'s rate")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        redis_proc, redis_url = start_redis(tmp)
        try:
            for case, workers in (("one", 1), ("two", 2)):
                (tmp / case).mkdir()
                env, app_key, secret, tokens, ids = setup(tmp / case, args.devices)
                env["BRIDGE_ADAPTERS"] = "alexa"
                if workers == 2:
                    prefix = "bench"
                    env.update(
                        BRIDGE_WORKERS="2", BRIDGE_REDIS_URL=redis_url, BRIDGE_REDIS_PREFIX=prefix
                    )
                hello_env = {**env, "BRIDGE_DATABASE": str(tmp / case / "hello.db")}
                with gunicorn("bench.hello:app", hello_env) as (hello_url, hello_master):
                    hellos = [
                        hello_run(hello_url, ids, args, tmp, hello_master)
                        for _ in range(args.rounds)
                    ]
                    results[f"hello_{case}"] = _best(hellos)
                with (
                    gunicorn("app:app", env) as (url, master),
                    fleet(url, app_key, secret, ids, tmp),
                ):
                    token = tokens["alexa"]
                    if workers == 1:
                        results["one"] = measure(args, tmp, url, master, token, ids)
                        paced = args.paced or round(results["one"]["rate"] / 3)
                        results["one_paced"] = measure(
                            args, tmp, url, master, token, ids, "--rate", str(paced)
                        )
                        continue
                    held = holders(redis_url, prefix, ids)
                    (a, on_a), (b, _) = sorted(held.items(), key=lambda kv: -len(kv[1]))[:2]
                    results["forwarded"] = measure(
                        args, tmp, url, master, token, on_a, "--worker", b
                    )
                    results["local_of_two"] = measure(
                        args, tmp, url, master, token, on_a, "--worker", a
                    )
                    results["spread"] = measure(args, tmp, url, master, token, ids)
                    results["spread_paced"] = measure(
                        args, tmp, url, master, token, ids, "--rate", str(2 * paced)
                    )
                    results["spread_devices"] = {w: len(d) for w, d in held.items()}
        finally:
            redis_proc.terminate()
            redis_proc.wait(10)
    one, hello1, hello2 = results["one"], results["hello_one"], results["hello_two"]
    print(f"devices {args.devices}, concurrency {args.concurrency}, Alexa directives")
    for label, key in (
        ("(a) one worker, in-process", "one"),
        ("(b) two workers, all forwarded", "forwarded"),
        ("    two workers, all local", "local_of_two"),
        ("(c) two workers, spread", "spread"),
        ("hello world, one worker", "hello_one"),
        ("hello world, two workers", "hello_two"),
        ("(a) paced", "one_paced"),
        ("(c) paced at twice (a)'s rate", "spread_paced"),
    ):
        r = results[key]
        print(
            f"  {label:32} {r['rate']:>8} /s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  "
            f"errors {r['errors']}  worker CPU {r['worker_cpu_us']} us/request  "
            f"driver CPU {r['driver_cpu_us']} us/request  machine busy {r['machine_busy']:.0%}"
        )
    print(
        f"  forwarded / in-process (one worker): {results['forwarded']['rate'] / one['rate']:.0%};"
        f" two workers spread / one worker: {results['spread']['rate'] / one['rate']:.2f}x;"
        f" hello world two / one: {hello2['rate'] / hello1['rate']:.2f}x"
    )
    print(f"  devices per worker (spread): {results['spread_devices']}")
    a, c = results["one_paced"], results["spread_paced"]
    print(
        "  two workers with a core each, from the CPU per directive at the same load per"
        f" worker (paced): {2 * a['worker_cpu_us'] / c['worker_cpu_us']:.2f}x one worker"
    )
    print(json.dumps(results))
    requests.Session().close()


if __name__ == "__main__":
    main()
