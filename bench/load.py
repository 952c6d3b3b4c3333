"""Drive concurrent POSTs at one URL for a while; print rate and latency as JSON.

python bench/load.py URL BODIES_FILE --concurrency C --seconds S [--alexa] [--worker ID]
    [--google] [--header 'Authorization: Bearer T']
    [--rate R]

A reply counts when it says it succeeded: `{"ok": true}`, or with --alexa an
`Alexa.Response`; with --alexa every 100th reply is kept and validated against
Amazon's schema after the timed run (the result says how many failed).
With --worker, every connection is one that the named bridge worker serves
(each client keeps one keep-alive connection, chosen by asking /healthz).
With --rate, requests start at most R a second in all (a paced load, to compare
what a request costs the server at the same rate; 0 is as fast as it answers).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

SCHEMA = (
    Path(
        os.environ.get("BRIDGE_CONFORMANCE_DIR")
        or Path(__file__).resolve().parents[2] / "shared" / "conformance"
    )
    / "alexa"
    / "alexa_smart_home_message_schema.json"
)
"""Amazon's schema, from the conformance set when it is there (else replies go unchecked)."""


SAMPLE_EVERY = 100


def checker(
    alexa: bool,
    samples: list[dict],
    any_body: bool = False,
    expect: frozenset[str] = frozenset(),
    google: bool = False,
) -> Callable[[dict, int], bool]:
    """Whether a reply succeeded; with alexa, keep every 100th to validate after the run."""
    if any_body:  # callbacks: the status says it all (200 with a downlink, 204 without)
        return lambda body, n: True
    if google:  # EXECUTE: every device's result says SUCCESS
        return lambda body, n: (
            bool(commands := body.get("payload", {}).get("commands"))
            and all(c.get("status") == "SUCCESS" for c in commands)
        )
    if expect:  # DuerOS, AliGenie: the reply's header names the success
        return lambda body, n: body.get("header", {}).get("name") in expect
    if not alexa:
        return lambda body, n: body.get("ok") is True

    def check(body: dict, n: int) -> bool:
        if n % SAMPLE_EVERY == 0:
            samples.append(body)
        return body.get("event", {}).get("header", {}).get("name") == "Response"

    return check


def invalid(samples: list[dict]) -> int:
    """Sampled replies that fail Amazon's schema (validating is slower than replying);
    -1 when the conformance set is not there to check them."""
    if not samples:
        return 0
    if not SCHEMA.exists():
        return -1
    from jsonschema import Draft4Validator

    validator = Draft4Validator(json.loads(SCHEMA.read_text()))
    return sum(not validator.is_valid(body) for body in samples)


def machine_busy() -> tuple[int, int]:
    """Jiffies all cores spent busy, and in all, since boot (from /proc/stat)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


async def on_worker(url: str, worker: str, tries: int = 400) -> aiohttp.ClientSession:
    """A client whose one keep-alive connection the given worker serves."""
    health = url.split("/", 3)
    health = "/".join(health[:3]) + "/healthz"
    for _ in range(tries):
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1))
        async with session.get(health) as reply:
            if (await reply.json())["worker"] == worker:
                return session
        await session.close()
    raise RuntimeError(f"no connection reached worker {worker}")


async def run(
    url: str,
    bodies: list[dict],
    concurrency: int,
    seconds: float,
    warmup: float,
    ok: Callable[[dict, int], bool],
    worker_id: str | None = None,
    rate: float = 0,
    headers: dict[str, str] | None = None,
) -> dict:
    latencies: list[float] = []
    errors = 0
    # From a random place: a warm-up run and the measured one then send different bodies
    # (callbacks de-duplicate frames; a repeated one would be the cheap path).
    cycle = itertools.islice(itertools.cycle(bodies), random.randrange(len(bodies)), None)
    if worker_id:
        sessions = [await on_worker(url, worker_id) for _ in range(concurrency)]
    else:
        shared = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))
        sessions = [shared] * concurrency
    start = time.monotonic()
    measure_from = start + warmup
    stop = measure_from + seconds
    started = itertools.count()
    made = 0
    try:

        async def worker(session: aiohttp.ClientSession) -> None:
            nonlocal errors, made
            while (now := time.monotonic()) < stop:
                if rate:
                    due = start + next(started) / rate
                    if due > now:
                        await asyncio.sleep(due - now)
                        now = time.monotonic()
                async with session.post(url, json=next(cycle), headers=headers) as reply:
                    body = {} if reply.status == 204 else await reply.json(content_type=None)
                done = time.monotonic()
                made += 1
                if now >= measure_from:
                    if reply.status in (200, 204) and ok(body, len(latencies)):
                        latencies.append(done - now)
                    else:
                        errors += 1

        cpu, (busy, jiffies) = time.process_time(), machine_busy()
        await asyncio.gather(*(worker(session) for session in sessions))
        cpu = time.process_time() - cpu
        busy_after, jiffies_after = machine_busy()
    finally:
        for session in set(sessions):
            await session.close()
    latencies.sort()
    count = len(latencies)
    return {
        "requests": count,
        "errors": errors,
        "rate": round(count / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2) if count else None,
        "p99_ms": round(latencies[int(count * 0.99) - 1] * 1000, 2) if count else None,
        # what this driver cost, and how busy the whole machine was (1.0: every core)
        "driver_cpu_us": round(cpu / made * 1e6) if made else None,
        "machine_busy": round((busy_after - busy) / max(1, jiffies_after - jiffies), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("bodies")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--alexa", action="store_true", help="bodies are Alexa directives")
    parser.add_argument("--any-body", action="store_true", help="2xx is success, whatever body")
    parser.add_argument("--worker", help="use only connections this bridge worker serves")
    parser.add_argument("--expect", default="", help="reply header names that mean success")
    parser.add_argument("--rate", type=float, default=0, help="requests a second at most")
    parser.add_argument("--google", action="store_true", help="bodies are Google EXECUTEs")
    parser.add_argument(
        "--header", action="append", default=[], help="'Name: value' sent with every request"
    )
    args = parser.parse_args()
    with open(args.bodies) as fh:
        bodies = json.load(fh)
    samples: list[dict] = []
    expect = frozenset(n for n in args.expect.split(",") if n)
    ok = checker(args.alexa, samples, args.any_body, expect, args.google)
    headers = dict(h.split(": ", 1) for h in args.header)
    result = asyncio.run(
        run(
            args.url,
            bodies,
            args.concurrency,
            args.seconds,
            args.warmup,
            ok,
            args.worker,
            args.rate,
            headers,
        )
    )
    if args.alexa:
        result.update(validated=len(samples), invalid=invalid(samples))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
