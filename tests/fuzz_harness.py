"""The fuzzing layer's shared parts: profiles, strategies, and what every input must keep true.

Every entry point is fuzzed against the real server (gunicorn, gevent), and
each input is checked for the same four things: no 5xx, an answer in the
caller's own format, no state change when the input was refused, and no
unhandled exception in the server's log. The quick profile runs in
`make test`; `make fuzz` (BRIDGE_FUZZ=long) runs at least 10,000 inputs per
entry point and prints a table with the worker's memory before and after.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

LONG = os.environ.get("BRIDGE_FUZZ") == "long"
EXAMPLES = int(os.environ.get("BRIDGE_FUZZ_EXAMPLES", "10000" if LONG else "40"))

PROFILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG,  # the quick profile is the same inputs every run: no flakes
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)

# -- strategies -------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from(["", "On", "nan", "inf", "-1", "1e999", "LOCKED", "\u0000", "客厅", "3"])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
deep = st.integers(min_value=17, max_value=3000).map(lambda n: "[" * n + "]" * n)
garbage = (
    st.binary(max_size=300)
    | deep.map(str.encode)
    | st.sampled_from(
        [b"", b"{", b"[]", b"null", b'{"a":1,"a":2}', b"\xff\xfe", b'{"x":1e999}', b"1" * 5000]
    )
)


@st.composite
def mutated(draw: Callable, seed: Any) -> Any:
    """A valid document with one to three changes: a value swapped, a key dropped or added.

    Mutations reach the handlers (a well-formed envelope whose brightness is
    a list) where random bytes only ever reach the parser.
    """
    doc = json.loads(json.dumps(seed))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        parent, key = _resolve(doc, path)
        if parent is None:
            return draw(json_values)
        how = draw(st.sampled_from(["replace", "drop", "add"]))
        if how == "drop" and isinstance(parent, dict):
            parent.pop(key, None)
        elif how == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(json_values)
        else:
            parent[key] = draw(json_values)
    return doc


def _paths(doc: Any, prefix: tuple = ()) -> Any:
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _paths(value, (*prefix, i))


def _resolve(doc: Any, path: tuple) -> tuple[Any, Any]:
    if not path:
        return None, None
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    return parent, path[-1]


def bodies(*seeds: Any) -> st.SearchStrategy[bytes]:
    """Webhook bodies: mutated seeds most of the time, random JSON and raw garbage besides."""
    documents = st.one_of(*(mutated(seed) for seed in seeds)) | json_values
    return st.one_of(documents.map(lambda d: json.dumps(d).encode()), garbage)


# -- what every input must keep true --------------------------------------

STATE_TABLES = {
    "users": "*",
    "devices": "*",
    "shadow": "*",
    "platform_links": "*",
    "oauth_clients": "*",
    "oauth_codes": "*",
    "refresh_tokens": "*",
    "tokens": "*",
    "certificates": "*",
    "sigfox_types": "*",
    "sigfox_devices": "*",
    "sigfox_frames": "sigfox_id, seq, time",
    "pending_commands": "*",
    "households": "*",
    "household_members": "*",
    "household_invitations": "*",
    # when a key was last used is bookkeeping, like the history: any authenticated call
    "api_keys": "id, user_id, name, purpose, products, secret_hash, disabled, created_at",
}


def fingerprint(store: Any) -> str:
    """A digest of everything a refused input must leave as it was (history excluded)."""
    digest = hashlib.sha256()
    for table, columns in STATE_TABLES.items():  # the same on SQLite and PostgreSQL
        rows = store.db.execute(f"select {columns} from {table}").fetchall()
        for row in sorted(repr(tuple(r)) for r in rows):
            digest.update(row.encode())
    return digest.hexdigest()


def worker_rss_kb(master_pid: int) -> int:
    """The gunicorn worker's resident memory, from /proc (its master's only child)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    if not children:
        return 0
    for line in Path(f"/proc/{children[0]}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class Tally:
    inputs: int = 0
    server_errors: int = 0
    unhandled: int = 0
    state_changes: int = 0
    rss_before_kb: int = 0
    rss_after_kb: int = 0
    failures: list[str] = field(default_factory=list)


TALLIES: dict[str, Tally] = defaultdict(Tally)
_LOG_OFFSETS: dict[Path, int] = {}


class Watch:
    """Watches one entry point: the server log, the store and the worker's memory."""

    def __init__(self, name: str, server: Any, store: Any) -> None:
        self.name, self.server, self.store = name, server, store
        self.tally = TALLIES[name]
        # Where the last watch stopped reading: a line logged late is never skipped.
        self._offset = _LOG_OFFSETS.setdefault(server.log_path, server.log_path.stat().st_size)
        if not self.tally.rss_before_kb:
            self.tally.rss_before_kb = worker_rss_kb(server.proc.pid)

    def check(
        self, status: int, answered_in_format: bool, refused: bool, before: str, what: Any
    ) -> None:
        """Record one input's result; raise AssertionError with the input on any breach."""
        tally = self.tally
        tally.inputs += 1
        problems = []
        if status >= 500:
            tally.server_errors += 1
            problems.append(f"HTTP {status}")
        if not answered_in_format:
            problems.append("answer not in the caller's format")
        if refused and fingerprint(self.store) != before:
            tally.state_changes += 1
            problems.append("a refused input changed state")
        new_log = self._read_log()
        if "Traceback" in new_log:
            tally.unhandled += 1
            problems.append("unhandled exception logged:\n" + new_log[-2000:])
        if problems:
            tally.failures.append(f"{problems[0][:200]} for {str(what)[:300]}")
            raise AssertionError("; ".join(problems) + f"\ninput: {str(what)[:1000]}")

    def _read_log(self) -> str:
        """What the server logged since the last look (a late line counts for the next input)."""
        with self.server.log_path.open("rb") as fh:
            fh.seek(self._offset)
            data = fh.read()
        self._offset += len(data)
        _LOG_OFFSETS[self.server.log_path] = self._offset
        return data.decode("utf-8", "replace")

    def finish(self) -> None:
        """After the last input: anything logged late still counts; memory after."""
        time.sleep(0.05)
        late = self._read_log()
        self.tally.rss_after_kb = worker_rss_kb(self.server.proc.pid)
        if "Traceback" in late:
            self.tally.unhandled += 1
            raise AssertionError("unhandled exception logged:\n" + late[-2000:])


def report(path: Path) -> str:
    """The per-entry-point table `make fuzz` prints (and writes as JSON beside it)."""
    lines = [
        f"{'entry point':<28}{'inputs':>8}{'5xx':>6}{'unhandled':>11}{'state':>7}"
        f"{'RSS before':>12}{'RSS after':>11}"
    ]
    for name, t in sorted(TALLIES.items()):
        lines.append(
            f"{name:<28}{t.inputs:>8}{t.server_errors:>6}{t.unhandled:>11}{t.state_changes:>7}"
            f"{t.rss_before_kb / 1024:>10.1f}MB{t.rss_after_kb / 1024:>9.1f}MB"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: vars(v) for k, v in TALLIES.items()}, indent=2))
    return "\n".join(lines)
