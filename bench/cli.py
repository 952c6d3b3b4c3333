"""The CLI's start-up: `bridge --version`, `bridge --help`, and `bridge send` to a device
that is offline (a real server answers it), in CPU seconds and wall seconds per run.

Each figure is the median of `--runs` runs of the whole process, beside two baselines
measured in the same run: the interpreter alone (`python -c pass`) and the import of
everything the CLI used to load at start (the server, the store, every plugin). Aims:
under 0.3 s for --version and --help, under 0.5 s for an offline send.

    python bench/cli.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.roundtrip import SECRET_KEY, gunicorn  # noqa: E402
from bridge.store import Store  # noqa: E402
from bridge.store.secrets import Vault  # noqa: E402

BRIDGE = str(Path(sys.executable).with_name("bridge"))
EVERYTHING = (
    "import bridge.runtime.app, bridge.runtime.bridge, bridge.store, adapters.alexa,"
    " adapters.google, adapters.xiaodu, adapters.tmallgenie, adapters.tuya,"
    " bridge.transports.sinric, bridge.transports.mqtt, bridge.transports.sigfox"
)


def timed(command: list[str], env: dict[str, str], expect: int = 0) -> tuple[float, float]:
    """(CPU seconds of the process, wall seconds) of one run."""
    started = time.monotonic()
    proc = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code != expect:
        raise SystemExit(f"{command}: exit {code}: {proc.stderr.read().decode()[-500:]}")
    return usage.ru_utime + usage.ru_stime, wall


def median_of(runs: int, command: list[str], env: dict[str, str], expect: int = 0) -> dict:
    cpu, wall = zip(*(timed(command, env, expect) for _ in range(runs)), strict=True)
    return {"cpu": statistics.median(cpu), "wall": statistics.median(wall)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = str(Path(tmp) / "bench.db")
        env = {
            **os.environ,
            "BRIDGE_DATABASE": database,
            "BRIDGE_SECRET_KEY": SECRET_KEY,
            "PYTHONPATH": str(ROOT),
        }
        store = Store(database, Vault(SECRET_KEY))
        user, _ = store.users.create("bench", "bench-password")
        device = store.devices.create(user.id, "light", "Never connected").id
        store.close()
        with gunicorn("app:app", env) as (url, _):
            cases = {
                "python -c pass (the interpreter)": ([sys.executable, "-c", "pass"], 0),
                "import of what the CLI loaded before": ([sys.executable, "-c", EVERYTHING], 0),
                "bridge --version": ([BRIDGE, "--version"], 0),
                "bridge --help": ([BRIDGE, "--help"], 0),
                "bridge send (an offline device)": (
                    [BRIDGE, "send", device, "setPowerState", "--value", '{"state": "On"}'],
                    1,
                ),
            }
            figures = {
                name: median_of(args.runs, command, {**env, "BRIDGE_URL": url}, expect)
                for name, (command, expect) in cases.items()
            }
    base = figures["python -c pass (the interpreter)"]["cpu"]
    print(f"CLI start-up, median of {args.runs} runs (CPU = user + system of the process)")
    print(f"{'':<42} {'CPU s':>7} {'wall s':>7} {'CPU / interpreter':>18}")
    for name, got in figures.items():
        print(f"{name:<42} {got['cpu']:>7.3f} {got['wall']:>7.3f} {got['cpu'] / base:>17.1f}x")


if __name__ == "__main__":
    main()
