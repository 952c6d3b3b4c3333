"""Drive concurrent POSTs at one URL for a while; print rate and latency as JSON.

python bench/load.py URL BODIES_FILE --concurrency C --seconds S [--alexa] [--worker ID]

A reply counts when it says it succeeded: `{"ok": true}`, or with --alexa an
`Alexa.Response`; with --alexa every 100th reply is kept and validated against
Amazon's schema after the timed run (the result says how many failed).
With --worker, every connection is one that the named bridge worker serves
(each client keeps one keep-alive connection, chosen by asking /healthz).
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
    alexa: bool, samples: list[dict], any_body: bool = False, expect: frozenset[str] = frozenset()
) -> Callable[[dict, int], bool]:
    """Whether a reply succeeded; with alexa, keep every 100th to validate after the run."""
    if any_body:  # callbacks: the status says it all (200 with a downlink, 204 without)
        return lambda body, n: True
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
    try:

        async def worker(session: aiohttp.ClientSession) -> None:
            nonlocal errors
            while (now := time.monotonic()) < stop:
                async with session.post(url, json=next(cycle)) as reply:
                    body = {} if reply.status == 204 else await reply.json(content_type=None)
                done = time.monotonic()
                if now >= measure_from:
                    if reply.status in (200, 204) and ok(body, len(latencies)):
                        latencies.append(done - now)
                    else:
                        errors += 1

        await asyncio.gather(*(worker(session) for session in sessions))
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
    args = parser.parse_args()
    with open(args.bodies) as fh:
        bodies = json.load(fh)
    samples: list[dict] = []
    expect = frozenset(n for n in args.expect.split(",") if n)
    ok = checker(args.alexa, samples, args.any_body, expect)
    result = asyncio.run(
        run(args.url, bodies, args.concurrency, args.seconds, args.warmup, ok, args.worker)
    )
    if args.alexa:
        result.update(validated=len(samples), invalid=invalid(samples))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
