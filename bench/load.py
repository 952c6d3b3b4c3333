"""Drive concurrent POSTs at one URL for a while; print rate and latency as JSON.

python bench/load.py URL BODIES_FILE --concurrency C --seconds S
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import time

import aiohttp


async def run(
    url: str, bodies: list[dict], concurrency: int, seconds: float, warmup: float
) -> dict:
    latencies: list[float] = []
    errors = 0
    cycle = itertools.cycle(bodies)
    start = time.monotonic()
    measure_from = start + warmup
    stop = measure_from + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            while (now := time.monotonic()) < stop:
                async with session.post(url, json=next(cycle)) as reply:
                    body = await reply.json(content_type=None)
                done = time.monotonic()
                if now >= measure_from:
                    if reply.status == 200 and body.get("ok"):
                        latencies.append(done - now)
                    else:
                        errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
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
    args = parser.parse_args()
    with open(args.bodies) as fh:
        bodies = json.load(fh)
    print(
        json.dumps(asyncio.run(run(args.url, bodies, args.concurrency, args.seconds, args.warmup)))
    )


if __name__ == "__main__":
    main()
