"""A journey's hops in order, and one sentence that says what went wrong.

The hops are history rows (the webhook and its reply, the device request
and its answer, each report attempt; a webhook that made one device request
is on that request's row) and outbox rows (each report queued),
all carrying one journey id. The sentence is computed from them alone, in
the words a person asks with: "why did the assistant say the device is not
responding?" Platforms are named by their adapter's `title`, and their
deadline is the adapter's own (`deadline`), so this module names none.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

LATE_HOP = "device answer, too late"
"""The hop of an answer that came after its wait gave up (the device did answer)."""
SLOW_MS = 1000.0
"""An answered command slower than this is explained as slow (a platform's p90 target)."""


@dataclass(frozen=True)
class Platform:
    title: str
    deadline: float | None = None


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def journey(
    journey_id: str,
    messages: list[dict[str, Any]],
    reports: list[dict[str, Any]],
    platforms: Mapping[str, Platform],
    last_connection: Callable[[str, float], dict[str, Any] | None],
) -> dict[str, Any]:
    """A journey as the API, the console and the CLI give it: its hops in order (`messages`
    oldest first) and the sentence that explains it."""
    return {
        "journey": journey_id,
        "hops": hops(messages, reports),
        "explanation": explain(messages, platforms, last_connection),
    }


def hops(messages: list[dict[str, Any]], reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every hop with its time, oldest first, and the milliseconds since the one before."""
    found: list[dict[str, Any]] = []
    for row in messages:
        latency = row.get("latency_ms") or 0.0
        if row["kind"] == "webhook":  # one row: received, then replied `latency` later
            found.append(_hop(row["at"] - latency / 1000, "webhook received", row, "ok", None))
            found.append(_hop(row["at"], "reply to the platform", row, row["outcome"]))
        elif row["kind"] == "request":
            webhook = {**row, "action": row.get("directive")}
            if row.get("reply") is not None:  # the webhook that made it, on the same row
                found.append(_hop(row["received_at"], "webhook received", webhook, "ok", None))
            found.append(_hop(row["at"] - latency / 1000, "device request sent", row, "ok", None))
            found.append(_hop(row["at"], "device answer", row, row["outcome"]))
            if row.get("reply") is not None:
                served = row["received_at"] + (row.get("served_ms") or 0.0) / 1000
                outcome = _reply_outcome(row)
                found.append(_hop(served, "reply to the platform", webhook, outcome, row["reply"]))
        elif row["kind"] == "response":  # a pending command's end, or an answer too late
            name = LATE_HOP if row["outcome"] == "late" else "device answer, after pending"
            found.append(_hop(row["at"], name, row, row["outcome"]))
        elif row["kind"] == "report":
            found.append(_hop(row["at"], "report delivery", row, row["outcome"]))
        else:
            found.append(_hop(row["at"], row["kind"], row, row["outcome"]))
    for report in reports:
        found.append(
            {
                "at": report["created_at"],
                "hop": "report queued",
                "platform": report["adapter"],
                "outcome": "queued",
                "detail": None,
            }
        )
    found.sort(key=lambda h: h["at"])
    previous = None
    for hop in found:
        hop["after_ms"] = None if previous is None else round((hop["at"] - previous) * 1000, 1)
        previous = hop["at"]
    return found


NOTHING_WRONG = "Nothing went wrong."
"""What a journey says when `explain` has nothing to explain."""


def shown(
    hop: dict[str, Any], names: Mapping[str, str], people: Mapping[int, str] | None = None
) -> dict[str, str]:
    """A hop in the words the console and the CLI both show it with: the time since the
    one before (`start` for the first), who (the device's name, else the platform), what
    (the action, the transport a request went by, the household member who sent it) and
    its outcome and detail."""
    what = [hop["action"]] if hop.get("action") else []
    if hop.get("via") and hop["hop"] == "device request sent":
        what.append(f"via {hop['via']}")
    if hop.get("member"):
        what.append(f"by {(people or {}).get(hop['member'], hop['member'])}")
    return {
        "after": "start" if hop["after_ms"] is None else f"+{hop['after_ms']:.0f} ms",
        "hop": hop["hop"],
        "who": names.get(hop.get("device_id") or "", "") or hop.get("platform") or "",
        "what": " ".join(what),
        "outcome": hop["outcome"],
        "detail": str(hop["detail"]) if hop.get("detail") else "",
        "fine": "yes" if hop["outcome"] in ("ok", "queued") else "",
    }


def _reply_outcome(row: dict[str, Any]) -> str:
    """A reply on a request's row ("HTTP 200", then the platform error if any) as an outcome,
    by the rule a webhook's own row is judged by (bridge.http.webhooks): an error, or >= 400."""
    status, _, error = row["reply"].removeprefix("HTTP ").partition(" ")
    return "error" if error or not status.isdigit() or int(status) >= 400 else "ok"


def _hop(
    at: float, name: str, row: dict[str, Any], outcome: str, detail: Any = ...
) -> dict[str, Any]:
    """A hop from a history row; the first of a row's two hops carries no detail."""
    return {
        "at": at,
        "hop": name,
        "platform": row.get("origin"),
        "device_id": row.get("device_id"),
        "action": row.get("action"),
        "outcome": outcome,
        "detail": row.get("detail") if detail is ... else detail,
        "via": row.get("via"),
        "message_id": row.get("id"),
        "member": row.get("member"),
    }


def explain(
    messages: list[dict[str, Any]],
    platforms: Mapping[str, Platform],
    last_connection: Callable[[str, float], dict[str, Any] | None],
) -> str | None:
    """One sentence for a failed or slow journey; None when nothing went wrong."""

    def title(name: str | None) -> str:
        found = platforms.get(name or "")
        return found.title if found else (name or "the caller")

    # a device answer that came after the wait, with its lateness as latency
    late = next((r for r in messages if r["kind"] == "response" and r["outcome"] == "late"), None)
    ended = next((r for r in messages if r["kind"] == "response" and r is not late), None)
    for row in messages:
        if row["kind"] == "request" and row["outcome"] == "timeout" and late:
            return _late(row, late, title(row.get("origin")), platforms)
        if row["kind"] == "request" and row["outcome"] == "pending" and ended:
            if ended["outcome"] != "ok":
                return f"the device did not carry out the queued command: {ended.get('detail')}"
            continue
        if row["kind"] == "request" and row["outcome"] != "ok":
            return _device_trouble(row, title(row.get("origin")), platforms, last_connection)
    for row in messages:
        if row["kind"] == "report" and row["outcome"] in REPORT_TROUBLE:
            return _report_trouble(row, title(row.get("origin")))
    for row in messages:
        if row["kind"] == "webhook" and row["outcome"] != "ok":
            return f"the bridge answered {title(row.get('origin'))} {row.get('detail')}"
        if row["kind"] == "request" and row.get("reply") and _reply_outcome(row) != "ok":
            return f"the bridge answered {title(row.get('origin'))} {row['reply']}"
        if row["kind"] == "rejection":
            return f"the device's answer was refused: {row.get('detail')}"
        if row["outcome"] == "throttled" and row["kind"] != "report":  # a budget bit
            return f"throttled: {row.get('detail')}"
    for row in messages:
        if row["kind"] == "request" and (row.get("latency_ms") or 0) > SLOW_MS:
            return f"the device took {row['latency_ms'] / 1000:.1f} s to answer"
    return None


def _device_trouble(
    row: dict[str, Any],
    who: str,
    platforms: Mapping[str, Platform],
    last_connection: Callable[[str, float], dict[str, Any] | None],
) -> str:
    outcome, detail = row["outcome"], row.get("detail") or ""
    seconds = (row.get("latency_ms") or 0) / 1000
    if outcome == "offline":
        closed = last_connection(row["device_id"], row["at"]) if row.get("device_id") else None
        if closed and closed["outcome"] == "offline":
            why = f" ({closed['detail']})" if closed.get("detail") else ""
            return f"the device was offline since {_clock(closed['at'])}{why}"
        return "the device was offline: it has not connected"
    if outcome == "disconnected":
        return "the device disconnected before it answered"
    if outcome == "timeout":
        found = platforms.get(row.get("origin") or "")
        deadline = found.deadline if found else None
        if deadline:
            return f"the device did not answer within {who}'s {deadline:g} s deadline"
        return f"the device did not answer within {seconds:.1f} s"
    if outcome == "refused":
        return f"the device refused: {detail}" if detail else "the device refused the command"
    if outcome == "pending":
        return "the device accepted the command; its result comes later"
    return f"the command failed ({outcome}): {detail}".rstrip(": ")


def _late(
    row: dict[str, Any], late: dict[str, Any], who: str, platforms: Mapping[str, Platform]
) -> str:
    """The device did it, but too late: "answered after 9.2 s, past <platform>'s 8 s deadline"."""
    after = f"{late['latency_ms'] / 1000:.1f}"
    found = platforms.get(row.get("origin") or "")
    if found and found.deadline:
        return f"the device answered after {after} s, past {who}'s {found.deadline:g} s deadline"
    return f"the device answered after {after} s, past the {row['latency_ms'] / 1000:.1f} s wait"


REPORT_TROUBLE = ("dead-letter", "revoked", "throttled", "unknown")
"""A report's outcomes that explain a journey (retries explain nothing yet)."""


def _report_trouble(row: dict[str, Any], who: str) -> str:
    detail = (row.get("detail") or "").removeprefix("RetryLater: ").removeprefix("DeadLetter: ")
    if row["outcome"] == "revoked":
        return f"{who} ended the link: {detail}"
    if row["outcome"] == "throttled":
        return f"the report was throttled by {who} ({detail})"
    if row["outcome"] == "unknown":
        return f"{who} no longer knew the device ({detail}): it is announced again"
    return f"{who} refused the report: {detail}"
