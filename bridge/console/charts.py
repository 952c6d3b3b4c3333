"""The console's charts, drawn by the server as SVG: nothing to download, nothing to run.

Each figure carries its numbers as data attributes (`data-label`,
`data-value`) beside the shapes drawn from them, so a test (or a screen
reader's user, through the titles) reads the same values the bars show.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, ROW, LABEL = 320, 22, 110
"""The viewBox width, a bar's row height and the width kept for labels."""


@dataclass(frozen=True)
class Stats:
    """One origin's commands over a window: how many, how many succeeded, how fast."""

    requests: int
    succeeded: int
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None

    @property
    def success(self) -> float | None:
        return self.succeeded / self.requests if self.requests else None


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)], 1)


def stats(rows: Iterable[tuple]) -> dict[str, Stats]:
    """(origin, outcome, latency_ms) rows to Stats by origin; a pending command counts as a
    success (accepted, as the platform was told), its latency as the time to say so."""
    by: dict[str, list[tuple[str, float]]] = {}
    for origin, outcome, latency in rows:
        by.setdefault(origin or "", []).append((outcome, latency or 0.0))
    out = {}
    for origin, found in sorted(by.items()):
        latencies = sorted(latency for _, latency in found)
        out[origin] = Stats(
            len(found),
            sum(outcome in ("ok", "pending") for outcome, _ in found),
            _percentile(latencies, 0.5),
            _percentile(latencies, 0.9),
            _percentile(latencies, 0.99),
        )
    return out


def bars(title: str, items: list[tuple[str, float, str]], top: float) -> Markup:
    """Horizontal bars: (label, value, text shown) each, scaled to `top`."""
    height = ROW * max(1, len(items)) + 4
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'data-chart="{escape(title)}"><title>{escape(title)}</title>'
    ]
    span = WIDTH - LABEL - 70
    for i, (label, value, text) in enumerate(items):
        y = i * ROW + 2
        width = 0 if top <= 0 else max(0.0, min(1.0, value / top)) * span
        parts.append(
            f'<g class="bar" data-label="{escape(label)}" data-value="{value:g}">'
            f"<title>{escape(label)}: {escape(text)}</title>"
            f'<text x="0" y="{y + 15}">{escape(label[:16])}</text>'
            f'<rect x="{LABEL}" y="{y + 3}" width="{width:.1f}" height="{ROW - 8}" rx="3"/>'
            f'<text x="{LABEL + width + 4:.1f}" y="{y + 15}">{escape(text)}</text></g>'
        )
    if not items:
        parts.append('<text x="0" y="16">nothing in this window</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked(title: str, items: list[tuple[str, dict[str, int]]], kinds: list[str]) -> Markup:
    """One bar per label, its segments the counts of each kind (reports by outcome)."""
    height = ROW * max(1, len(items)) + 4
    top = max((sum(counts.values()) for _, counts in items), default=0)
    span = WIDTH - LABEL - 50
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'data-chart="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, (label, counts) in enumerate(items):
        y, x = i * ROW + 2, float(LABEL)
        parts.append(f'<g class="bar" data-label="{escape(label)}">')
        parts.append(f'<text x="0" y="{y + 15}">{escape(label[:16])}</text>')
        for kind in kinds:
            count = counts.get(kind, 0)
            width = count / top * span if top else 0
            parts.append(
                f'<rect class="{kind}" data-kind="{kind}" data-value="{count}" x="{x:.1f}" '
                f'y="{y + 3}" width="{width:.1f}" height="{ROW - 8}">'
                f"<title>{escape(label)}: {count} {kind}</title></rect>"
            )
            x += width
        total = sum(counts.values())
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 15}">{total}</text></g>')
    if not items:
        parts.append('<text x="0" y="16">nothing in this window</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


STRIP = 30
"""A device strip's height: its name on a line of its own above the bar (never cut)."""
NAME = 56
"""Characters of a device's name a strip shows (the whole name is its title)."""


def _strip_head(kind: str, label: str, title: str) -> str:
    shown = label if len(label) <= NAME else label[: NAME - 1] + "…"
    return (
        f'<svg class="chart strip" role="img" viewBox="0 0 {WIDTH} {STRIP}" '
        f'data-chart="{kind} {escape(label)}"><title>{escape(title)}</title>'
        f'<text x="0" y="10">{escape(shown)}</text>'
    )


def timeline(
    label: str, changes: list[tuple[float, bool]], online_at_start: bool, since: float, until: float
) -> Markup:
    """A device's day as a strip under its name: online stretches green, offline grey;
    `changes` are the (time, online) connection rows, oldest first."""
    parts = [_strip_head("online", label, f"{label}: online over the day")]
    edges = [(since, online_at_start), *[(at, up) for at, up in changes if since <= at <= until]]
    online_seconds = 0.0
    for (start, up), (end, _) in zip(edges, [*edges[1:], (until, False)], strict=True):
        x = (start - since) / (until - since) * WIDTH
        width = max(0.0, (end - start) / (until - since) * WIDTH)
        online_seconds += (end - start) if up else 0.0
        state = "online" if up else "offline"
        parts.append(
            f'<rect class="{state}" data-state="{state}" data-from="{start:.0f}" '
            f'data-to="{end:.0f}" x="{x:.1f}" y="14" width="{width:.2f}" height="{STRIP - 16}"/>'
        )
    share = online_seconds / (until - since) if until > since else 0.0
    parts.append(f'<desc data-online="{share:.4f}">online {share:.0%} of the day</desc></svg>')
    return Markup("".join(parts))


def heard(label: str, times: list[float], since: float, until: float) -> Markup:
    """The day of a device that holds no connection (heard now and then, as a Sigfox
    device is): a mark each time it was heard, on a bar that claims nothing between."""
    count = sum(1 for at in times if since <= at <= until)
    parts = [_strip_head("heard", label, f"{label}: heard {count} times over the day")]
    parts.append(f'<rect class="quiet" x="0" y="19" width="{WIDTH}" height="{STRIP - 26}"/>')
    for at in times:
        if since <= at <= until:
            x = (at - since) / (until - since) * WIDTH
            parts.append(
                f'<rect class="heard" data-at="{at:.0f}" x="{max(0.0, x - 1):.1f}" y="14" '
                f'width="2" height="{STRIP - 16}"/>'
            )
    parts.append(f'<desc data-heard="{count}">heard {count} times over the day</desc></svg>')
    return Markup("".join(parts))


def axis(since: float, until: float, hours: int = 6) -> Markup:
    """The strips' time axis: a tick every `hours`, labelled by how long ago (the viewer's
    clock and the server's need not agree)."""
    span = until - since
    parts = [
        f'<svg class="chart axis" role="img" viewBox="0 0 {WIDTH} 14" data-chart="time axis">'
        "<title>time: the last day, now at the right</title>"
    ]
    ticks = int(span // (hours * 3600))
    for n in range(ticks + 1):
        ago = span - n * hours * 3600
        x = (span - ago) / span * WIDTH
        text = "now" if ago <= 0 else f"{ago / 3600:.0f} h ago"
        anchor = "start" if n == 0 else "end" if ago <= 0 else "middle"
        parts.append(
            f'<g class="tick" data-ago="{ago:.0f}"><rect x="{min(x, WIDTH - 1):.1f}" y="0" '
            f'width="1" height="4"/><text x="{x:.1f}" y="13" text-anchor="{anchor}">'
            f"{text}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
