"""Server-rendered console pages, behind the same login as account linking."""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from markupsafe import Markup

from bridge.console import charts, household
from bridge.console.params import HistoryFilter, KeyForm
from bridge.http import boundary, live
from bridge.http.sessions import csrf, current_user
from bridge.journeys import explain
from bridge.model import BridgeError, User
from bridge.reports import accuracy

console = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates", static_folder="static"
)
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _bridge():
    return current_app.extensions["bridge"]


@console.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # an invitation's token is in its URL
    return response


@console.before_request
def _login_required():
    if request.endpoint in ("console.login", "console.static", "console.join_page", "console.join"):
        return None
    if current_user() is None:
        return redirect(url_for("console.login"))
    return None


for rule, endpoint, view, method in (
    ("/join", "join_page", household.join_page, "GET"),
    ("/join", "join", household.join, "POST"),
    ("/household/invite", "invite", household.invite, "POST"),
    ("/household/members", "member", household.member, "POST"),
    ("/household/leave", "leave", household.leave, "POST"),
    ("/devices/<device_id>/delete", "delete_device", household.delete_device, "POST"),
):
    console.add_url_rule(rule, endpoint, view, methods=[method])


@console.get("/login")
def login():
    return render_template("oauth/login.html", platform="", next="/console")


FINE = {"ok", "coalesced", "queued"}
"""Outcomes that need no explanation."""


def _history(
    user: User, names: dict[str, str], members: dict[int, str], **query: Any
) -> list[dict]:
    """The page of history, each row with its device's name and, when it failed, the
    sentence its journey explains it with (one journey read per failed row, at most 50)."""
    rows = _bridge().history(user.id, **query)
    reasons: dict[str, str | None] = {}
    for row in rows:
        row["name"] = names.get(row["device_id"] or "", "")
        row["by"] = members.get(row["member"], "") if row["member"] else ""
        journey = row.get("journey")
        if journey and row["outcome"] not in FINE:
            if journey not in reasons:
                reasons[journey] = _bridge().journey(user.id, journey)["explanation"]
            row["reason"] = reasons[journey]
    return rows


def _reports(user: User, now: float) -> dict[str, dict[str, int]]:
    """The user's report attempts over the last day: {platform: {outcome: count}} (read once
    for the platforms' table and the chart)."""
    reports: dict[str, dict[str, int]] = {}
    for platform, outcome, count in _bridge().store.messages.report_counts(user.id, now - 86400):
        reports.setdefault(platform or "", {})[outcome] = count
    return reports


def _link_status(row: tuple | None, granted: bool, failing: bool) -> tuple[str, str | None]:
    """A platform link's status and why: its row (revoked, and why) once the platform has
    called, else whether the person signed in and allowed it (a live OAuth grant)."""
    if row is None:
        if granted:
            return "linked", "reports start when the platform confirms the link"
        return "not linked", None
    if row[0]:
        return "revoked", row[1]
    return ("failing" if failing else "linked"), row[1]


def _platforms(user: User, reports: dict[str, dict[str, int]]) -> list[dict]:
    """Each adapter's link for this user, with its report delivery over the last day."""
    bridge = _bridge()
    granted = bridge.store.grants.linked_adapters(user.id)
    out = []
    for name in sorted(bridge.adapters):
        row = bridge.store.links(name).status(user.id)
        counts = dict(reports.get(name, {}))
        counts.pop("coalesced", None)  # folded into a newer report: not a try of its own
        tries = sum(counts.values())
        failed = counts.get("dead-letter", 0) + counts.get("retry", 0)
        failing = failed >= counts.get("ok", 0) and failed > 0
        status, reason = _link_status(row, name in granted, failing)
        out.append(
            {
                "name": name,
                "status": status,
                "reason": reason,
                "delivered": counts.get("ok", 0),
                "tries": tries,
                "rate": round(counts.get("ok", 0) / tries, 3) if tries else None,
            }
        )
    return out


REPORT_KINDS = ["ok", "throttled", "retry", "unknown", "dead-letter", "revoked"]
TARGETS = {
    "success": ("success", "at least {:.1%}", lambda s, t: (s.success or 0) >= t),
    "p90_ms": ("p90", "at most {:.0f} ms", lambda s, t: (s.p90_ms or 0) <= t),
    "answer_ms": ("p99", "within {:.0f} ms", lambda s, t: (s.p99_ms or 0) <= t),
}
"""A target's label, its text, and whether the window's figures meet it."""


def _drifting(user: User, pairs: list, most: int = 5) -> list[dict[str, Any]]:
    """The worst of a platform's disagreeing pairs (the longest apart), with each device's
    last repair."""
    store = _bridge().store
    out = []
    for pair in sorted(pairs, key=lambda p: p.drift_since or float("inf"))[:most]:
        device = store.devices.get(pair.device_id)
        repairs = store.messages.query(device_id=pair.device_id, kind="repair", limit=1)
        out.append(
            {
                "device": device.name if device else pair.device_id,
                "property": pair.name,
                "held": pair.held,
                "actual": pair.actual,
                "repair": repairs[0]["detail"] if repairs else None,
            }
        )
    return out


def _levels(user: User, now: float, reports: dict[str, dict[str, int]]) -> dict[str, Any]:
    """The figures the console draws: commands by origin over the hour and the day, each
    platform against its published targets, reports by outcome, devices online."""
    bridge = _bridge()
    rows = bridge.store.messages.requests_since(user.id, now - 86400)
    day = charts.stats(r[1:] for r in rows)
    hour = charts.stats(r[1:] for r in rows if r[0] >= now - 3600)
    slos = []
    held: dict[str, list] = {}
    for pair in bridge.store.beliefs.pairs(user.id):
        held.setdefault(pair.adapter, []).append(pair)
    for name, adapter in sorted(bridge.adapters.items()):
        found = day.get(name)
        checks = [
            {
                "label": TARGETS[key][0],
                "target": TARGETS[key][1].format(value),
                "met": bool(found) and TARGETS[key][2](found, value),
            }
            for key, value in adapter.targets.items()
            if key in TARGETS
        ]
        pairs = held.get(name, [])
        if pairs:
            target = accuracy.target(adapter)
            share = sum(p.agrees for p in pairs) / len(pairs)
            shown = f"{share:.1%} of {len(pairs)} (at least {target:.1%})"
            checks.append({"label": "state accuracy", "target": shown, "met": share >= target})
        if found or checks:
            slos.append(
                {
                    "platform": adapter.title or name,
                    "stats": found,
                    "checks": checks,
                    "drifting": _drifting(user, [p for p in pairs if not p.agrees]),
                }
            )
    return {
        "success": {
            window: charts.bars(
                f"success, last {window}",
                [
                    (o, s.success or 0.0, f"{s.success:.1%} of {s.requests}")
                    for o, s in found.items()
                ],
                1.0,
            )
            for window, found in (("hour", hour), ("day", day))
        },
        "latency": charts.bars(
            "p50 and p99 latency, last day (ms)",
            [
                item
                for o, s in day.items()
                for item in (
                    (f"{o} p50", s.p50_ms or 0.0, f"{s.p50_ms:.0f} ms"),
                    (f"{o} p99", s.p99_ms or 0.0, f"{s.p99_ms:.0f} ms"),
                )
            ],
            max((s.p99_ms or 0.0 for s in day.values()), default=0.0),
        ),
        "reports": charts.stacked(
            "reports by outcome, last day", sorted(reports.items()), REPORT_KINDS
        ),
        "slos": slos,
    }


def _online_strips(user: User, devices: list[dict], now: float) -> list[Markup]:
    """Each device's last day under its name: online and offline from its connection rows,
    or, for a device that holds no connection, each time it was heard; then the time axis."""
    bridge = _bridge()
    since = now - 86400
    changes: dict[str, list[tuple[float, bool]]] = {}
    shared = [d["device"].id for d in devices if d["device"].user_id != user.id]
    connections = bridge.store.messages.connections_since(user.id, since, shared)
    for device_id, at, outcome in connections:
        changes.setdefault(device_id, []).append((at, outcome == "online"))
    transports = bridge.transports.by_name
    quiet = [
        d["device"].id
        for d in devices
        if not getattr(transports.get(d["device"].transport), "holds_connections", True)
    ]
    heard: dict[str, list[float]] = {}
    for device_id, at in bridge.store.messages.heard_since(quiet, since):
        heard.setdefault(device_id, []).append(at)
    strips = []
    for d in devices:
        device = d["device"]
        if device.id in quiet:
            strips.append(charts.heard(device.name, heard.get(device.id, []), since, now))
            continue
        found = changes.get(device.id, [])
        # before the first change of the day it was the opposite of that change
        at_start = (not found[0][1]) if found else d["online"]
        strips.append(charts.timeline(device.name, found, at_start, since, now))
    return [*strips, charts.axis(since, now)] if strips else []


@console.errorhandler(boundary.Malformed)
def _refused(exc: boundary.Malformed):
    return render_template(
        "oauth/error.html", title="This request is not valid", message=str(exc)
    ), 400


@console.get("")
def home():
    bridge = _bridge()
    user = current_user()
    devices = [
        {
            "device": device,
            "online": bridge.devices.online(device),
            "last_seen": bridge.store.messages.last_heard(device.id),
            "state": bridge.store.shadow.values(device.id),
        }
        for device in bridge.devices.list(user)
    ]
    chosen = boundary.from_params(request.args, HistoryFilter)
    filters: dict[str, Any] = {
        k: getattr(chosen, k) or None for k in ("device_id", "outcome", "kind", "origin")
    }
    filters["member"] = int(chosen.member) if chosen.member else None
    names = {d["device"].id: d["device"].name for d in devices}
    shared = household.section(user)
    members = household.people(user, shared)
    now = time.time()
    reports = _reports(user, now)
    since = {"hour": 3600, "day": 86400, "week": 7 * 86400}.get(chosen.window)
    return render_template(
        "console/home.html",
        user=user,
        devices=devices,
        platforms=_platforms(user, reports),
        keys=bridge.store.keys.of_user(user.id),
        history=_history(user, names, members, **filters, since=now - since if since else None),
        window=chosen.window,
        origins=sorted(bridge.adapters),
        names=names,
        levels=_levels(user, now, reports),
        alerts=bridge.store.alerts.active(user.id),
        troubled=[  # a follower waiting for a role it does not hold is well
            s
            for s in bridge.supervisor.status()
            if s["state"] not in ("running", "waiting for leadership")
        ],
        strips=_online_strips(user, devices, now),
        household=shared,
        members=members,
        filters=filters,
        new_secret=request.args.get("secret"),
        new_key=request.args.get("key"),
    )


@console.get("/journeys/<message_id>")
def journey(message_id: str):
    """Every hop of the command or event a message of the user's belongs to, as a timeline."""
    user = current_user()
    bridge = _bridge()
    found = None
    if message_id.isascii() and message_id.isdigit() and len(message_id) <= 18:
        found = bridge.store.messages.journey_of(user.id, int(message_id))
    if found is None:
        return render_template(
            "oauth/error.html", title="No such journey", message="No message of yours has it."
        ), 404
    names = {d.id: d.name for d in bridge.devices.list(user)}
    people = household.people(user, household.section(user))
    return render_template(
        "console/journey.html",
        people=people,
        user=user,
        found=bridge.journey(user.id, found),
        names=names,
        shown=explain.shown,
        nothing_wrong=explain.NOTHING_WRONG,
    )


@console.post("/keys")
def create_key():
    csrf.protect()
    user = current_user()
    form = boundary.from_params(request.form, KeyForm)
    products = [p.strip() for p in form.products.split(",") if p.strip()]
    try:
        key, secret = _bridge().store.keys.create(user.id, form.purpose, products, form.name)
    except BridgeError as exc:
        return render_template(
            "oauth/error.html", title="The key was not created", message=exc.message
        ), 422
    return render_template("console/secret.html", key=key, secret=secret)


@console.post("/keys/<key_id>/<action>")
def change_key(key_id: str, action: str):
    csrf.protect()
    keys = _bridge().store.keys
    try:
        if keys.get(key_id).user_id != current_user().id:
            raise BridgeError("not your key")
        if action == "delete":
            keys.delete(key_id)
        elif action in ("disable", "enable"):
            keys.set_disabled(key_id, action == "disable")
    except BridgeError as exc:
        return render_template("oauth/error.html", title="No such key", message=exc.message), 404
    return redirect(url_for("console.home"), code=303)


@console.get("/stream")
def stream():
    """New history rows as server-sent events, for the page's live table."""
    user = current_user()
    history = _bridge().history  # live rows: names and reasons come from the page
    frames = _bridge().streams.open(
        user.id,
        lambda: live.everything,
        lambda after: history(user.id, after=after, limit=100, oldest_first=True),
        3600,
        client=request.environ.get("gunicorn.socket"),
    )
    if frames is None:  # the page falls back to reloading
        headers = {"Retry-After": str(int(live.KEEPALIVE))}  # a closed one's place frees
        return Response("too many open streams\n", 429, headers, mimetype="text/plain")
    return Response(
        stream_with_context(frames),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store"},
    )
