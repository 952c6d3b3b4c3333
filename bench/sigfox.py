"""Sigfox callbacks on one worker: UPLINK and BIDIR (a downlink pending), against hello-world.

    python bench/sigfox.py [--devices 40000] [--seconds 10] [--rounds 3]

One run, the bridge under gunicorn as `make run` serves it: unique frames
(so de-duplication never short-cuts), every device with a command waiting
(40,000 by default: more than three rounds of BIDIRs take), so each BIDIR
answers 200 with its downlink. The same loader drives a
hello-world POST under the same settings, alternating rounds. The BIDIR p99
must stay far under Sigfox's 10 s. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.roundtrip import SECRET_KEY, _best, gunicorn, load  # noqa: E402
from bridge.store import Store  # noqa: E402
from bridge.store.secrets import Vault  # noqa: E402
from bridge.transports.sigfox.tables import SigfoxStore  # noqa: E402


def setup(tmp: Path, count: int) -> tuple[dict[str, str], str, list[str]]:
    store = Store(str(tmp / "bench.db"), Vault(SECRET_KEY))
    user, _ = store.users.create("bench", "bench-password")
    secret = "bench-callback-secret"
    store.repository(SigfoxStore).create_type(
        "bench", "powerState::bool:0", "powerState::bool:0", "plug", None, secret
    )
    ids = []
    with store.db.atomic():
        for n in range(count):
            device = store.devices.create(user.id, "plug", f"Plug {n}", transport="sigfox")
            sigfox_id = f"{n + 1:08X}"
            store.repository(SigfoxStore).add_device(sigfox_id, device.id, "bench")
            store.pending.add(
                device.id, user.id, "powerState:", "setPowerState", {"state": "On"},
                None, "bench", None, "0100000000000000", 86400,
            )  # fmt: skip
            ids.append(sigfox_id)
    store.close()
    env = {"BRIDGE_DATABASE": str(tmp / "bench.db"), "BRIDGE_SECRET_KEY": SECRET_KEY}
    return env, secret, ids


def frames(ids: list[str], ack: bool, n: int = 60000) -> list[dict]:
    start = int(time.time())
    return [
        {
            "device": random.choice(ids),
            "time": start + i,
            "data": random.choice(["00", "01"]),
            "seqNumber": i % 4096,
            "ack": ack,
        }
        for i in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=40000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    runs: dict[str, list[dict]] = {"uplink": [], "bidir": [], "hello": []}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        env, secret, ids = setup(tmp, args.devices)
        hello_env = {**env, "BRIDGE_DATABASE": str(tmp / "hello.db")}
        with (
            gunicorn("app:app", env) as (url, master),
            gunicorn("bench.hello:app", hello_env) as (hello_url, hello_master),
        ):
            base = f"{url}/device-clouds/sigfox"
            for _ in range(args.rounds):
                runs["uplink"].append(
                    load(f"{base}/uplink?token={secret}", frames(ids, False), args, tmp, master)
                )
                runs["bidir"].append(
                    load(
                        f"{base}/bidir?token={secret}",
                        frames(ids, True),
                        args,
                        tmp,
                        master,
                        "--any-body",
                    )
                )
                runs["hello"].append(
                    load(hello_url + "/hello", frames(ids, False), args, tmp, hello_master)
                )
    result = {k: _best(v) for k, v in runs.items()}
    hello = result["hello"]["rate"]
    print(f"Sigfox callbacks, {args.devices} devices, concurrency {args.concurrency}")
    for side in ("uplink", "bidir", "hello"):
        r = result[side]
        ratio = f"  {r['rate'] / hello:.0%} of hello world" if side != "hello" and hello else ""
        print(
            f"  {side:7} {r['rate']:>8} req/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  "
            f"errors {r['errors']}  worker CPU {r['worker_cpu_us']} us/request{ratio}"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
