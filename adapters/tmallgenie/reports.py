"""Pushes to Tmall Genie: state and event reports, late control results, list updates."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from adapters.tmallgenie.profiles import profile, state
from adapters.tmallgenie.top import Top
from bridge.plugin import CONNECTIVITY, DEVICE_KINDS, AdapterContext, StateChange, User

REPORT = "alibaba.ailabs.iot.cloud.device.report"
CONTROL_NOTIFY = "alibaba.ailabs.iot.device.control.notify"
LIST_NOTIFY = "alibaba.ailabs.iot.device.list.update.notify"
PROPERTY, ONLINE, EVENT = 1, 2, 3


PENDING_TTL = 86400.0
"""How long the directive behind a pending command is remembered (a Sigfox device
may take hours to listen)."""


def pending_key(device_id: str, action: str) -> str:
    """The fact naming the directive that waits for a device's pending command."""
    return f"pending:{device_id}:{action}"


class Reports:
    def __init__(self, context: AdapterContext) -> None:
        self.context = context
        self.top = Top(context)

    def send(self, user: User, change: StateChange) -> None:
        link = self.context.links.get(user.id)
        if not link or not link.get("token"):
            return
        if change.kind in DEVICE_KINDS:
            self.top.call(
                LIST_NOTIFY, {"token": link["token"], "skill_id": self._skill(), "type": 1}
            )
            return
        device = self.context.reported_device(user, change.device_id)
        shape = profile(device.type)
        if shape is None:
            return
        version = int(link.get("version", 1))
        current = state(shape, self.context.state(device), version)
        if change.kind == "late":
            self._notify_control(device.id, change, current)
            if change.outcome != "ok":
                return
        changed = {p.name for p in shape.props if p.shadow in change.changed}
        reports = []
        if CONNECTIVITY in change.changed:
            online = bool(change.value.get("online"))
            reports.append(
                (
                    ONLINE,
                    {
                        "onlinestate": (1 if online else 0)
                        if version == 2
                        else ("online" if online else "offline")
                    },
                )
            )
        payload = {k: v for k, v in current.items() if k in changed or change.kind == "late"}
        if payload:
            reports.append((PROPERTY, payload))
        elif not change.changed and change.kind != "late":
            reports.append((EVENT, {change.action: change.value}))  # an event without state
        for report_type, body in reports:
            self.top.call(
                REPORT,
                {
                    "cloud_report_param": {
                        "payload": json.dumps(body, ensure_ascii=False),
                        "device_id": device.id,
                        "user_access_token": link["token"],
                        "account_type": 1,
                        "skill_id": self._skill(),
                        "time_stamp": int(time.time() * 1000),
                        "message_id": str(uuid.uuid4()),
                        "payload_version": version,
                        "report_type": report_type,
                        "extension": "{}",
                    }
                },
            )

    def _notify_control(self, device_id: str, change: StateChange, current: dict[str, Any]) -> None:
        asked = self.context.facts.pop(pending_key(device_id, change.action)) or {}
        ok = change.outcome == "ok"
        code = (
            "SUCCESS"
            if ok
            else (
                "IOT_DEVICE_OFFLINE"
                if change.outcome in ("timeout", "offline", "disconnected")
                else "INVALIDATE_CONTROL_ORDER"
            )
        )
        self.top.call(
            CONTROL_NOTIFY,
            {
                "notify_control_params": {
                    "header": {
                        "namespace": "AliGenie.Iot.Device.Control",
                        "name": f"{asked.get('name', 'Control')}Response"
                        if ok
                        else "ErrorResponse",
                        "message_id": asked.get("message_id", str(uuid.uuid4())),
                        "pay_load_version": asked.get("version", 1),
                    },
                    "payload": {
                        "device_id": device_id,
                        "error_code": code,
                        "message": "SUCCESS" if ok else (change.cause or code),
                    },
                    "properties": [{"name": k, "value": str(v)} for k, v in current.items()],
                    "exceptions": [],
                }
            },
        )

    def _skill(self) -> int | str:
        skill = self.context.settings.skill_id
        return int(skill) if skill.isdigit() else skill
