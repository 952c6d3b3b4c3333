"""Round-trip benchmark: voice webhook -> device -> answer, against hello-world.

    python bench/roundtrip.py [--devices 1000] [--capacity 10000] [--seconds 10]

Starts the bridge under gunicorn (gevent, one worker) exactly as `make run`
does, connects simulated devices from a separate asyncio process, drives
concurrent commands through the test adapter plugin's webhook, then measures
a hello-world Flask POST endpoint under the same gunicorn settings in the
same run. Capacity mode holds many idle devices and reports the worker's RSS
per device and the command rate at that load. Prints figures, asserts nothing.
BENCH_GUNICORN_CONF names another gunicorn config (to add profiling hooks).
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
from bridge.store import Store  # noqa: E402
from bridge.store.secrets import Vault  # noqa: E402

PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SECRET_KEY = "bench-secret-key"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app: str, env: dict[str, str], root: Path = ROOT, wrap: tuple[str, ...] = ()):
    """`app` served as `make run` serves it, from `root` (another checkout, to compare),
    under `wrap` when given (a command that runs it: valgrind)."""
    port = free_port()
    full = {
        **os.environ,
        **env,
        "PORT": str(port),
        "PYTHONPATH": os.pathsep.join([str(root), str(root / "tests" / "plugins")]),
    }
    proc = subprocess.Popen(
        [
            *wrap,
            GUNICORN,
            "-c",
            os.environ.get("BENCH_GUNICORN_CONF", "config/gunicorn.conf.py"),
            app,
        ],
        cwd=root,
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while time.monotonic() - started < (600 if wrap else 60):  # valgrind starts slowly
            if proc.poll() is not None:
                raise RuntimeError(f"{app} exited at start (code {proc.returncode})")
            try:
                requests.get(url + "/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(20)


def worker_pid(master: subprocess.Popen) -> int:
    return int(Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()[0])


def worker_rss_kb(master: subprocess.Popen) -> int:
    status = Path(f"/proc/{worker_pid(master)}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])


def worker_cpu_seconds(master: subprocess.Popen) -> float:
    """CPU time of all the master's workers (user and system)."""
    total = 0
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    for pid in children:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def load(
    url: str,
    bodies: list[dict],
    args: argparse.Namespace,
    tmp: Path,
    master: subprocess.Popen,
    *extra: str,
    warm: bool = True,
) -> dict:
    """Run the load driver (after a second of warm-up, unless `warm` is False); add the
    server workers' CPU time per request."""
    path = tmp / f"bodies-{random.random()}.json"
    path.write_text(json.dumps(bodies))
    driver = [
        PYTHON,
        str(ROOT / "bench" / "load.py"),
        url,
        str(path),
        "--concurrency",
        str(args.concurrency),
        *extra,
        "--seconds",
        str(args.seconds),
    ]
    if warm:
        subprocess.run([*driver[:-1], "1", "--warmup", "0"], check=True, capture_output=True)
    cpu = worker_cpu_seconds(master)
    result = json.loads(
        subprocess.run(
            [*driver, "--warmup", "0"], check=True, capture_output=True, text=True
        ).stdout
    )
    total = result["requests"] + result["errors"]
    spent = worker_cpu_seconds(master) - cpu
    result["worker_cpu_us"] = round(spent / total * 1e6) if total else None
    return result


@contextmanager
def ready(command: list[str], what: str):
    """A helper process that prints `ready N` once its fleet is up; yields N."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"{what} failed to come online")
        yield int(line.split()[1])
    finally:
        proc.terminate()
        proc.wait(20)


@contextmanager
def fleet(url: str, app_key: str, secret: str, ids: list[str], tmp: Path):
    ids_file = tmp / f"ids-{len(ids)}.txt"
    ids_file.write_text("\n".join(ids))
    ws = "ws" + url[4:] + "/"
    script = str(ROOT / "bench" / "devices.py")
    with ready([PYTHON, script, ws, app_key, secret, str(ids_file)], "device fleet") as count:
        yield count


def database(tmp: Path) -> str:
    """Where a bench's bridge keeps its data: SQLite in `tmp`, unless BENCH_DATABASE names
    another (a PostgreSQL URL, for the scaled set-up)."""
    return os.environ.get("BENCH_DATABASE") or str(tmp / "bench.db")


def setup(tmp: Path, devices: int) -> tuple[dict[str, str], str, str, dict[str, str], list[str]]:
    env = {
        "BRIDGE_DATABASE": database(tmp),
        "BRIDGE_SECRET_KEY": SECRET_KEY,
        # One account drives the whole load, far past a household's pace: budgets that
        # never bite, so what they cost is measured, not what they refuse.
        "BRIDGE_DIRECTIVE_RATE": "1000000",
        "BRIDGE_DIRECTIVE_BURST": "1000000",
        "BRIDGE_COMMAND_RATE": "1000000",
        "BRIDGE_COMMAND_BURST": "1000000",
        "BRIDGE_WORKER_CONNECTIONS": str(devices + 2000),
        "BRIDGE_ADAPTERS": "echo",
    }
    store = Store(env["BRIDGE_DATABASE"], Vault(SECRET_KEY))
    user, secret = store.users.create("bench", "bench-password")
    with store.db.atomic():
        ids = [store.devices.create(user.id, "switch", f"Switch {i}").id for i in range(devices)]
    # A token works at the webhook of the platform it was issued to only.
    tokens = {
        name: store.tokens.issue(user.id, name, ttl=86400)
        for name in ("echo", "alexa", "xiaodu", "tmallgenie", "google")
    }
    store.close()
    return env, user.app_key, secret, tokens, ids


def setup_in(
    tree: Path, tmp: Path, devices: int
) -> tuple[dict[str, str], str, str, dict[str, str], list[str]]:
    """`setup` by another checkout's own code (its schema is its own), in a process of its
    own: what a comparison with an older commit needs."""
    code = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, 'bench');"
        " from roundtrip import setup;"
        f" print(json.dumps(setup(Path({str(tmp)!r}), {devices})))"
    )
    done = subprocess.run(
        [PYTHON, "-c", code],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=True,
        capture_output=True,
        text=True,
    )
    env, app_key, secret, tokens, ids = json.loads(done.stdout.splitlines()[-1])
    return env, app_key, secret, tokens, ids


def hello_run(url: str, ids: list[str], args: argparse.Namespace, tmp: Path, master) -> dict:
    """One run against the hello-world endpoint (the baseline)."""
    return load(url + "/hello", [{"device": i} for i in ids[:100]], args, tmp, master)


def unlink(env: dict[str, str], adapter: str) -> None:
    """End the link a platform's directives made (DuerOS and AliGenie keep their token to
    report with), so each platform is measured alone: no round pays for another's reports.
    The server notices the change (its caches follow the database) within 50 ms."""
    store = Store(env["BRIDGE_DATABASE"], Vault(SECRET_KEY))
    try:
        for user in store.users.list():
            if store.links(adapter).get(user.id) is not None:
                store.links(adapter).revoke(user.id, "the benchmark measures one platform")
    finally:
        store.close()
    time.sleep(0.2)


def commands(token: str, ids: list[str], n: int = 5000) -> list[dict]:
    return [
        {
            "token": token,
            "op": "command",
            "device": random.choice(ids),
            "action": "setPowerState",
            "value": {"state": random.choice(["On", "Off"])},
        }
        for _ in range(n)
    ]


def alexa_directives(token: str, ids: list[str], n: int = 5000) -> list[dict]:
    """Real Smart Home directives, as Alexa sends them."""
    return [
        {
            "directive": {
                "header": {
                    "namespace": "Alexa.PowerController",
                    "name": random.choice(["TurnOn", "TurnOff"]),
                    "payloadVersion": "3",
                    "messageId": f"m-{i}",
                    "correlationToken": f"c-{i}",
                },
                "endpoint": {
                    "scope": {"type": "BearerToken", "token": token},
                    "endpointId": random.choice(ids),
                    "cookie": {},
                },
                "payload": {},
            }
        }
        for i in range(n)
    ]


def dueros_directives(token: str, ids: list[str], n: int = 5000) -> list[dict]:
    """DuerOS TurnOn/TurnOff requests, as XiaoDu sends them."""
    return [
        {
            "header": {
                "namespace": "DuerOS.ConnectedHome.Control",
                "name": random.choice(["TurnOnRequest", "TurnOffRequest"]),
                "messageId": f"m-{i}",
                "payloadVersion": "1",
            },
            "payload": {
                "accessToken": token,
                "appliance": {"applianceId": random.choice(ids), "additionalApplianceDetails": {}},
            },
        }
        for i in range(n)
    ]


def aligenie_directives(token: str, ids: list[str], n: int = 5000) -> list[dict]:
    """AliGenie TurnOn/TurnOff controls (protocol v1), as Tmall Genie sends them."""
    return [
        {
            "header": {
                "namespace": "AliGenie.Iot.Device.Control",
                "name": (name := random.choice(["TurnOn", "TurnOff"])),
                "messageId": f"m-{i}",
                "payLoadVersion": 1,
            },
            "payload": {
                "accessToken": token,
                "deviceId": random.choice(ids),
                "deviceType": "switch",
                "attribute": "powerstate",
                "value": "on" if name == "TurnOn" else "off",
                "extensions": {},
            },
        }
        for i in range(n)
    ]


def google_executes(token: str, ids: list[str], n: int = 5000) -> list[dict]:
    """EXECUTE intents with one OnOff command, as Google sends them (the token is a header)."""
    return [
        {
            "requestId": f"r-{i}",
            "inputs": [
                {
                    "intent": "action.devices.EXECUTE",
                    "payload": {
                        "commands": [
                            {
                                "devices": [{"id": random.choice(ids)}],
                                "execution": [
                                    {
                                        "command": "action.devices.commands.OnOff",
                                        "params": {"on": random.choice([True, False])},
                                    }
                                ],
                            }
                        ]
                    },
                }
            ],
        }
        for i in range(n)
    ]


PLATFORMS = {
    # name: (webhook, directives, load options)
    "alexa": ("/voice/alexa", alexa_directives, ("--alexa",)),
    "xiaodu": (
        "/voice/xiaodu",
        dueros_directives,
        ("--expect", "TurnOnConfirmation,TurnOffConfirmation"),
    ),
    "tmallgenie": (
        "/voice/tmallgenie",
        aligenie_directives,
        ("--expect", "TurnOnResponse,TurnOffResponse"),
    ),
    "google": ("/voice/google", google_executes, ("--google",)),
}
BEARER = {"google"}
"""Platforms whose token comes as a header, not inside the body."""


def headers(name: str, token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if name in BEARER else {}


def options(name: str, token: str) -> list[str]:
    """The load driver's options for a platform's directives."""
    sent = [f"{k}: {v}" for k, v in headers(name, token).items()]
    return [*PLATFORMS[name][2], *(a for h in sent for a in ("--header", h))]


WRK = shutil.which("wrk")


def wrk_tail(
    url: str,
    bodies: list[dict],
    tmp: Path,
    seconds: float,
    concurrency: int,
    headers: dict[str, str] | None = None,
) -> dict:
    """Latency from wrk, a load driver in C (Debian `wrk`): the aiohttp driver is Python on
    the same two cores, and past 25 concurrent its own delays reach the p99."""
    script = tmp / f"wrk-{random.random()}.lua"
    quoted = ",".join(json.dumps(json.dumps(b)) for b in bodies[:500])
    sent = {"Content-Type": "application/json", **(headers or {})}
    lua_headers = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in sent.items())
    script.write_text(
        f"bodies = {{{quoted}}}\ni = 0\nrequest = function()\n  i = i % #bodies + 1\n"
        f"  return wrk.format('POST', nil, {{{lua_headers}}}, bodies[i])\n"
        "end\n"
    )
    out = subprocess.run(
        [
            WRK,
            "-t1",
            f"-c{concurrency}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        value = next(line.split()[1] for line in out.splitlines() if line.strip().startswith(label))
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
        unit = next(u for u in ("us", "ms", "s") if value.endswith(u))
        return round(float(value[: -len(unit)]) * scale[unit], 2)

    rate = next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec"))
    return {"rate": float(rate), "p50_ms": ms("50%"), "p99_ms": ms("99%")}


def _best(runs: list[dict]) -> dict:
    """The run with the median rate (of an odd or even number of runs, the upper middle)."""
    return sorted(runs, key=lambda r: r["rate"])[len(runs) // 2]


def throughput(args: argparse.Namespace, tmp: Path) -> dict:
    """Bridge and hello world, alternating for `rounds` rounds; the median of each side.

    Both servers stay up while the other is measured (idle, they cost nothing),
    so a noisy moment on the machine lands on both sides rather than on one.
    """
    env, app_key, secret, tokens, ids = setup(tmp / "throughput", args.devices)
    env["BRIDGE_ADAPTERS"] = "echo," + ",".join(PLATFORMS)
    runs: dict[str, list[dict]] = {"bridge": [], "hello": [], **{p: [] for p in PLATFORMS}}
    with (
        gunicorn("app:app", env) as (url, master),
        fleet(url, app_key, secret, ids, tmp),
        # A database of its own: one database takes one server.
        gunicorn("bench.hello:app", {**env, "BRIDGE_DATABASE": str(tmp / "hello.db")}) as (
            hello_url,
            hello_master,
        ),
    ):
        for _ in range(args.rounds):
            runs["bridge"].append(
                load(url + "/voice/echo", commands(tokens["echo"], ids), args, tmp, master)
            )
            runs["hello"].append(hello_run(hello_url, ids, args, tmp, hello_master))
            for name, (path, directives, _) in PLATFORMS.items():
                given = options(name, tokens[name])
                runs[name].append(
                    load(url + path, directives(tokens[name], ids), args, tmp, master, *given)
                )
                unlink(env, name)
        tails = {}
        if WRK:
            tail_seconds = min(args.seconds, 6)
            tails["bridge"] = wrk_tail(
                url + "/voice/echo",
                commands(tokens["echo"], ids),
                tmp,
                tail_seconds,
                args.concurrency,
            )
            for name, (path, directives, _) in PLATFORMS.items():
                tails[name] = wrk_tail(
                    url + path,
                    directives(tokens[name], ids),
                    tmp,
                    tail_seconds,
                    args.concurrency,
                    headers(name, tokens[name]),
                )
                unlink(env, name)
        # One request at a time: what the bridge adds to a single command's latency.
        solo_args = argparse.Namespace(**{**vars(args), "concurrency": 1})
        solo = {
            "hello": hello_run(hello_url, ids, solo_args, tmp, hello_master),
            "bridge": load(
                url + "/voice/echo", commands(tokens["echo"], ids), solo_args, tmp, master
            ),
            "alexa": load(
                url + "/voice/alexa",
                alexa_directives(tokens["alexa"], ids),
                solo_args,
                tmp,
                master,
                "--alexa",
            ),
        }
    best = {name: _best(found) for name, found in runs.items()}
    hello, bridge = best["hello"], best["bridge"]
    return {
        "solo": solo,
        "tails": tails,
        **best,
        "ratio": round(bridge["rate"] / hello["rate"], 3) if hello["rate"] else None,
        **{
            f"{name}_ratio": round(best[name]["rate"] / hello["rate"], 3) if hello["rate"] else None
            for name in PLATFORMS
        },
        "ratios": [
            round(b["rate"] / h["rate"], 3)
            for b, h in zip(runs["bridge"], runs["hello"], strict=True)
        ],
    }


def capacity(args: argparse.Namespace, tmp: Path) -> dict:
    env, app_key, secret, tokens, ids = setup(tmp / "capacity", args.capacity)
    with gunicorn("app:app", env) as (url, master):
        requests.get(url + "/", timeout=5)
        time.sleep(1)
        before = worker_rss_kb(master)
        with fleet(url, app_key, secret, ids, tmp):
            time.sleep(3)
            after = worker_rss_kb(master)
            online = requests.get(url + "/healthz", timeout=5).json()["devices_online"]
            rate = load(url + "/voice/echo", commands(tokens["echo"], ids), args, tmp, master)
    return {
        "devices": online,
        "rss_before_kb": before,
        "rss_after_kb": after,
        "kb_per_device": round((after - before) / max(online, 1), 1),
        "commands": rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--capacity", type=int, default=10000, help="0 skips capacity mode")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="alternating measurement rounds")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "throughput").mkdir()
        (tmp / "capacity").mkdir()
        result = {"throughput": throughput(args, tmp)}
        t = result["throughput"]
        print(f"devices connected: {args.devices}, concurrency {args.concurrency}")
        rows = (
            ("test adapter", t["bridge"]),
            *((name, t[name]) for name in PLATFORMS),
            ("hello world", t["hello"]),
        )
        for name_, r in rows:
            print(
                f"  {name_:15} {r['rate']:>8} cmd/s  p50 {r['p50_ms']} ms  "
                f"p99 {r['p99_ms']} ms  errors {r['errors']}  "
                f"worker CPU {r['worker_cpu_us']} us/request"
            )
        print(
            f"  ratio to hello world (medians of {args.rounds} alternating rounds): test adapter "
            f"{t['ratio']:.0%}, "
            + ", ".join(f"{name} {t[name + '_ratio']:.0%}" for name in PLATFORMS)
            + "; test adapter per round: "
            + ", ".join(f"{r:.0%}" for r in t["ratios"])
        )
        for name, r in t["tails"].items():
            label = "test adapter" if name == "bridge" else name
            print(
                f"  wrk, {label}: {r['rate']:.0f}/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms"
                f"  (p99 / p50 {r['p99_ms'] / r['p50_ms']:.1f})"
            )
        if not t["tails"]:
            print("  (install wrk for latencies measured by a driver in C)")
        solo = t["solo"]
        for name in ("bridge", "alexa"):
            r, h = solo[name], solo["hello"]
            print(
                f"  concurrency 1, {'test adapter' if name == 'bridge' else name}: p50 "
                f"{r['p50_ms']} ms (+{r['p50_ms'] - h['p50_ms']:.2f} ms over hello world's "
                f"{h['p50_ms']}), p99 {r['p99_ms']} ms (+{r['p99_ms'] - h['p99_ms']:.2f} ms over "
                f"{h['p99_ms']})"
            )
        if args.capacity:
            c = result["capacity"] = capacity(args, tmp)
            r = c["commands"]
            print(
                f"idle devices held: {c['devices']}, worker RSS {c['rss_before_kb']} -> "
                f"{c['rss_after_kb']} KB, {c['kb_per_device']} KB per device"
            )
            print(
                f"  commands at that load: {r['rate']} cmd/s  p50 {r['p50_ms']} ms  "
                f"p99 {r['p99_ms']} ms  errors {r['errors']}; "
                f"{r['rate'] / t['bridge']['rate']:.0%} of the rate at {args.devices} devices"
            )
        print(json.dumps(result))


if __name__ == "__main__":
    main()
