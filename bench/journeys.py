"""What journeys cost: the bridge against the commit before journeys, in one run.

    python bench/journeys.py [--base REV] [--devices 1000] [--seconds 8] [--rounds 3]

Checks the base commit out in a temporary git worktree, serves both under
gunicorn as `make run` does (each with its own database and device fleet),
and drives the test adapter's webhook at each in alternating rounds, so a
noisy moment lands on both. Prints each side's median rate and worker CPU
per command, and the ratio. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
from pathlib import Path

from roundtrip import ROOT, commands, fleet, gunicorn, load, setup


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
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
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
            runs = compare(args, tmp, tree)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)
    now, base = (
        {
            "rate": statistics.median(r["rate"] for r in runs[side]),
            "worker_cpu_us": statistics.median(r["worker_cpu_us"] for r in runs[side]),
        }
        for side in ("now", "base")
    )
    print(f"journeys: {now['rate']:.0f} cmd/s, {now['worker_cpu_us']:.0f} us of worker CPU")
    print(f"base {rev}: {base['rate']:.0f} cmd/s, {base['worker_cpu_us']:.0f} us")
    print(f"rate with journeys / without: {now['rate'] / base['rate']:.1%}")
    print(json.dumps({"now": now, "base": base, "runs": runs}))


def compare(args: argparse.Namespace, tmp: Path, tree: Path) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {"now": [], "base": []}
    for side in ("now", "was"):
        (tmp / side).mkdir()
    env_now, key_now, secret_now, tokens_now, ids_now = setup(tmp / "now", args.devices)
    env_base, key_base, secret_base, tokens_base, ids_base = setup(tmp / "was", args.devices)
    with (
        gunicorn("app:app", env_now) as (url_now, master_now),
        fleet(url_now, key_now, secret_now, ids_now, tmp / "now"),
        gunicorn("app:app", env_base, root=tree) as (url_base, master_base),
        fleet(url_base, key_base, secret_base, ids_base, tmp / "was"),
    ):
        for _ in range(args.rounds):
            runs["now"].append(
                load(
                    url_now + "/voice/echo",
                    commands(tokens_now["echo"], ids_now),
                    args,
                    tmp,
                    master_now,
                )
            )
            runs["base"].append(
                load(
                    url_base + "/voice/echo",
                    commands(tokens_base["echo"], ids_base),
                    args,
                    tmp,
                    master_base,
                )
            )
    return runs


if __name__ == "__main__":
    main()
