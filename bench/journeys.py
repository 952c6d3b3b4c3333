"""What journeys cost: the bridge against the commit before journeys, in one run.

    python bench/journeys.py [--base REV] [--devices 1000] [--seconds 3] [--rounds 16]
    python bench/journeys.py --instructions [--base REV] [--seconds 40] [--platform alexa]

Checks the base commit out in a temporary git worktree, serves both under
gunicorn as `make run` does (each with its own database and device fleet),
and drives the test adapter's webhook at each in alternating rounds, so a
noisy moment lands on both. Prints each side's median rate and worker CPU
per command, and the ratios. Asserts nothing.

On a shared machine the rate moves by more than the 5% to be measured, from
one minute to the next. `--instructions` counts instead what the worker
executes per command under valgrind's callgrind (from warm-up's end to the
load's; needs valgrind): the same figure on every run, to a few tenths of a
percent (two counts of one commit: 99.4%), through the test adapter's webhook or a
platform's (`--platform`), with every adapter loaded as a deployment has them.
Each tree's database is made by that tree's own code. It leaves out the kernel's
share (sockets, the database's writes: about 15% of the worker's CPU), where
journeys add only the bytes of their columns.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from roundtrip import (
    PLATFORMS,
    ROOT,
    commands,
    fleet,
    gunicorn,
    load,
    options,
    setup,
    setup_in,
    worker_pid,
)


def base_commit() -> str:
    """The commit before the one that added bridge/journeys.py."""
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", "bridge/journeys.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return f"{added[-1]}~1"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", help="the commit to compare with (default: before journeys)")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, help="of load a round (3; counting: 40)")
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--instructions", action="store_true", help="count them (valgrind)")
    parser.add_argument(
        "--platform", default="echo", help="whose webhook --instructions drives (echo, alexa, ...)"
    )
    args = parser.parse_args()
    args.seconds = args.seconds or (40 if args.instructions else 3)
    rev = args.base or base_commit()
    with tempfile.TemporaryDirectory() as work:
        tmp = Path(work)
        tree = tmp / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), rev],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            if args.instructions:
                counted = {
                    side: instructions(args, tmp / f"counted-{side}", root)
                    for side, root in (("now", ROOT), ("base", tree))
                }
            else:
                runs = compare(args, tmp, tree)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)
    if args.instructions:
        now_ir, base_ir = counted["now"]["per_command"], counted["base"]["per_command"]
        print(f"now, {args.platform}: {now_ir / 1000:.0f} k instructions per command")
        print(f"base {rev}: {base_ir / 1000:.0f} k")
        print(f"instructions now / base: {now_ir / base_ir:.1%}")
        print(json.dumps(counted))
        return
    now, base = (
        {
            "rate": statistics.median(r["rate"] for r in runs[side]),
            "worker_cpu_us": statistics.median(r["worker_cpu_us"] for r in runs[side]),
        }
        for side in ("now", "base")
    )
    print(f"journeys: {now['rate']:.0f} cmd/s, {now['worker_cpu_us']:.0f} us of worker CPU")
    print(f"base {rev}: {base['rate']:.0f} cmd/s, {base['worker_cpu_us']:.0f} us")
    paired = statistics.median(
        a["rate"] / b["rate"] for a, b in zip(runs["now"], runs["base"], strict=True)
    )
    print(f"rate with journeys / without: {now['rate'] / base['rate']:.1%}")
    best = max(r["rate"] for r in runs["now"]) / max(r["rate"] for r in runs["base"])
    print(f"median of the rounds' ratios: {paired:.1%}; best rate / best rate: {best:.1%}")
    print(json.dumps({"now": now, "base": base, "runs": runs}))


def instructions(args: argparse.Namespace, tmp: Path, root: Path) -> dict:
    """Instructions the worker executes per command (callgrind), at a gentle load."""
    tmp.mkdir()
    env, key, secret, tokens, ids = setup_in(root, tmp, min(args.devices, 200))
    env["GUNICORN_CMD_ARGS"] = "--timeout 900"  # a slow start is no hung worker
    env["BRIDGE_ADAPTERS"] = "echo," + ",".join(PLATFORMS)  # as deployed: every adapter loaded
    if args.platform == "echo":
        path, bodies, given = "/voice/echo", commands(tokens["echo"], ids), ()
    else:
        path, directives, _ = PLATFORMS[args.platform]
        bodies = directives(tokens[args.platform], ids)
        given = tuple(options(args.platform, tokens[args.platform]))
    wrap = (
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        "--trace-children=yes",
        f"--callgrind-out-file={tmp}/callgrind.%p",
    )
    gentle = argparse.Namespace(concurrency=10, seconds=args.seconds)
    with (
        gunicorn("app:app", env, root=root, wrap=wrap) as (url, master),
        fleet(url, key, secret, ids, tmp),
    ):
        warming = argparse.Namespace(concurrency=10, seconds=10)
        load(url + path, bodies, warming, tmp, master, *given)
        worker = str(worker_pid(master))
        subprocess.run(["callgrind_control", "-i", "on", worker], check=True, capture_output=True)
        result = load(url + path, bodies, gentle, tmp, master, *given, warm=False)
        subprocess.run(["callgrind_control", "-d", worker], check=True, capture_output=True)
        dumped = tmp / f"callgrind.{worker}.1"
        for _ in range(100):  # written by the worker, soon after the request
            if dumped.exists() and "summary:" in dumped.read_text():
                break
            time.sleep(0.2)
    total = sum(
        int(line.split()[1])
        for line in dumped.read_text().splitlines()
        if line.startswith("summary:")
    )
    commands_done = result["requests"] + result["errors"]
    return {"commands": commands_done, "per_command": round(total / commands_done)}


def compare(args: argparse.Namespace, tmp: Path, tree: Path) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {"now": [], "base": []}
    for side in ("now", "was"):
        (tmp / side).mkdir()
    env_now, key_now, secret_now, tokens_now, ids_now = setup(tmp / "now", args.devices)
    env_base, key_base, secret_base, tokens_base, ids_base = setup_in(
        tree, tmp / "was", args.devices
    )
    with (
        gunicorn("app:app", env_now) as (url_now, master_now),
        fleet(url_now, key_now, secret_now, ids_now, tmp / "now"),
        gunicorn("app:app", env_base, root=tree) as (url_base, master_base),
        fleet(url_base, key_base, secret_base, ids_base, tmp / "was"),
    ):
        sides = {
            "now": (url_now, tokens_now, ids_now, master_now),
            "base": (url_base, tokens_base, ids_base, master_base),
        }
        for round_ in range(args.rounds):
            # Each side goes first in every other round: what the machine did just
            # before (the other side's checkpoint, a warm cache) falls on both.
            for side in ("now", "base") if round_ % 2 == 0 else ("base", "now"):
                url, tokens, ids, master = sides[side]
                runs[side].append(
                    load(url + "/voice/echo", commands(tokens["echo"], ids), args, tmp, master)
                )
    return runs


if __name__ == "__main__":
    main()
