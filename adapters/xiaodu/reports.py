"""Pushes to DuerOS: the changereport handshake and devicesync."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from adapters.xiaodu.attributes import profile
from adapters.xiaodu.directive import CONTROL
from adapters.xiaodu.signing import sign_push
from bridge.plugin import (
    CONNECTIVITY,
    AdapterContext,
    DeadLetter,
    DeviceAnnounced,
    LateResult,
    Reachability,
    RetryLater,
    Sink,
    StateReport,
    User,
    catalog,
)

DEFAULT_URL = "https://xiaodu.baidu.com/saiya/smarthome"


class Reports(Sink):
    def __init__(self, context: AdapterContext) -> None:
        self.context = context
        # DuerOS takes one changereport per attribute a minute: when each went out is a
        # shared fact, so several workers keep one pace.
        self.every = context.settings.attribute_interval

    def _open_uid(self, user: User) -> str | None:
        link = self.context.links.get(user.id)
        return link.get("openUid") if link else None

    def device_announced(self, user: User, m: DeviceAnnounced) -> None:
        open_uid = self._open_uid(user)
        if open_uid:
            body = {"botId": self._bot(), "logId": str(uuid.uuid4()), "openUids": [open_uid]}
            self._post("devicesync", body)

    def state_report(self, user: User, m: StateReport) -> None:
        self._changed(user, m.device_id, m.changed, m.at)

    def reachability(self, user: User, m: Reachability) -> None:
        self._changed(user, m.device_id, (CONNECTIVITY,), m.at)

    def late_result(self, user: User, m: LateResult) -> None:
        """DuerOS has no deferred reply: a command it was told was accepted is reported as
        a change when it lands (a failure cannot be told after)."""
        if m.outcome != "ok":
            return
        device = self.context.reported_device(user, m.device_id)
        props = catalog.state_from(device.type, m.command, m.value, m.instance_id)
        self._changed(user, m.device_id, catalog.shadow_names(m.instance_id, props), m.at)

    def _changed(self, user: User, device_id: str, changed: Iterable[str], at: float) -> None:
        """A changereport per attribute that moved, each at most once per interval."""
        open_uid = self._open_uid(user)
        if not open_uid:
            return
        device = self.context.reported_device(user, device_id)
        shape = profile(device.type)
        if shape is None:
            return
        changed = set(changed)
        names = [a.name for a in shape.attributes if a.shadow in changed]
        if CONNECTIVITY in changed:
            names.append("connectivity")
        wait = 0.0
        for name in names:
            key = f"sent:{user.id}:{device.id}:{name}"
            sent = float(self.context.facts.get(key) or 0.0)
            if sent >= at:
                continue  # already reported since this change
            if time.time() - sent < self.every or not self.context.facts.claim(key, self.every):
                # paced, or another delivery of this device is reporting the attribute now
                wait = max(wait, self.every - (time.time() - sent) if sent else self.every)
                continue
            self._post(
                "changereport",
                {
                    "header": {
                        "namespace": CONTROL,
                        "name": "ChangeReportRequest",
                        "messageId": str(uuid.uuid4()),
                        "payloadVersion": "1",
                    },
                    "payload": {
                        "botId": self._bot(),
                        "openUid": open_uid,
                        "appliance": {"applianceId": device.id, "attributeName": name},
                    },
                },
            )
            self.context.facts.put(key, time.time(), ttl=max(10 * self.every, 3600.0))
        if wait:
            raise RetryLater(
                "DuerOS takes one report per attribute a minute", after=wait, throttled=True
            )

    def _bot(self) -> str:
        return self.context.settings.bot_id

    def _post(self, path: str, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        key_path = self.context.settings.private_key
        if key_path:
            stamp = str(int(time.time()))
            headers.update(
                timestamp=stamp,
                signature=sign_push(
                    data,
                    self._bot(),
                    stamp,
                    self.context.settings.stage,
                    Path(key_path).read_bytes(),
                ),
            )
        url = self.context.settings.report_url.rstrip("/") + "/" + path
        answer = self.context.push("DuerOS", url, data=data, headers=headers)
        if answer.get("status") == 0:
            return
        message = str(answer.get("msg", ""))[:200]
        if "60" in message:
            raise RetryLater(message, after=self.every, throttled=True)
        raise DeadLetter(f"{path}: status {answer.get('status')} {message}")
