"""A loopback fake of DuerOS's report endpoints (changereport, devicesync).

It checks bodies as the documentation describes them, answers with the
documented status and messages (including the one-per-60-s limit), and, like
DuerOS, follows an accepted changereport with a ReportStateRequest to the
bridge, keeping what the bridge answered.
"""

from __future__ import annotations

import json
import threading
import uuid

import requests

from fakes import JsonService

BOT_ID = "bridge-test-bot-0001"


class FakeDuerOS(JsonService):
    def __init__(self) -> None:
        self.reports: list[dict] = []
        self.syncs: list[dict] = []
        self.states: list[dict] = []  # ReportStateResponses the bridge gave
        self.tokens: dict[str, str] = {}  # openUid -> access token, as DuerOS keeps them
        self.script: list[dict] = []  # forced answers, in order
        self.bridge_url = ""
        super().__init__()
        self.url = self.base + "/saiya/smarthome"

    def answer(self, path: str, headers, body: bytes) -> tuple[int, dict]:
        doc = json.loads(body)
        if path.endswith("/changereport"):
            return 200, self._changereport(doc)
        if path.endswith("/devicesync"):
            return 200, self._devicesync(doc)
        return 200, {"status": 404, "msg": "not found"}

    def _changereport(self, body: dict) -> dict:
        header, payload = body.get("header", {}), body.get("payload", {})
        appliance = payload.get("appliance", {})
        valid = (
            header.get("namespace") == "DuerOS.ConnectedHome.Control"
            and header.get("name") == "ChangeReportRequest"
            and header.get("payloadVersion") == "1"
            and payload.get("botId") == BOT_ID
            and payload.get("openUid")
            and isinstance(appliance.get("applianceId"), str)
            and isinstance(appliance.get("attributeName"), str)
            and set(appliance) == {"applianceId", "attributeName"}
        )
        with self.lock:
            if not valid:
                return {"status": 1, "msg": "param error"}
            if self.script:
                return self.script.pop(0)
            self.reports.append(body)
            self.recorded()
        threading.Thread(target=self._report_state, args=(payload,), daemon=True).start()
        return {
            "status": 0,
            "msg": "update 1 attributes",
            "messageId": header.get("messageId"),
            "data": {"updated_attribute_num": 1},
        }

    def _report_state(self, payload: dict) -> None:
        """What DuerOS does next: ask the skill for the attribute's value."""
        token = self.tokens.get(payload["openUid"])
        if not token or not self.bridge_url:
            return
        request = {
            "header": {
                "namespace": "DuerOS.ConnectedHome.Query",
                "name": "ReportStateRequest",
                "messageId": str(uuid.uuid4()),
                "payloadVersion": "1",
            },
            "payload": {
                "accessToken": token,
                "appliance": {
                    "applianceId": payload["appliance"]["applianceId"],
                    "additionalApplianceDetails": {},
                    "attributeName": payload["appliance"]["attributeName"],
                },
            },
        }
        try:
            answer = requests.post(self.bridge_url + "/voice/xiaodu", json=request, timeout=10)
            reply = answer.json()
        except (requests.RequestException, ValueError):
            return  # the skill away: DuerOS keeps what it had
        with self.lock:  # which device it asked about: one fake serves every test's devices
            self.states.append({**reply, "asked_for": payload["appliance"]["applianceId"]})
            self.recorded()

    def _devicesync(self, body: dict) -> dict:
        uids = body.get("openUids")
        with self.lock:
            if body.get("botId") != BOT_ID or not body.get("logId") or not isinstance(uids, list):
                return {"status": 1, "msg": "param error"}
            if len(uids) > 5:
                return {"status": 1, "msg": "openUid not more than 5"}
            self.syncs.append(body)
            self.recorded()
        return {
            "status": 0,
            "msg": "ok",
            "logid": body["logId"],
            "data": {"failed": [], "succeed": uids},
        }

    def wait_for(self, items: str, predicate, timeout: float = 10.0) -> list[dict]:
        return super().wait_for(getattr(self, items), predicate, timeout)
