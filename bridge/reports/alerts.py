"""Alerts a person can act on, checked every minute, and sent to a webhook of their choice.

Four conditions, per account:
- a device offline for longer than `alert_offline_after` seconds;
- a platform's link failing: revoked in the last day, or reports answered
  401 or 403 in the last hour;
- dead letters rising: `alert_dead_letters` or more in the last hour;
- a platform's state accuracy under its target for the account's devices,
  counting the properties it has held wrong for `accuracy_alert_after`
  seconds or more (a pair apart for less may be a report on its way).
An alert opens when its condition is first seen (and shows on the console)
and closes when it clears. Each newly opened alert goes, with
`alert_webhook_url` set, through the outbox to `AlertWebhook`: a JSON POST
signed with HMAC-SHA256 over exactly the bytes sent, retried with the
outbox's backoff like any report.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar

import orjson
import requests

from bridge.model import Device, User
from bridge.reports import accuracy
from bridge.reports.delivery import Reporter
from bridge.reports.messages import Alert, DeadLetter, RetryLater, Sink
from bridge.store import Store
from bridge.store.beliefs import Pair

if TYPE_CHECKING:
    from bridge.plugin import Adapter

SINK = "#alerts"
"""The outbox's name for the alert webhook (no adapter's name can start with '#')."""
SIGNATURE, TIMESTAMP = "X-Bridge-Signature", "X-Bridge-Timestamp"


class AlertChecker:
    def __init__(
        self,
        store: Store,
        online: Callable[[Device], bool],
        adapters: Callable[[], Mapping[str, Adapter]],
        reporter: Reporter,
        offline_after: float,
        dead_letters: int,
        send: bool,
        accuracy_after: float = 600.0,
    ) -> None:
        self.store, self.online, self.adapters, self.reporter = store, online, adapters, reporter
        self.offline_after, self.dead_letters, self.send = offline_after, dead_letters, send
        self.accuracy_after = accuracy_after

    def check(self, now: float | None = None) -> int:
        """Open and close every account's alerts; how many were opened."""
        now = now if now is not None else time.time()
        opened = 0
        for user in self.store.users.list():
            found = self._conditions(user, now)
            for key, (kind, message, device_id) in found.items():
                if self.store.alerts.open(user.id, key, kind, message, device_id):
                    opened += 1
                    if self.send:
                        opened_alert = Alert(
                            user_id=user.id,
                            device_id=device_id or "",
                            at=now,
                            alert=kind,
                            message=message,
                        )
                        self.reporter.notify(SINK, user, opened_alert)
            self.store.alerts.close_others(user.id, set(found))
        return opened

    def _conditions(self, user: User, now: float) -> dict[str, tuple[str, str, str | None]]:
        found: dict[str, tuple[str, str, str | None]] = {}
        for device in self.store.devices.of_user(user.id):
            if self.online(device):
                continue
            last = self.store.messages.connection_before(device.id, now)
            if last and last["outcome"] == "offline" and now - last["at"] >= self.offline_after:
                since = time.strftime("%H:%M", time.localtime(last["at"]))
                why = f" ({last['detail']})" if last.get("detail") else ""
                found[f"offline:{device.id}"] = (
                    "device_offline",
                    f"{device.name} has been offline since {since}{why}",
                    device.id,
                )
        refused = self.store.messages.refused_reports(user.id, now - 3600)
        for name, adapter in self.adapters().items():
            title = adapter.title or name
            status = self.store.links(name).status(user.id)
            if status and status[0] and now - status[0] < 86400:
                why = f"{title} ended the link: {status[1]}"
            elif name in refused:
                why = f"{title} refused the reports: {refused[name]}"
            else:
                continue
            found[f"link:{name}"] = ("link_failing", why, None)
        dead = sum(
            count
            for _, outcome, count in self.store.messages.report_counts(user.id, now - 3600)
            if outcome == "dead-letter"
        )
        if dead >= self.dead_letters:
            found["dead-letters"] = (
                "dead_letters",
                f"{dead} reports dead-lettered in the last hour",
                None,
            )
        found.update(self._inaccurate(user, now))
        return found

    def _inaccurate(self, user: User, now: float) -> dict[str, tuple[str, str, str | None]]:
        """Each platform holding too much of the account's devices wrong for too long."""
        held: dict[str, list[Pair]] = defaultdict(list)
        for pair in self.store.beliefs.pairs(user.id):
            held[pair.adapter].append(pair)
        found: dict[str, tuple[str, str, str | None]] = {}
        for name, pairs in sorted(held.items()):
            adapter = self.adapters().get(name)
            apart = [
                p
                for p in pairs
                if not p.agrees
                and p.drift_since is not None
                and now - p.drift_since >= self.accuracy_after
            ]
            share, bar = 1 - len(apart) / len(pairs), accuracy.target(adapter)
            if adapter is None or share >= bar:
                continue
            found[f"accuracy:{name}"] = (
                "state_inaccurate",
                f"{adapter.title or name} has held {len(apart)} of {len(pairs)} device"
                f" properties wrong for {self.accuracy_after / 60:g} min or more"
                f" ({share:.1%} right, target {bar:.1%})",
                None,
            )
        return found


class AlertWebhook(Sink):
    """Where alerts go: the owner's notifier. Retried through the outbox like a report."""

    name: ClassVar[str] = SINK
    title: ClassVar[str] = "the alert webhook"
    report_retry_min: ClassVar[float] = 1.0

    def __init__(self, url: str, secret: str, http: requests.Session) -> None:
        self.url, self.secret, self.http = url, secret.encode(), http

    def alert(self, user: User, message: Alert) -> None:
        body = orjson.dumps(
            {
                "alert": message.alert,
                "user": user.name,
                "device_id": message.device_id or None,
                "message": message.message,
                "at": message.at,
            }
        )
        stamp = str(int(time.time()))
        signature = hmac.new(self.secret, stamp.encode() + b"." + body, hashlib.sha256)
        try:
            reply = self.http.post(
                self.url,
                data=body,
                timeout=10,
                headers={
                    "Content-Type": "application/json",
                    TIMESTAMP: stamp,
                    SIGNATURE: "sha256=" + signature.hexdigest(),
                },
            )
        except requests.RequestException as exc:
            raise RetryLater(f"the alert webhook is unreachable: {exc}") from None
        if reply.status_code == 429 or reply.status_code >= 500:
            raise RetryLater(f"the alert webhook answered HTTP {reply.status_code}")
        if reply.status_code >= 300:
            raise DeadLetter(f"the alert webhook answered HTTP {reply.status_code}")
