"""What each platform holds of each device: the values it was last told and took.

A row per (platform, person, device, property): written when a report is
acknowledged (`told`), or when a platform that can be read back says it
holds something else (`held`, with what it holds). The state-accuracy check
compares the rows with the shadow; the accuracy samples it takes are kept
here too, for the console, the metrics and the alerts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bridge.store.sql import Database
from bridge.store.writer import WriteBehind

UPSERT = (
    "insert into beliefs (adapter, user_id, device_id, property, instance, value, told_at,"
    " source) values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (adapter, user_id, device_id,"
    " property, instance) do update set value = excluded.value,"
    " told_at = excluded.told_at, source = excluded.source"
)
COMPARE = (
    "select b.adapter, b.user_id, b.device_id, b.property, b.instance, b.value, s.value,"
    " b.told_at, b.source, b.drift_since from beliefs b join shadow s"
    " on s.device_id = b.device_id and s.property = b.property and s.instance = b.instance"
)
DRIFT = (
    "update beliefs set drift_since = ? where adapter = ? and user_id = ? and device_id = ?"
    " and property = ? and instance = ?"
)


@dataclass(frozen=True)
class Pair:
    """One (platform, person, device, property) and what each side has."""

    adapter: str
    user_id: int
    device_id: str
    name: str
    held: Any
    actual: Any
    told_at: float
    source: str
    drift_since: float | None = None
    """Since when the accuracy check has seen the two disagree (None: they agreed)."""

    @property
    def agrees(self) -> bool:
        return self.held == self.actual

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.adapter, self.user_id, self.device_id, self.name)


@dataclass(frozen=True)
class Sample:
    adapter: str
    at: float
    span: float
    pairs: int
    agreeing: int


def _split(name: str) -> tuple[str, str]:
    prop, _, instance = name.partition(":")
    return prop, instance


class Beliefs:
    def __init__(self, db: Database, writer: WriteBehind) -> None:
        self.db = db
        self.writer = writer

    def told(
        self,
        adapter: str,
        user_id: int,
        device_id: str,
        values: Mapping[str, Any],
        at: float,
        source: str = "report",
        behind: bool = False,
    ) -> None:
        """The platform now holds `values` (by shadow name) of the device; `behind`: written
        with the history (a command's own reply, on the command's path)."""
        rows = [
            (adapter, user_id, device_id, *_split(name), json.dumps(value), at, source)
            for name, value in values.items()
        ]
        if behind:
            for row in rows:
                self.writer.add(UPSERT, row)
        elif rows:
            self.db.executemany(UPSERT, rows)

    def pairs(self, user_id: int | None = None) -> list[Pair]:
        """Every pair a platform was told and the shadow still has, with both values (of one
        person's platforms, with `user_id`)."""
        where, params = (" where b.user_id = ?", (user_id,)) if user_id is not None else ("", ())
        rows = self.db.execute(COMPARE + where, params).fetchall()
        return [
            Pair(a, u, d, f"{p}:{i}" if i else p, json.loads(held), json.loads(has), *rest)
            for a, u, d, p, i, held, has, *rest in rows
        ]

    def drifted(self, pairs: Iterable[Pair], since: float | None) -> None:
        """Mark pairs as disagreeing since `since` (None: agreeing again)."""
        rows = [(since, p.adapter, p.user_id, p.device_id, *_split(p.name)) for p in pairs]
        if rows:
            self.db.executemany(DRIFT, rows)

    def forget(self, adapter: str, user_id: int, device_id: str | None = None) -> None:
        """A platform that no longer holds a person's device (or any of theirs)."""
        if device_id is None:
            self.db.execute(
                "delete from beliefs where adapter = ? and user_id = ?", (adapter, user_id)
            )
        else:
            self.db.execute(
                "delete from beliefs where adapter = ? and user_id = ? and device_id = ?",
                (adapter, user_id, device_id),
            )

    def forget_device(self, device_id: str) -> None:
        self.db.execute("delete from beliefs where device_id = ?", (device_id,))

    # -- samples --------------------------------------------------------------------

    def sampled(self, samples: Iterable[Sample]) -> None:
        self.db["accuracy_samples"].insert_all(
            {
                "adapter": s.adapter,
                "at": s.at,
                "span": s.span,
                "pairs": s.pairs,
                "agreeing": s.agreeing,
            }
            for s in samples
        )

    def accuracy(self, since: float) -> dict[str, tuple[float, float]]:
        """Each platform's time-weighted accuracy since `since`: (ratio 0-1, seconds covered).

        A sample's ratio counts for the time it covers (`span`), so a minute of
        drift weighs a minute whatever the sampling rate; a sample of no pairs
        (nothing told yet) counts as agreeing."""
        rows = self.db.execute(
            "select adapter, sum(span * (case when pairs > 0 then 1.0 * agreeing / pairs"
            " else 1.0 end)), sum(span) from accuracy_samples where at >= ? group by adapter",
            (since,),
        ).fetchall()
        return {
            adapter: (weighted / span if span else 1.0, span) for adapter, weighted, span in rows
        }

    def latest(self) -> dict[str, Sample]:
        """Each platform's newest sample."""
        rows = self.db.execute(
            "select adapter, at, span, pairs, agreeing from accuracy_samples a where at ="
            " (select max(at) from accuracy_samples b where b.adapter = a.adapter)"
        ).fetchall()
        return {row[0]: Sample(*row) for row in rows}

    def prune(self, older_than: float) -> None:
        self.db.execute("delete from accuracy_samples where at < ?", (older_than,))
