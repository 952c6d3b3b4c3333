"""Pushes to DuerOS: the changereport handshake and devicesync."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from adapters.xiaodu.attributes import profile
from adapters.xiaodu.signing import sign_push
from bridge.plugin import (
    CONNECTIVITY,
    DEVICE_KINDS,
    AdapterContext,
    DeadLetter,
    RetryLater,
    StateChange,
    User,
    catalog,
)

DEFAULT_URL = "https://xiaodu.baidu.com/saiya/smarthome"


class Reports:
    def __init__(self, context: AdapterContext) -> None:
        self.context = context
        # DuerOS takes one changereport per attribute a minute: when each went out is a
        # shared fact, so several workers keep one pace.
        self.every = context.settings.attribute_interval

    def send(self, user: User, change: StateChange) -> None:
        link = self.context.links.get(user.id)
        if not link or not link.get("openUid"):
            return
        if change.kind in DEVICE_KINDS:
            self._post(
                "devicesync",
                {"botId": self._bot(), "logId": str(uuid.uuid4()), "openUids": [link["openUid"]]},
            )
            return
        if change.kind == "late" and change.outcome == "ok":
            # DuerOS has no deferred reply: a command it was told was accepted is
            # reported as a change when it lands (a failure cannot be told after).
            props = catalog.state_from(
                self.context.reported_device(user, change.device_id).type,
                change.action,
                change.value,
                change.instance_id,
            )
            change = replace(
                change, kind="state", changed=tuple(catalog.shadow_names(change.instance_id, props))
            )
        if change.kind != "state":
            return  # a late result belongs to platforms that asked for one
        device = self.context.reported_device(user, change.device_id)
        shape = profile(device.type)
        names = [a.name for a in shape.attributes if a.shadow in change.changed] if shape else []
        if CONNECTIVITY in change.changed and shape:
            names.append("connectivity")
        wait = 0.0
        for name in names:
            key = f"sent:{user.id}:{device.id}:{name}"
            sent = float(self.context.facts.get(key) or 0.0)
            if sent >= change.at:
                continue  # already reported since this change
            if time.time() - sent < self.every or not self.context.facts.claim(key, self.every):
                # paced, or another delivery of this device is reporting the attribute now
                wait = max(wait, self.every - (time.time() - sent) if sent else self.every)
                continue
            self._post(
                "changereport",
                {
                    "header": {
                        "namespace": "DuerOS.ConnectedHome.Control",
                        "name": "ChangeReportRequest",
                        "messageId": str(uuid.uuid4()),
                        "payloadVersion": "1",
                    },
                    "payload": {
                        "botId": self._bot(),
                        "openUid": link["openUid"],
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
