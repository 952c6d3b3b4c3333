"""Pushes to Tmall Genie: state and event reports, late control results, list updates."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from adapters.tmallgenie.directive import CONTROL
from adapters.tmallgenie.errors import INVALIDATE_CONTROL_ORDER, IOT_DEVICE_OFFLINE
from adapters.tmallgenie.profiles import Profile, profile, state
from adapters.tmallgenie.top import Top
from bridge.plugin import (
    CONNECTIVITY,
    AdapterContext,
    Device,
    DeviceAnnounced,
    LateResult,
    Reachability,
    Sink,
    StateReport,
    User,
    catalog,
)

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


class Reports(Sink):
    def __init__(self, context: AdapterContext) -> None:
        self.context = context
        self.top = Top(context)

    def _link(self, user: User) -> dict[str, Any] | None:
        """The user's link, if it holds the token pushes need."""
        link = self.context.links.get(user.id)
        return link if link and link.get("token") else None

    def _shaped(self, user: User, device_id: str) -> tuple[Device, Profile] | None:
        device = self.context.reported_device(user, device_id)
        shape = profile(device.type)
        return (device, shape) if shape is not None else None

    def device_announced(self, user: User, m: DeviceAnnounced) -> None:
        link = self._link(user)
        if link:
            self.top.call(
                LIST_NOTIFY, {"token": link["token"], "skill_id": self._skill(), "type": 1}
            )

    def state_report(self, user: User, m: StateReport) -> None:
        link, found = self._link(user), self._shaped(user, m.device_id)
        if not link or not found:
            return
        device, shape = found
        version = int(link.get("version", 1))
        if CONNECTIVITY in m.changed:  # a reachability change folded in: as it is now
            self._online(link, device.id, self.context.online(device))
        changed = {p.name for p in shape.props if p.shadow in m.changed}
        current = state(shape, self.context.state(device), version)
        payload = {k: v for k, v in current.items() if k in changed}
        if payload:
            self._report(link, device.id, PROPERTY, payload)
        elif not m.changed and _stateless(device.type, m):  # a press: an event, not a state
            self._report(link, device.id, EVENT, {m.event: m.value})

    def reachability(self, user: User, m: Reachability) -> None:
        link, found = self._link(user), self._shaped(user, m.device_id)
        if link and found:
            self._online(link, m.device_id, m.online)

    def _online(self, link: dict[str, Any], device_id: str, online: bool) -> None:
        version = int(link.get("version", 1))
        said = (1 if online else 0) if version == 2 else ("online" if online else "offline")
        self._report(link, device_id, ONLINE, {"onlinestate": said})

    def late_result(self, user: User, m: LateResult) -> None:
        """The control result Genie waits for; when it went through, the state too."""
        link, found = self._link(user), self._shaped(user, m.device_id)
        if not link or not found:
            return
        device, shape = found
        current = state(shape, self.context.state(device), int(link.get("version", 1)))
        self._notify_control(device.id, m, current)
        if m.outcome == "ok" and current:
            self._report(link, device.id, PROPERTY, current)

    def _report(self, link: dict[str, Any], device_id: str, kind: int, body: dict) -> None:
        self.top.call(
            REPORT,
            {
                "cloud_report_param": {
                    "payload": json.dumps(body, ensure_ascii=False),
                    "device_id": device_id,
                    "user_access_token": link["token"],
                    "account_type": 1,
                    "skill_id": self._skill(),
                    "time_stamp": int(time.time() * 1000),
                    "message_id": str(uuid.uuid4()),
                    "payload_version": int(link.get("version", 1)),
                    "report_type": kind,
                    "extension": "{}",
                }
            },
        )

    def _notify_control(self, device_id: str, m: LateResult, current: dict[str, Any]) -> None:
        asked = self.context.facts.pop(pending_key(device_id, m.command)) or {}
        ok = m.outcome == "ok"
        code = (
            "SUCCESS"
            if ok
            else (
                IOT_DEVICE_OFFLINE
                if m.outcome in ("timeout", "offline", "disconnected")
                else INVALIDATE_CONTROL_ORDER
            )
        )
        self.top.call(
            CONTROL_NOTIFY,
            {
                "notify_control_params": {
                    "header": {
                        "namespace": CONTROL,
                        "name": f"{asked.get('name', 'Control')}Response"
                        if ok
                        else "ErrorResponse",
                        "message_id": asked.get("message_id", str(uuid.uuid4())),
                        "pay_load_version": asked.get("version", 1),
                    },
                    "payload": {
                        "device_id": device_id,
                        "error_code": code,
                        "message": "SUCCESS" if ok else (m.detail or code),
                    },
                    "properties": [{"name": k, "value": str(v)} for k, v in current.items()],
                    "exceptions": [],
                }
            },
        )

    def _skill(self) -> int | str:
        skill = self.context.settings.skill_id
        return int(skill) if skill.isdigit() else skill


def _stateless(type_name: str, m: StateReport) -> bool:
    """An event of a capability that keeps no state (a press); not a state said again
    unchanged (a switch turned on that was on), which Tmall Genie has no event for."""
    cap = catalog.device_type(type_name).capability_for(m.event, m.instance_id)
    return cap is not None and not cap.state
