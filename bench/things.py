"""MQTT things against Sinric sockets: Alexa round trips and memory per connected thing.

    python bench/things.py [--devices 1000] [--capacity 5000] [--seconds 10] [--rounds 3]

One run, one bridge under gunicorn as `make run` serves it, one Mosquitto the
bridge configured (mutual TLS, ACL, CRL): the same Alexa TurnOn/TurnOff
directives go to socket devices and to MQTT things, alternating for
`rounds` rounds, each side reporting its median. Capacity mode connects
many idle things and reports the worker's and the broker's RSS per thing.
Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import getpass
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.roundtrip import (  # noqa: E402
    PYTHON,
    SECRET_KEY,
    _best,
    alexa_directives,
    database,
    fleet,
    free_port,
    gunicorn,
    load,
    ready,
    worker_rss_kb,
)
from bridge.store import Store  # noqa: E402
from bridge.store.secrets import Vault  # noqa: E402
from bridge.transports.mqtt import broker as broker_config  # noqa: E402
from bridge.transports.mqtt import things  # noqa: E402


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])


def devices_online(url: str) -> int:
    return requests.get(url + "/healthz", timeout=5).json()["devices_online"]


def setup(tmp: Path, sockets: int, count: int) -> dict:
    store = Store(database(tmp), Vault(SECRET_KEY))
    user, secret = store.users.create("bench", "bench-password")
    with store.db.atomic():
        ids = [store.devices.create(user.id, "switch", f"Switch {i}").id for i in range(sockets)]
    made, archives = [], []
    for start in range(0, count, things.MAX_BATCH):  # batches of at most 1,000, as the CLI
        batch, archive = things.batch(
            store, user, "switch", min(things.MAX_BATCH, count - start), "Thing", "bench"
        )
        made += batch
        archives.append(tmp / f"things-{start}.zip")
        archives[-1].write_bytes(archive)
    port = free_port()
    broker = broker_config.write(store, tmp / "broker", port=port, run_as=getpass.getuser())
    token = store.tokens.issue(user.id, "alexa", ttl=86400)
    store.close()
    env = {
        "BRIDGE_DATABASE": database(tmp),
        "BRIDGE_SECRET_KEY": SECRET_KEY,
        # One account drives the whole load, far past a household's pace: budgets that
        # never bite, so what they cost is measured, not what they refuse.
        "BRIDGE_DIRECTIVE_RATE": "1000000",
        "BRIDGE_DIRECTIVE_BURST": "1000000",
        "BRIDGE_COMMAND_RATE": "1000000",
        "BRIDGE_COMMAND_BURST": "1000000",
        "BRIDGE_WORKER_CONNECTIONS": str(sockets + 2000),
        "BRIDGE_ADAPTERS": "alexa",
        "BRIDGE_MQTT_URL": f"mqtts://127.0.0.1:{port}",
        "BRIDGE_MQTT_DIR": str(tmp / "broker"),
    }
    return {
        "env": env,
        "app_key": user.app_key,
        "secret": secret,
        "ids": ids,
        "things": [d.id for d in made],
        "archives": archives,
        "token": token,
        "port": port,
        "conf": broker["conf"],
    }


@contextmanager
def mosquitto(conf: Path, port: int):
    proc = subprocess.Popen(
        [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


def thing_fleet(port: int, archives: list[Path]):
    script = str(ROOT / "bench" / "thing_fleet.py")
    return ready([PYTHON, script, "127.0.0.1", str(port), *map(str, archives)], "thing fleet")


def throughput(args: argparse.Namespace, tmp: Path) -> dict:
    s = setup(tmp, args.devices, args.devices)
    runs: dict[str, list[dict]] = {"socket": [], "mqtt": []}
    with (
        mosquitto(s["conf"], s["port"]),
        gunicorn("app:app", s["env"]) as (url, master),
        fleet(url, s["app_key"], s["secret"], s["ids"], tmp),
        thing_fleet(s["port"], s["archives"]),
    ):
        time.sleep(1)  # the things' first reports reach the shadow
        for _ in range(args.rounds):
            for side, ids in (("socket", s["ids"]), ("mqtt", s["things"])):
                bodies = alexa_directives(s["token"], ids)
                runs[side].append(load(url + "/voice/alexa", bodies, args, tmp, master, "--alexa"))
    socket_, mqtt_ = _best(runs["socket"]), _best(runs["mqtt"])
    return {
        "socket": socket_,
        "mqtt": mqtt_,
        "ratio": round(mqtt_["rate"] / socket_["rate"], 3) if socket_["rate"] else None,
        "ratios": [
            round(m["rate"] / k["rate"], 3)
            for k, m in zip(runs["socket"], runs["mqtt"], strict=True)
        ],
    }


def capacity(args: argparse.Namespace, tmp: Path) -> dict:
    s = setup(tmp, 0, args.capacity)
    with (
        mosquitto(s["conf"], s["port"]) as broker,
        gunicorn("app:app", s["env"]) as (url, master),
    ):
        requests.get(url + "/", timeout=5)
        time.sleep(1)
        worker_before, broker_before = worker_rss_kb(master), rss_kb(broker.pid)
        with thing_fleet(s["port"], s["archives"]) as count:
            end = time.monotonic() + 120  # the bridge takes each thing's first report in turn
            while (online := devices_online(url)) < count and time.monotonic() < end:
                time.sleep(0.5)
            time.sleep(1)
            worker_after, broker_after = worker_rss_kb(master), rss_kb(broker.pid)
    return {
        "things": count,
        "online": online,
        "worker_kb_per_thing": round((worker_after - worker_before) / max(count, 1), 1),
        "broker_kb_per_thing": round((broker_after - broker_before) / max(count, 1), 1),
        "worker_rss_kb": [worker_before, worker_after],
        "broker_rss_kb": [broker_before, broker_after],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--capacity", type=int, default=5000, help="0 skips capacity mode")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "throughput").mkdir()
        (tmp / "capacity").mkdir()
        result = {"throughput": throughput(args, tmp / "throughput")}
        t = result["throughput"]
        print(f"Alexa TurnOn/TurnOff, {args.devices} sockets and {args.devices} things connected")
        for side in ("socket", "mqtt"):
            r = t[side]
            print(
                f"  {side:7} {r['rate']:>8} cmd/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  "
                f"errors {r['errors']}  worker CPU {r['worker_cpu_us']} us/request"
            )
        print(
            f"  mqtt / socket (medians of {args.rounds} alternating rounds): {t['ratio']:.0%}; "
            "per round: " + ", ".join(f"{r:.0%}" for r in t["ratios"])
        )
        if args.capacity:
            c = result["capacity"] = capacity(args, tmp / "capacity")
            print(
                f"idle things: {c['things']} ({c['online']} online): worker "
                f"{c['worker_kb_per_thing']} KB and broker {c['broker_kb_per_thing']} KB per thing"
            )
        print(json.dumps(result))


if __name__ == "__main__":
    main()
