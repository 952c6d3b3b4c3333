"""State accuracy under faults: does every platform end up holding what every device is?

    python bench/accuracy.py [--quick] [--devices 30] [--fault 60] [--every 30] [--seed 1]

Runs the scaled set-up (gunicorn with two workers, a Redis and a PostgreSQL it
starts), the five platforms' loopback fakes (tests/fakes), one account linked
to all five, and a fleet of plugs whose power flips at random, each about
every `--every` seconds. In turn:

- each platform's fake answers 500 for `--fault` seconds, then 429 as long;
- a worker is killed with SIGKILL (gunicorn starts another);
- every plug flips at once and the whole server is killed with SIGKILL 30 ms
  later, then started again;
- Redis restarts (empty), then PostgreSQL (`--fault` / 2 apart);

and all along Google's Home Graph drops one report in 100 (it answers 200 and
keeps nothing). The plugs stop changing when PostgreSQL is back.

Every 0.5 s it compares what each fake holds with each plug's shadow: Alexa,
the last powerState its event gateway took; Google, Home Graph's `on`;
XiaoDu, the value DuerOS read back after the last change report it took;
Tmall Genie, the last reported powerstate; Tuya, the last `switch_1`. A
sample the database cannot answer (PostgreSQL restarting) is skipped. It
prints, per platform, the time-weighted share of plugs it held right over the
run (and in the steady start, during its own outage, and over the rest of
the run: what the bridge can answer for), the seconds from
the last fault's end until it held every plug right, the repairs the bridge
made, and the bridge's own measure (`bridge accuracy`). The last line is
JSON. Prints figures, asserts nothing.
`--quick`: 12 plugs and 8 s faults (about 3 minutes).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from alexa_helpers import Alexa, accept_grant  # noqa: E402
from conftest import SECRET_KEY, platform_env  # noqa: E402
from fakes.amazon import FakeAmazon  # noqa: E402
from fakes.dueros import FakeDuerOS  # noqa: E402
from fakes.google import FakeGoogle  # noqa: E402
from fakes.taobao import FakeTaobao  # noqa: E402
from fakes.tuya import FakeTuya  # noqa: E402
from genie_helpers import Genie, v2  # noqa: E402
from google_helpers import Google, intent  # noqa: E402
from postgres import PostgresServer  # noqa: E402
from servers import BridgeServer, RedisServer, workers_of  # noqa: E402
from xiaodu_helpers import DuerOS, attributes, from_sample  # noqa: E402

from bridge.client import DeviceClient  # noqa: E402
from bridge.simulator import attach  # noqa: E402
from bridge.store import Store  # noqa: E402
from bridge.store.secrets import Vault  # noqa: E402

PLATFORMS = ("alexa", "google", "xiaodu", "tmallgenie", "tuya")
SAMPLE_EVERY = 0.5
REPORT = "alibaba.ailabs.iot.cloud.device.report"


class Fakes:
    """The five platforms, and what each holds of each plug's power ("On"/"Off")."""

    def __init__(self, tmp: Path) -> None:
        self.amazon, self.dueros, self.taobao = FakeAmazon(), FakeDuerOS(), FakeTaobao()
        self.tuya, self.google = FakeTuya(), FakeGoogle(tmp)
        self.by_name = {
            "alexa": self.amazon,
            "google": self.google,
            "xiaodu": self.dueros,
            "tmallgenie": self.taobao,
            "tuya": self.tuya,
        }
        self.agent = ""

    def held(self) -> dict[str, dict[str, str]]:
        """Each platform's view, read from what each fake took."""
        return {
            "alexa": self._alexa(),
            "google": self._google(),
            "xiaodu": self._xiaodu(),
            "tmallgenie": self._genie(),
            "tuya": self._tuya(),
        }

    def _alexa(self) -> dict[str, str]:
        found: dict[str, str] = {}
        with self.amazon.lock:
            events = list(self.amazon.events)
        for event in events:
            body = event.get("event", {})
            if "rejected" in event or body.get("header", {}).get("name") != "ChangeReport":
                continue
            said = [
                *event.get("context", {}).get("properties", []),
                *body["payload"]["change"]["properties"],  # what changed wins
            ]
            for prop in said:
                if prop["name"] == "powerState":
                    found[body["endpoint"]["endpointId"]] = prop["value"].title()
        return found

    def _google(self) -> dict[str, str]:
        with self.google.lock:
            held = dict(self.google.graph.get(self.agent, {}))
        return {i: ("On" if s["on"] else "Off") for i, s in held.items() if "on" in s}

    def _xiaodu(self) -> dict[str, str]:
        with self.dueros.lock:
            states = list(self.dueros.states)
        found = {}
        for state in states:
            value = attributes(state).get("turnOnState") if "payload" in state else None
            if value:
                found[state["asked_for"]] = value.title()
        return found

    def _genie(self) -> dict[str, str]:
        with self.taobao.lock:
            calls = list(self.taobao.calls)
        found = {}
        for call in calls:
            param = call.get("cloud_report_param") if call["method"] == REPORT else None
            if param and "powerstate" in param["payload"]:
                found[param["device_id"]] = "On" if int(param["payload"]["powerstate"]) else "Off"
        return found

    def _tuya(self) -> dict[str, str]:
        with self.tuya.lock:
            reports = list(self.tuya.reports)
            third = {i: d["third"] for i, d in self.tuya.devices.items()}
        found = {}
        for report in reports:
            if report["device"] in third and "switch_1" in report["data"]:
                found[third[report["device"]]] = (
                    "On" if report["data"]["switch_1"]["value"] else "Off"
                )
        return found

    def close(self) -> None:
        for fake in self.by_name.values():
            fake.close()


class Sampler(threading.Thread):
    """Every SAMPLE_EVERY s: per platform, the plugs whose power it holds right."""

    def __init__(self, fakes: Fakes, truth: Callable[[], dict[str, str]], plugs: int) -> None:
        super().__init__(daemon=True)
        self.fakes, self.truth, self.plugs = fakes, truth, plugs
        self.samples: list[tuple[float, dict[str, int], int]] = []
        self.skipped = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_EVERY):
            self.once()

    def once(self) -> tuple[dict[str, int], int] | None:
        try:
            truth = self.truth()
        except Exception:  # the database away (PostgreSQL restarting): no sample
            self.skipped += 1
            return None
        held = self.fakes.held()
        right = {name: sum(held[name].get(i) == v for i, v in truth.items()) for name in PLATFORMS}
        self.samples.append((time.monotonic(), right, len(truth)))
        return right, len(truth)

    def accuracy(
        self, since: float, until: float = float("inf"), outside: tuple[float, float] | None = None
    ) -> dict[str, float]:
        """Time-weighted: each sample counts for the time until the next; samples `outside`
        a window (a platform's own outage) leave it out."""
        kept = [s for s in self.samples if since <= s[0] <= until]
        out = {}
        for name in PLATFORMS:
            weighted = total = 0.0
            for (at, right, count), (after, _, _) in pairwise(kept):
                if outside and outside[0] <= at < outside[1]:
                    continue
                span = after - at
                weighted += span * right[name] / max(1, count)
                total += span
            out[name] = weighted / total if total else 0.0
        return out

    def converged(self, after: float, limit: float) -> dict[str, float | None]:
        """Seconds from `after` until each platform held every plug right."""
        out: dict[str, float | None] = {}
        end = time.monotonic() + limit
        while time.monotonic() < end and len(out) < len(PLATFORMS):
            found = self.once()
            if found:
                right, count = found
                for name in PLATFORMS:
                    if name not in out and right[name] == count == self.plugs:
                        out[name] = round(time.monotonic() - after, 1)
            time.sleep(SAMPLE_EVERY)
        return {name: out.get(name) for name in PLATFORMS}


class Fleet(threading.Thread):
    """Plugs flipped at random, `rate` changes a second, while `changing` is set."""

    def __init__(self, client: DeviceClient, ids: list[str], rate: float) -> None:
        super().__init__(daemon=True)
        self.client, self.ids, self.rate = client, ids, rate
        self.changing = threading.Event()
        self.sent = self.lost = 0

    def flip(self, device_id: str) -> None:
        try:
            self.client.send_event(
                device_id, "setPowerState", {"state": random.choice(["On", "Off"])}
            )
            self.sent += 1
        except Exception:  # not connected (the server away): the change never left
            self.lost += 1

    def run(self) -> None:
        while True:
            self.changing.wait()
            self.flip(random.choice(self.ids))
            time.sleep(random.expovariate(self.rate))


def link_all(server: BridgeServer, store: Store, fakes: Fakes, user: Any, tuya_cli) -> None:
    """One account linked to every platform, as each platform links it."""
    alexa_token = store.tokens.issue(user.id, "alexa")
    event = accept_grant(Alexa(server.url), fakes.amazon.issue_code(), alexa_token)
    assert event["event"]["header"]["name"] == "AcceptGrant.Response", event
    google_token = store.tokens.issue(user.id, "google")
    fakes.agent = Google(server.url).call(intent("SYNC"), google_token)["payload"]["agentUserId"]
    fakes.google.agents.add(fakes.agent)
    duer_token = store.tokens.issue(user.id, "xiaodu")
    body = from_sample("discover.request", duer_token)
    body["payload"]["openUid"] = f"uid-{user.id}"
    DuerOS(server.url).send(body)
    fakes.dueros.tokens[f"uid-{user.id}"] = duer_token
    fakes.dueros.bridge_url = server.url
    genie_token = store.tokens.issue(user.id, "tmallgenie")
    ids = [d.id for d in store.devices.of_user(user.id)]
    Genie(server.url).send(
        v2("thing.attribute.get", genie_token, ids[:1], namespace="AliGenie.Iot.Device.Query")
    )
    tuya_cli("tuya", "link", user.name)


class Run:
    """The set-up and its faults, one after another."""

    def __init__(self, tmp: Path, devices: int, every: float, fault: float) -> None:
        self.fault = fault
        self.fakes, self.redis, self.postgres = Fakes(tmp), RedisServer(tmp), PostgresServer()
        f = self.fakes
        env = {
            **platform_env(f.amazon, f.dueros, f.taobao, f.tuya, f.google),
            "BRIDGE_DATABASE": self.postgres.database(),
            "BRIDGE_WORKERS": "2",
            "BRIDGE_REDIS_URL": self.redis.url,
            "BRIDGE_REDIS_PREFIX": "accuracy-bench",
            "BRIDGE_SECRET_KEY": SECRET_KEY,
            "BRIDGE_GRACEFUL_TIMEOUT": "1",
            "BRIDGE_REPORT_RETRY_BASE": "0.2",
            "BRIDGE_STATE_EVENT_INTERVAL": "0.1",
            "BRIDGE_TAKEOVER_GRACE": "0.5",
            "BRIDGE_DIRECTIVE_RATE": "0",
            "BRIDGE_COMMAND_RATE": "0",
            "BRIDGE_ACCURACY_EVERY": "2",
            "BRIDGE_ACCURACY_GRACE": "10",
            "BRIDGE_GOOGLE_READBACK": "600",
        }
        self.server = BridgeServer(env, logs=tmp).start()
        self.store = Store(env["BRIDGE_DATABASE"], Vault(SECRET_KEY))
        self.user, secret = self.store.users.create("bench", "password-bench")
        plugs = [
            self.store.devices.create(self.user.id, "plug", f"Plug {n}") for n in range(devices)
        ]
        self.ids = [p.id for p in plugs]
        self.client = DeviceClient(
            self.server.url, self.user.app_key, secret, self.ids, backoff=(0.2, 2.0)
        )
        attach(self.client, plugs, 0.0)
        self.client.start()
        assert self.client.connected.wait(20), "the fleet did not connect"
        link_all(self.server, self.store, self.fakes, self.user, self._cli)
        self.fleet = Fleet(self.client, self.ids, devices / every)
        self.fleet.start()
        self.sampler = Sampler(self.fakes, self._truth, devices)
        self.windows: dict[str, tuple[float, float]] = {}
        self.began = self.last_fault = 0.0

    def _cli(self, *argv: str) -> None:
        bridge = str(Path(sys.executable).with_name("bridge"))
        env = {**self.server.env, "BRIDGE_URL": self.server.url}
        subprocess.run([bridge, *argv], env=env, check=True, capture_output=True)

    def _truth(self) -> dict[str, str]:
        """Each plug's power as the bridge has it (its shadow)."""
        found = {}
        for device_id in self.ids:
            power = self.store.shadow.values(device_id).get("powerState")
            if power is not None:
                found[device_id] = power
        return found

    def _phase(self, what: str, seconds: float) -> None:
        print(f"{time.monotonic() - self.began:6.1f} s  {what}", flush=True)
        time.sleep(seconds)

    def faults(self) -> None:
        for device_id in self.ids:  # every plug has a state before the run
            self.fleet.flip(device_id)
        warm = self.sampler.converged(time.monotonic(), 60)
        print(f"warm-up: every platform held every plug after {warm} s", flush=True)
        fault, fakes, server = self.fault, self.fakes, self.server
        self.began = time.monotonic()
        fakes.google.drop_every = 100
        self.sampler.start()
        self.fleet.changing.set()
        self._phase("steady", fault)
        self.windows["steady"] = (self.began, time.monotonic())
        for name in PLATFORMS:
            start = time.monotonic()
            for status in (500, 429):
                fakes.by_name[name].outage = status
                self._phase(f"{name} answers {status}", fault)
                fakes.by_name[name].outage = None
            self.windows[name] = (start, time.monotonic())
            self._phase(f"{name} back", fault / 4)
        victim = min(workers_of(server))
        os.kill(victim, signal.SIGKILL)
        self._phase(f"worker {victim} killed (SIGKILL)", fault / 2)
        for device_id in self.ids:  # a burst, then the whole server killed 30 ms after it
            self.fleet.flip(device_id)
        time.sleep(0.03)
        for pid in [*workers_of(server), server.proc.pid]:
            os.kill(pid, signal.SIGKILL)
        server.proc.wait(10)
        print(f"{time.monotonic() - self.began:6.1f} s  server killed (SIGKILL) after a burst")
        server.start()
        self._phase("server started again", fault / 2)
        self.redis.stop()
        self.redis.start()
        self._phase("Redis restarted (empty)", fault / 2)
        self.postgres.halt()
        time.sleep(1.0)
        self.fleet.changing.clear()
        self.postgres.start()
        self.last_fault = time.monotonic()
        print(f"{self.last_fault - self.began:6.1f} s  PostgreSQL restarted; changes stop")
        self.sampler.stop.set()
        self.sampler.join(5)

    def summary(self) -> dict[str, dict[str, Any]]:
        """Print the figures; return the JSON line's."""
        sampler, store, began = self.sampler, self.store, self.began
        converged = sampler.converged(self.last_fault, 120)
        whole = sampler.accuracy(began)
        steady = sampler.accuracy(*self.windows["steady"])
        own = store.beliefs.accuracy(time.time() - (time.monotonic() - began))
        repaired = store.messages.query(kind="repair", limit=100_000)
        repairs = {name: len([r for r in repaired if r["origin"] == name]) for name in PLATFORMS}
        fleet = self.fleet
        print(
            f"\n{len(self.ids)} plugs, {fleet.sent} changes sent ({fleet.lost} while away),"
            f" faults of {self.fault:g} s, {len(sampler.samples)} samples"
            f" ({sampler.skipped} skipped), Home Graph dropped {self.fakes.google.dropped} reports"
        )
        print(
            f"{'platform':<12} {'accuracy':>9} {'bridge says':>12} {'steady':>9}"
            f" {'own outage':>11} {'the rest':>9} {'converged':>10} repairs"
        )
        result = {}
        for name in PLATFORMS:
            said = own.get(name, (0.0, 0.0))[0]
            after = converged[name]
            shown = f"{after:.1f} s" if after is not None else "never"
            outage = sampler.accuracy(*self.windows[name])[name]
            rest = sampler.accuracy(began, outside=self.windows[name])[name]
            print(
                f"{name:<12} {whole[name]:>9.4%} {said:>12.4%} {steady[name]:>9.4%}"
                f" {outage:>11.4%} {rest:>9.4%} {shown:>10} {repairs[name]:>7}"
            )
            result[name] = {
                "accuracy": round(whole[name], 4),
                "accuracy_outside_own_outage": round(rest, 4),
                "converged_s": after,
                "repairs": repairs[name],
            }
        counts: dict[str, dict[str, int]] = {}
        for origin, outcome, count in store.messages.report_counts(self.user.id, 0.0):
            counts.setdefault(origin, {})[outcome] = count
        for name in PLATFORMS:
            print(f"  reports to {name}: {counts.get(name, {})}")
        for row in store.messages.query(kind="report", limit=100_000):
            if row["outcome"] == "dead-letter":
                print(f"  dead letter to {row['origin']}: {row['action']} {row['detail']}")
        for row in sorted(repaired, key=lambda r: r["at"]):
            print(f"  repair {row['origin']}: {row['detail']}")
        return result

    def close(self) -> None:
        self.client.stop()
        self.server.stop()
        self.store.close()
        self.redis.stop()
        self.postgres.stop()
        self.fakes.close()


def main() -> None:
    logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)  # our store, as PG restarts
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="12 plugs, 8 s faults")
    parser.add_argument("--devices", type=int)
    parser.add_argument("--fault", type=float, help="seconds each platform fails (60)")
    parser.add_argument(
        "--every", type=float, default=30.0, help="seconds between one plug's changes, on average"
    )
    parser.add_argument("--seed", type=int, default=1, help="of the plugs' changes")
    args = parser.parse_args()
    random.seed(args.seed)
    devices = args.devices or (12 if args.quick else 30)
    fault = args.fault or (8.0 if args.quick else 60.0)
    with tempfile.TemporaryDirectory() as work:
        run = Run(Path(work), devices, args.every, fault)
        try:
            run.faults()
            result = run.summary()
        finally:
            run.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
