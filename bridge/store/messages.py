"""Message history: every request, response, event, report and rejection."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from bridge.store.sampling import REFUSED, RefusalSampler, Summary
from bridge.store.sql import Database
from bridge.store.writer import WriteBehind

MAX_PAYLOAD_CHARS = 4096
LISTED = (
    "id",
    "at",
    "device_id",
    "direction",
    "kind",
    "action",
    "outcome",
    "latency_ms",
    "origin",
    "detail",
    "journey",
    "via",
    "directive",
    "reply",
    "received_at",
    "served_ms",
    "member",
)
"""What lists and streams show: no user id, no payloads."""
COLUMNS = ("at", "user_id", *LISTED[2:], "payload", "response")
"""What a recorded entry writes, in `record`'s order."""
# Raw SQL on the hot path: sqlite-utils' insert introspects the table on every call.
INSERT = f"insert into messages ({', '.join(COLUMNS)}) values ({', '.join('?' * len(COLUMNS))})"


@dataclass
class Entry:
    direction: str  # in (device to bridge) | out (bridge to device or platform)
    kind: str  # request | response | event | report | rejection | connection
    outcome: str  # ok | error | timeout | offline | refused | rejected | flagged | ...
    device_id: str | None = None
    user_id: int | None = None
    action: str | None = None
    latency_ms: float | None = None
    origin: str | None = None
    detail: str | None = None
    payload: Any = None
    at: float = 0.0
    response: Any = None
    """For a request: the device's response payload."""
    journey: str | None = None
    via: str | None = None
    """For a device request: the transport and the worker that sent it."""
    directive: str | None = None
    """For a device request a webhook made (bridge.journeys.hold), the webhook's hop on the
    same row: the directive, the reply (`HTTP 200`, and the platform error it carries), when
    the call came and how long it took to answer."""
    reply: str | None = None
    received_at: float | None = None
    served_ms: float | None = None
    member: int | None = None
    """The household member who sent a command to the owner's device (None: the owner)."""
    source: str | None = None
    """Who sent it (an address), for a refusal of nobody's account: the sampler's key.
    Not a column: the row counting a minute's refusals names it."""


def rejection(
    device_id: str | None,
    user_id: int | None,
    detail: str,
    *,
    action: str | None = None,
    payload: Any = None,
) -> Entry:
    """A device message (or a value in one) the bridge refused: recorded, never applied."""
    return Entry(
        "in", "rejection", "rejected", device_id, user_id, action, detail=detail, payload=payload
    )


def late_answer(
    device_id: str, user_id: int, journey: str | None, after: float, waited: float, **kw: Any
) -> Entry:
    """A device's answer that came after its wait gave up: its journey's last hop. The
    device did answer (not a refusal): the journey says how late."""
    return Entry(
        "in",
        "response",
        "late",
        device_id,
        user_id,
        detail=f"answered after {after:.1f} s, past the {waited:g} s wait",
        journey=journey,
        latency_ms=after * 1000,
        **kw,
    )


class Messages:
    def __init__(self, db: Database, writer: WriteBehind) -> None:
        self.db = db
        self.writer = writer
        self._recorded: set[int | None] = set()
        self.sampler = RefusalSampler()

    def take_recorded(self) -> set[int | None]:
        """The users whose history was recorded since the last call (live streams wake)."""
        users, self._recorded = self._recorded, set()
        return users

    def record(self, entry: Entry) -> bool:
        """Queue the entry (written with the next flush); False when it was only counted.

        A refusal of nobody's account (no user, no device) is sampled: the first
        few per source a minute in full, then a count."""
        if entry.user_id is None and entry.device_id is None and entry.outcome in REFUSED:
            keep, ended = self.sampler.admit(entry.kind, entry.origin or "", entry.source or "?")
            self._summarize(ended)
            if not keep:
                return False
        self.writer.add(INSERT, _row(entry))
        self._recorded.add(entry.user_id)
        if entry.member is not None:  # the member's own history moved too
            self._recorded.add(entry.member)
        return True

    def roll_refusals(self) -> None:
        """Write the counts of a minute of sampled refusals that has ended."""
        self._summarize(self.sampler.roll())

    def _summarize(self, ended: list[Summary]) -> None:
        for summary in ended:
            entry = Entry("in", summary.kind, "sampled", origin=summary.origin or None)
            entry.detail, entry.at = summary.detail, summary.minute + 60
            self.writer.add(INSERT, _row(entry))
            self._recorded.add(None)

    def write(self, entry: Entry) -> None:
        """Write the entry now, in the transaction open on this connection (with what it
        must not be split from: an event and its report)."""
        self.db.execute(INSERT, _row(entry))
        self._recorded.add(entry.user_id)
        if entry.member is not None:
            self._recorded.add(entry.member)

    def last_heard(self, device_id: str) -> float | None:
        """When the device last sent anything (a connection, an event, an answer)."""
        return self.db.execute(
            "select max(at) from messages where device_id = ? and direction = 'in'", (device_id,)
        ).fetchone()[0]

    def requests_of(self, origin: str, since: float) -> list[tuple]:
        """(at, outcome, latency_ms, detail) of one origin's requests since a time, newest first."""
        return self.db.execute(
            "select at, outcome, latency_ms, detail from messages where origin = ? and at >= ?"
            " and kind = 'request' order by id desc",
            (origin, since),
        ).fetchall()

    def query(
        self,
        *,
        device_id: str | None = None,
        user_id: int | None = None,
        kind: str | None = None,
        since: float | None = None,
        limit: int = 100,
        journey: str | None = None,
    ) -> list[dict[str, Any]]:
        """Newest first. In the server, entries of the last ~50 ms may still be queued."""
        where, args = [], []
        for column, value in (
            ("device_id", device_id),
            ("user_id", user_id),
            ("kind", kind),
            ("journey", journey),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            where.append("at >= ?")
            args.append(since)
        rows: Iterator[dict] = self.db["messages"].rows_where(
            " and ".join(where) or None, args, order_by="id desc", limit=limit
        )
        return list(rows)

    def page(
        self,
        user_id: int,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int = 50,
        device_ids: list[str] | None = None,
        oldest_first: bool = False,
        sent_too: bool = False,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        """One user's history, newest first, without payloads (what lists and streams show).

        `sent_too`: with the commands the user sent to their households' devices (rows
        of the owners' history that name them as the member);
        `device_ids` limits it to those devices (plus entries of no device);
        `since`/`until` bound the time, other filters match a column exactly.
        `oldest_first`: the `limit` oldest rows after `after`, oldest first (what a
        stream reads next: none skipped however many came at once).
        """
        where, args = ["user_id = ?", "id > ?"], [user_id, after]
        if sent_too:
            where[0], args = "(user_id = ? or member = ?)", [user_id, user_id, after]
        if before is not None:
            where.append("id < ?")
            args.append(before)
        if device_ids == []:  # a scope with no device: entries of no device only
            where.append("device_id is null")  # (`in ()` is an error on PostgreSQL)
        elif device_ids is not None:
            where.append(f"(device_id in ({','.join('?' * len(device_ids))}) or device_id is null)")
            args.extend(device_ids)
        for column, value in filters.items():
            if value is not None and value != "":
                assert column in LISTED or column in ("since", "until")
                where.append({"since": "at >= ?", "until": "at < ?"}.get(column, f"{column} = ?"))
                args.append(value)
        self.writer.flush()
        rows = self.db.execute(
            f"select {', '.join(LISTED)} from messages where {' and '.join(where)}"
            f" order by id {'asc' if oldest_first else 'desc'} limit ?",
            [*args, limit],
        )
        return [dict(zip(LISTED, row, strict=True)) for row in rows.fetchall()]

    def journey_of(self, user_id: int | None, message_id: int) -> str | None:
        """The journey a message (of the user, or sent by them to a household's device;
        anyone's when None) belongs to; None when there is no such message or it has none."""
        self.writer.flush()
        row = self.db.execute(
            "select journey, user_id, member from messages where id = ?", (message_id,)
        ).fetchone()
        return row[0] if row and (user_id is None or user_id in (row[1], row[2])) else None

    def requests_since(self, user_id: int, since: float) -> list[tuple]:
        """(at, origin, outcome, latency_ms) of a user's commands since a time (what the
        console's charts and service levels are computed from; at most 50,000, the newest)."""
        self.writer.flush()
        return self.db.execute(
            "select at, origin, outcome, latency_ms from messages where user_id = ? and"
            " kind = 'request' and at >= ? order by id desc limit 50000",
            (user_id, since),
        ).fetchall()

    def report_counts(self, user_id: int, since: float) -> list[tuple]:
        """(platform, outcome, count) of a user's report attempts since a time."""
        return self.db.execute(
            "select origin, outcome, count(*) from messages where user_id = ? and"
            " kind = 'report' and at >= ? group by origin, outcome",
            (user_id, since),
        ).fetchall()

    def refused_reports(self, user_id: int, since: float) -> dict[str, str]:
        """Platforms that answered a user's reports 401 or 403 since a time: their last word."""
        rows = self.db.execute(
            "select origin, detail from messages where user_id = ? and kind = 'report' and"
            " at >= ? and outcome in ('retry', 'dead-letter', 'revoked') and"
            " (detail like '% 401%' or detail like '% 403%') order by id",
            (user_id, since),
        ).fetchall()
        return {origin: detail for origin, detail in rows if origin}

    def connections_since(
        self, user_id: int, since: float, shared: list[str] | None = None
    ) -> list[tuple]:
        """(device_id, at, outcome) of a user's connection rows since a time, oldest first;
        with those of the `shared` devices (their households', whose rows are the owners')."""
        found = self.db.execute(
            "select device_id, at, outcome from messages where user_id = ? and"
            " kind = 'connection' and at >= ? order by id",
            (user_id, since),
        ).fetchall()
        if shared:  # by the (device_id, at) index
            found += self.db.execute(
                f"select device_id, at, outcome from messages where device_id in"
                f" ({', '.join('?' * len(shared))}) and kind = 'connection' and at >= ?"
                " order by id",
                (*shared, since),
            ).fetchall()
        return found

    def heard_since(self, device_ids: list[str], since: float) -> list[tuple]:
        """(device_id, at) of every event of these devices since a time, oldest first (at
        most 5,000: a chart's marks, not the history). The caller checked the reach."""
        if not device_ids:
            return []
        marks = ", ".join("?" * len(device_ids))
        return self.db.execute(
            f"select device_id, at from messages where device_id in ({marks}) and"
            " kind = 'event' and at >= ? order by id limit 5000",
            (*device_ids, since),
        ).fetchall()

    def connection_before(self, device_id: str, at: float) -> dict[str, Any] | None:
        """The device's last connection entry (connected, closed and why) before a time."""
        row = self.db.execute(
            "select at, outcome, detail from messages where device_id = ? and kind = 'connection'"
            " and at <= ? order by id desc limit 1",
            (device_id, at),
        ).fetchone()
        return dict(zip(("at", "outcome", "detail"), row, strict=True)) if row else None

    def prune(self, older_than: float) -> int:
        """Drop entries older than a time (the retention setting); return how many."""
        first_kept = self.db.execute(
            "select id from messages where at >= ? order by id limit 1", [older_than]
        ).fetchone()
        if first_kept is None:
            cursor = self.db.execute("delete from messages where at < ?", [older_than])
        else:
            cursor = self.db.execute("delete from messages where id < ?", [first_kept[0]])
        return cursor.rowcount


def _text(payload: Any) -> str | None:
    """A payload as stored: JSON text, cut at MAX_PAYLOAD_CHARS."""
    if payload is None:
        return None
    text = payload if isinstance(payload, str) else orjson.dumps(payload).decode()
    return text[:MAX_PAYLOAD_CHARS]


def _row(entry: Entry) -> tuple:
    return (
        entry.at or time.time(),
        entry.user_id,
        entry.device_id,
        entry.direction,
        entry.kind,
        entry.action,
        entry.outcome,
        entry.latency_ms,
        entry.origin,
        entry.detail[:500] if entry.detail else entry.detail,
        entry.journey,
        entry.via,
        entry.directive,
        entry.reply,
        entry.received_at,
        entry.served_ms,
        entry.member,
        _text(entry.payload),
        _text(entry.response),
    )
