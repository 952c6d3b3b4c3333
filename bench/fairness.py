"""Fairness under load: what one noisy source does to everyone else.

    python bench/fairness.py [--scenario mqtt-flood] [--seconds 10]

Each scenario runs one bridge under gunicorn as `make run` serves it (one
worker, SQLite), a paced load of victims (Alexa TurnOn/TurnOff to quiet
devices, 20 a second), and one noisy source in the middle third of the run.
It prints the victims' p50/p99 and failures before, during and after the
noise, the database's growth, the history rows written and the worker's CPU.
Prints figures, asserts nothing.

- `mqtt-flood`: one MQTT thing publishes shadow updates (QoS 0) as fast as
  it can; the victims are 40 other things on the same broker.
"""

from __future__ import annotations

import argparse
import json
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
from bench.roundtrip import PYTHON, SECRET_KEY, gunicorn, worker_cpu_seconds  # noqa: E402
from bench.things import mosquitto, setup, thing_fleet  # noqa: E402
from bridge.store import Store  # noqa: E402
from bridge.store.secrets import Vault  # noqa: E402
from bridge.transports.mqtt import things  # noqa: E402

RATE = 20.0
"""Victim directives a second, in all."""


def directive(token: str, device: str, n: int) -> dict:
    return {
        "directive": {
            "header": {
                "namespace": "Alexa.PowerController",
                "name": random.choice(["TurnOn", "TurnOff"]),
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

    def __init__(self, url: str, token: str, devices: list[str]) -> None:
        self.url, self.token, self.devices = url + "/voice/alexa", token, devices
        self.results: list[tuple[float, float, bool]] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(8)]

    def _run(self, index: int) -> None:
        session = requests.Session()
        n = index
        start = time.monotonic() + index / RATE
        while not self.stopping.is_set():
            start += len(self.threads) / RATE
            time.sleep(max(0.0, start - time.monotonic()))
            began = time.monotonic()
            body = directive(self.token, self.devices[n % len(self.devices)], n)
            try:
                reply = session.post(self.url, json=body, timeout=15)
                ok = reply.json()["event"]["header"]["name"] == "Response"
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


def database(path: Path) -> dict:
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
    s = setup(tmp, 0, 40)
    store = Store(s["env"]["BRIDGE_DATABASE"], Vault(SECRET_KEY))
    user, _ = store.users.by_app_key(s["app_key"])
    _, archive = things.batch(store, user, "switch", 1, "Noisy", "bench")
    store.close()
    noisy = tmp / "noisy.zip"
    noisy.write_bytes(archive)
    db = Path(s["env"]["BRIDGE_DATABASE"])
    third = args.seconds
    with (
        mosquitto(s["conf"], s["port"]),
        gunicorn("app:app", s["env"]) as (url, master),
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


SCENARIOS = {"mqtt-flood": mqtt_flood}


def main() -> None:
    if sys.argv[1:2] == ["flood"]:
        host, port, archive, seconds = sys.argv[2:6]
        flood(host, int(port), archive, float(seconds))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), action="append")
    parser.add_argument("--seconds", type=float, default=10, help="each third of a run")
    args = parser.parse_args()
    results = {}
    for name in args.scenario or sorted(SCENARIOS):
        with tempfile.TemporaryDirectory() as folder:
            r = results[name] = SCENARIOS[name](args, Path(folder))
        print(f"{name}: noise {r['noise']}")
        for phase in ("before", "during", "after"):
            p = r[phase]
            print(
                f"  {phase:6} {p.get('requests', 0):>4} directives  failed {p.get('failed', 0):>4}"
                f"  p50 {p.get('p50_ms')} ms  p99 {p.get('p99_ms')} ms"
            )
        print(
            f"  database +{r['database_growth_bytes'] / 1e6:.1f} MB, "
            f"{r['history_rows']} history rows, worker CPU {r['worker_cpu_s']} s "
            f"over {r['seconds']} s"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
