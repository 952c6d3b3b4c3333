"""Crossings of the core/plugin line: this tree against another, in one run.

    python bench/crossings.py [--base REV]

Serves each tree under gunicorn as `make run` does (its own code, config and
database, every real adapter loaded), connects one simulated light, and counts,
in the greenlet serving each, the calls that go from the core into a plugin or
back: for one Alexa TurnOn directive, and for one device event (a wall switch
turned). The count is exact and the same on every run (no timing in it).
Prints the figures and the static shape of both trees (bench/shape.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import requests
from roundtrip import ROOT, gunicorn, setup_in
from shape import BASE, shape

from bridge.client import DeviceClient

ADAPTERS = "alexa,google,xiaodu,tmallgenie,tuya"


def directive(token: str, device_id: str) -> dict:
    return {
        "directive": {
            "header": {
                "namespace": "Alexa.PowerController",
                "name": "TurnOn",
                "payloadVersion": "3",
                "messageId": "m-1",
                "correlationToken": "c-1",
            },
            "endpoint": {"scope": {"type": "BearerToken", "token": token}, "endpointId": device_id},
            "payload": {},
        }
    }


def count(tree: Path, tmp: Path) -> dict[str, int]:
    tmp.mkdir()
    env, app_key, secret, tokens, ids = setup_in(tree, tmp, 1)
    out = tmp / "crossings.txt"
    env = {
        **env,
        "BRIDGE_ADAPTERS": ADAPTERS,
        "BENCH_GUNICORN_CONF": str(ROOT / "bench" / "crossings_conf.py"),
        "BENCH_CROSSINGS_OUT": str(out),
    }
    os.environ["BENCH_GUNICORN_CONF"] = env["BENCH_GUNICORN_CONF"]
    try:
        with gunicorn("app:app", env, root=tree) as (url, _):
            client = DeviceClient(url, app_key, secret, ids)
            client.on("setPowerState", lambda device, value, instance: value)
            client.start()
            try:
                if not client.connected.wait(20):
                    raise RuntimeError("the light did not connect")
                reply = requests.post(
                    url + "/voice/alexa", json=directive(tokens["alexa"], ids[0]), timeout=10
                ).json()
                assert reply["event"]["header"]["name"] == "Response", reply
                client.send_event(ids[0], "setPowerState", {"state": "Off"})
                deadline = time.monotonic() + 10
                while "event" not in (out.read_text() if out.exists() else ""):
                    if time.monotonic() > deadline:
                        raise RuntimeError("the event was not counted")
                    time.sleep(0.05)
            finally:
                client.stop()
    finally:
        os.environ.pop("BENCH_GUNICORN_CONF", None)
    found = dict(line.rsplit(" ", 1) for line in out.read_text().splitlines())
    return {"alexa directive": int(found["webhook:alexa"]), "device event": int(found["event"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default=BASE, help=f"the tree to compare with ({BASE})")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        tmp = Path(work)
        tree = tmp / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), args.base],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            result = {
                "now": {**count(ROOT, tmp / "now"), **shape(ROOT)},
                "base": {**count(tree, tmp / "was"), **shape(tree)},
            }
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)
    for key in ("alexa directive", "device event"):
        print(f"crossings of the core/plugin line, one {key}: "
              f"{result['base'][key]} before, {result['now'][key]} now")  # fmt: skip
    print(json.dumps(result))


if __name__ == "__main__":
    main()
