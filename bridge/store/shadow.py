"""The device shadow: last known value of each property, with its time of sample."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bridge.catalog import shadow_name
from bridge.store.sql import Database
from bridge.store.writer import WriteBehind

SELECT = "select property, instance, value, sampled_at from shadow where device_id = ?"
UPSERT = (
    "insert into shadow (device_id, property, instance, value, sampled_at) values (?, ?, ?, ?, ?)"
    " on conflict (device_id, property, instance)"
    " do update set value = excluded.value, sampled_at = excluded.sampled_at"
)


PERSIST_UNCHANGED_EVERY = 60.0
HEARD_FOR = 1.0
"""Seconds another worker's change is kept for a device this worker has no copy of."""
MAX_HEARD = 100_000


class Shadow:
    """Reads come from a per-process cache once a device has been seen; writes go behind.

    A changed value is written at once (behind); a value confirmed unchanged
    only refreshes its time of sample in the cache, and on disk at most once
    a minute, so a device confirming the same state over and over costs no I/O.
    With several workers, the changes are kept for the others (`take_changes`)
    and `on_change` is called: the store announces all that were made in one
    turn of the event loop in one notice (a notice per command cost the
    announcing worker a wait and every worker a message), and the others
    `merge` them into their copy. A worker with no copy yet keeps what it heard
    for a second and merges it into the copy it loads (the database may still
    lack it: written behind).
    """

    def __init__(self, db: Database, writer: WriteBehind) -> None:
        self.db = db
        self.writer = writer
        self._cache: dict[str, dict[str, dict[str, Any]]] = {}
        self._persisted: dict[tuple[str, str], float] = {}
        self.on_change: Callable[[], None] | None = None
        self._changes: dict[str, dict[str, dict[str, Any]]] = {}
        self._heard: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}

    def update(
        self, device_id: str, props: dict[str, Any], instance: str | None, at: float
    ) -> dict[str, Any]:
        """Record properties; return those whose value changed, by shadow name."""
        if not props:
            return {}
        state = self._cache.get(device_id)
        if state is None:
            # On PostgreSQL the load yields to other greenlets: one updating the same
            # device meanwhile has stored its copy, which must not be replaced.
            loaded = self._load(device_id)
            state = self._cache.setdefault(device_id, loaded)
        key = instance or ""
        changed = {}
        entries = {}
        for prop, value in props.items():
            name = shadow_name(prop, key)
            old = state.get(name)
            state[name] = {"value": value, "sampled_at": at}
            if old is None or old["value"] != value:
                changed[name] = value
                entries[name] = state[name]
            elif at - self._persisted.get((device_id, name), 0.0) < PERSIST_UNCHANGED_EVERY:
                continue
            self._persisted[(device_id, name)] = at
            self.writer.add(UPSERT, (device_id, prop, key, json.dumps(value), at))
        if entries and self.on_change is not None:
            self._changes.setdefault(device_id, {}).update(entries)
            self.on_change()
        return changed

    def take_changes(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The changes since the last call, by device, for the other workers."""
        changes, self._changes = self._changes, {}
        return changes

    def untake(self, changes: dict[str, dict[str, dict[str, Any]]]) -> None:
        """Changes that could not be announced: kept for the next call (newer ones win)."""
        for device_id, entries in changes.items():
            kept = self._changes.setdefault(device_id, {})
            for name, entry in entries.items():
                kept.setdefault(name, entry)

    def merge(self, device_id: str, entries: dict[str, dict[str, Any]]) -> None:
        """Another worker's changes: into this worker's copy, newest wins (or kept a while
        for the copy this worker will load)."""
        state = self._cache.get(device_id)
        if state is not None:
            _newest(state, entries)
            return
        now = time.monotonic()
        if len(self._heard) > MAX_HEARD:
            self._heard = {d: h for d, h in self._heard.items() if h[0] > now}
        _, kept = self._heard.get(device_id, (0.0, {}))
        self._heard[device_id] = (now + HEARD_FOR, _newest(dict(kept), entries))

    def forget(self, device_id: str) -> None:
        """Another worker deleted the device."""
        self._cache.pop(device_id, None)
        self._heard.pop(device_id, None)

    def get(self, device_id: str) -> dict[str, dict[str, Any]]:
        """`{property[:instance]: {"value": ..., "sampled_at": ...}}` (a copy)."""
        state = self._cache.get(device_id)
        return dict(state) if state is not None else self._load(device_id)

    def values(self, device_id: str) -> dict[str, Any]:
        """The shadow as plain values, as a report carries it."""
        return {name: entry["value"] for name, entry in self.get(device_id).items()}

    def delete(self, device_id: str) -> None:
        self._cache.pop(device_id, None)
        for key in [k for k in self._persisted if k[0] == device_id]:
            del self._persisted[key]
        self.db.execute("delete from shadow where device_id = ?", (device_id,))

    def _load(self, device_id: str) -> dict[str, dict[str, Any]]:
        rows = self.db.execute(SELECT, (device_id,))
        state = {
            shadow_name(prop, instance): {"value": json.loads(value), "sampled_at": sampled_at}
            for prop, instance, value, sampled_at in rows
        }
        heard = self._heard.get(device_id)  # until the written-behind rows are surely in
        if heard is not None and heard[0] > time.monotonic():
            _newest(state, heard[1])
        return state


def _newest(state: dict[str, dict[str, Any]], entries: dict[str, dict[str, Any]]) -> dict:
    """Entries into a state where they are at least as new as what it has."""
    for name, entry in entries.items():
        old = state.get(name)
        if old is None or old["sampled_at"] <= entry["sampled_at"]:
            state[name] = entry
    return state
