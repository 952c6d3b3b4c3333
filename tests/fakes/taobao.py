"""A loopback fake of the Taobao Open Platform gateway, for Tmall Genie's push APIs.

It recomputes every request's signature, checks the system parameters and the
business parameters of the three AliGenie methods, and can answer with TOP
errors on demand.
"""

from __future__ import annotations

import datetime
import json
from urllib.parse import parse_qs

from adapters.tmallgenie.top import CHINA, sign
from fakes import JsonService

APP_KEY, APP_SECRET, SKILL_ID = "12345678", "top-app-secret-for-tests", "98765"
METHODS = {
    "alibaba.ailabs.iot.cloud.device.report",
    "alibaba.ailabs.iot.device.control.notify",
    "alibaba.ailabs.iot.device.list.update.notify",
}


def check(params: dict[str, str]) -> str | None:
    """Why TOP would refuse these parameters, or None."""
    given = params.pop("sign", "")
    if given != sign(params, APP_SECRET):
        return "invalid signature"
    if params.get("app_key") != APP_KEY or params.get("method") not in METHODS:
        return "invalid app key or method"
    if (params.get("v"), params.get("format"), params.get("sign_method")) != (
        "2.0",
        "json",
        "hmac-sha256",
    ):
        return "invalid system parameters"
    sent = datetime.datetime.strptime(params["timestamp"], "%Y-%m-%d %H:%M:%S")
    if abs((datetime.datetime.now(CHINA).replace(tzinfo=None) - sent).total_seconds()) > 600:
        return "timestamp out of range"
    method = params["method"]
    if method.endswith("cloud.device.report"):
        body = json.loads(params["cloud_report_param"])
        json.loads(body["payload"])  # a JSON string, not an object
        if not (
            body["device_id"]
            and body["user_access_token"]
            and body["account_type"] == 1
            and str(body["skill_id"]) == SKILL_ID
            and body["report_type"] in (1, 2, 3)
            and body["payload_version"] in (1, 2)
            and body["time_stamp"] > 1e12
        ):
            return "invalid cloud_report_param"
    elif method.endswith("control.notify"):
        body = json.loads(params["notify_control_params"])
        if not (
            body["header"]["namespace"]
            and body["payload"]["device_id"]
            and body["payload"]["error_code"]
        ):
            return "invalid notify_control_params"
    elif not (
        params.get("token") and params.get("skill_id") == SKILL_ID and params.get("type") == "1"
    ):
        return "invalid list update parameters"
    return None


class FakeTaobao(JsonService):
    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.refused: list[str] = []
        self.script: list[dict] = []
        super().__init__()
        self.url = self.base + "/router/rest"

    def answer(self, path: str, headers, body: bytes) -> tuple[int, dict]:
        return 200, self._answer({k: v[0] for k, v in parse_qs(body.decode()).items()})

    def _answer(self, params: dict[str, str]) -> dict:
        with self.lock:
            problem = check(dict(params))
            if problem:
                self.refused.append(problem)
                return {"error_response": {"code": 25, "msg": problem}}
            if self.script:
                return self.script.pop(0)
            for key in ("cloud_report_param", "notify_control_params"):
                if key in params:
                    params[key] = json.loads(params[key])
                    if key == "cloud_report_param":
                        params[key]["payload"] = json.loads(params[key]["payload"])
            self.calls.append(params)
            self.recorded()
        name = params["method"].replace("alibaba.", "").replace(".", "_") + "_response"
        return {name: {"result": {"success": True}, "request_id": "fake"}}

    def wait_for(self, predicate, timeout: float = 10.0) -> list[dict]:
        return super().wait_for(self.calls, predicate, timeout)
