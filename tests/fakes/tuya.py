"""A loopback fake of Tuya's OpenAPI for cloud-to-cloud devices.

As strict as Tuya: every call's signature is computed again here, from the
bytes received, and a wrong one is refused (code 1004); business calls need
a token this fake issued and has not expired (code 1010); bodies are checked
as the documentation describes them (names of 4 to 50 characters, known
products, `msg_id` of at most 32 characters, 13-digit times, codes the
product defines, each value of its code's type). Answers use Tuya's envelope
`{result, success, t, code, msg}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fakes import JsonService

ACCESS_ID = "tuya-test-access-id"
ACCESS_SECRET = "tuya-test-access-secret-0123456789"
PRODUCTS = {
    t: f"prod-{t.replace('_', '-')}-01"
    for t in ("light", "plug", "blinds", "energy_meter", "leak_sensor", "garage_door", "button")
}
METERING = {"cur_power": int, "add_ele": int}
CODES: dict[str, dict[str, Any]] = {  # each product's thing model: code -> its value's type
    "prod-light-01": {
        "switch_led": bool,
        "bright_value_v2": int,
        "temp_value_v2": int,
        "colour_data_v2": dict,
    },
    "prod-plug-01": {"switch_1": bool, **METERING},
    "prod-blinds-01": {"percent_control": int, "control": {"open", "stop", "close"}},
    "prod-energy-meter-01": METERING,
    "prod-leak-sensor-01": {"watersensor_state": {"alarm", "normal"}},
    "prod-garage-door-01": {"switch_1": bool},
    "prod-button-01": {"switch1_value": {"single_click", "double_click", "long_press"}},
}
"""Codes, types and enum ranges as Tuya's standard instruction sets define them."""


def _fits(kind: Any, value: Any) -> bool:
    """A value of the thing model's type: an enum's word, or a bool, value or JSON."""
    if isinstance(kind, set):
        return value in kind
    return isinstance(value, kind) and (kind is bool or not isinstance(value, bool))


DEVICES = "/v1.0/iot-03/3rdcloud/devices/"


class FakeTuya(JsonService):
    def __init__(self, token_ttl: int = 7200) -> None:
        self.token_ttl = token_ttl
        self.tokens: dict[str, float] = {}  # access token -> expiry
        self.refresh: dict[str, str] = {}  # refresh token -> its access token
        self.devices: dict[str, dict[str, Any]] = {}  # Tuya id -> device
        self.reports: list[dict[str, Any]] = []  # {"device", "data"}
        self.presence: list[tuple[str, str]] = []  # (Tuya id, "online" | "offline")
        self.action_responses: list[dict[str, Any]] = []  # {"device", "msg_id", "data"}
        self.registrations: list[str] = []  # the bridge's id of each register call
        self.refused: list[dict[str, Any]] = []
        self.token_calls = 0
        self.outage = False  # answer 503 to everything
        super().__init__()

    # What tests ask
    def by_bridge_id(self, device_id: str) -> dict[str, Any] | None:
        with self.lock:
            return next((d for d in self.devices.values() if d["third"] == device_id), None)

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    # The service
    def answer_method(self, method: str, path: str, headers, body: bytes) -> tuple[int, Any]:
        url = urlsplit(path)
        query = dict(parse_qsl(url.query))
        with self.lock:
            if self.outage:
                return 503, None
            token = headers.get("access_token", "")
            if not self._signed(method, url.path, query, headers, body, token):
                return self._refuse(1004, "sign invalid", path)
            if url.path == "/v1.0/token" or url.path.startswith("/v1.0/token/"):
                return 200, self._token(url.path, query)
            if self.tokens.get(token, 0) < time.time():
                return self._refuse(1010, "token invalid", path)
            try:
                doc = json.loads(body) if body else None
            except ValueError:
                return self._refuse(1109, "param is illegal", path)
            return 200, self._business(method, url.path, doc)

    def _signed(self, method, path, query, headers, body: bytes, token: str) -> bool:
        client_id, t, nonce = headers.get("client_id"), headers.get("t", ""), headers.get("nonce")
        if client_id != ACCESS_ID or headers.get("sign_method") != "HMAC-SHA256" or not nonce:
            return False
        if not re.fullmatch(r"\d{13}", t) or abs(int(t) / 1000 - time.time()) > 300:
            return False
        signed_url = path + (
            "?" + "&".join(f"{k}={query[k]}" for k in sorted(query)) if query else ""
        )
        text = f"{method}\n{hashlib.sha256(body).hexdigest()}\n\n{signed_url}"
        expected = hmac.new(
            ACCESS_SECRET.encode(), (client_id + token + t + nonce + text).encode(), hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected.upper(), headers.get("sign", ""))

    def _token(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        if path == "/v1.0/token":
            if query.get("grant_type") != "1":
                return self._refusal(1106, "permission deny")
        else:
            old = self.refresh.pop(path.rsplit("/", 1)[1], None)
            if old is None:
                return self._refusal(1012, "refresh token invalid")
            self.tokens.pop(old, None)
        self.token_calls += 1
        access, refresh = f"tok-{self.token_calls}", f"ref-{self.token_calls}"
        self.tokens[access] = time.time() + self.token_ttl
        self.refresh[refresh] = access
        return self._ok(
            {"access_token": access, "refresh_token": refresh, "expire_time": self.token_ttl}
        )

    def _business(self, method: str, path: str, doc: Any) -> dict[str, Any]:
        if not path.startswith(DEVICES):
            return self._refusal(1108, "uri path invalid")
        parts = path[len(DEVICES) :].split("/")
        if method == "POST" and len(parts) == 2 and parts[1] == "register":
            return self._register(parts[0], doc)
        device = self.devices.get(parts[0])
        if device is None:
            return self._refusal(2010, "device not exist")
        if method == "PUT" and len(parts) == 2 and parts[1] in ("online", "offline"):
            device["online"] = parts[1] == "online"
            self.presence.append((parts[0], parts[1]))
            self.recorded()
            return self._ok(True)
        if method == "PUT" and len(parts) == 1:
            name = (doc or {}).get("device_name")
            if not isinstance(name, str) or not 4 <= len(name) <= 50:
                return self._refusal(1109, "param is illegal")
            device["name"] = name
            self.recorded()
            return self._ok(True)
        if method == "DELETE" and parts[1:] == ["remove"]:
            del self.devices[parts[0]]
            self.recorded()
            return self._ok(True)
        if method == "POST" and parts[1:] == ["property", "report"]:
            return self._property_report(parts[0], device, doc)
        if method == "POST" and parts[1:] == ["action-resp", "report"]:
            return self._action_response(parts[0], doc)
        return self._refusal(1108, "uri path invalid")

    def _register(self, third: str, doc: Any) -> dict[str, Any]:
        name = (doc or {}).get("device_name")
        product = (doc or {}).get("product_id")
        if not re.fullmatch(r"[A-Za-z0-9]{1,64}", third):
            return self._refusal(1109, "param is illegal")
        if not isinstance(name, str) or not 4 <= len(name) <= 50 or product not in CODES:
            return self._refusal(1109, "param is illegal")
        self.registrations.append(third)
        tuya_id = next((i for i, d in self.devices.items() if d["third"] == third), None)
        if tuya_id is None:
            tuya_id = f"vdevo{len(self.devices) + 1:05d}{third[:8]}"
        self.devices[tuya_id] = {
            "id": tuya_id,
            "third": third,
            "name": name,
            "product": product,
            "online": False,
        }
        self.recorded()
        result: dict[str, Any] = {"device_id": tuya_id}
        if (doc or {}).get("has_qrcode") is True:  # a pairing URL only when asked for
            result["short_url"] = f"https://smartapp.tuya.com/s/{tuya_id}"
        return self._ok(result)

    def _property_report(self, tuya_id: str, device: dict, doc: Any) -> dict[str, Any]:
        msg_id, data = (doc or {}).get("msg_id"), (doc or {}).get("data")
        valid = (
            isinstance(msg_id, str)
            and 1 <= len(msg_id) <= 32
            and isinstance(data, dict)
            and data
            and set(doc) == {"msg_id", "data"}
            and all(
                code in CODES[device["product"]]
                and isinstance(entry, dict)
                and set(entry) == {"value", "time"}
                and _fits(CODES[device["product"]][code], entry["value"])
                and isinstance(entry["time"], int)
                and len(str(entry["time"])) == 13
                for code, entry in data.items()
            )
        )
        if not valid:
            return self._refusal(1109, "param is illegal")
        self.reports.append({"device": tuya_id, "data": data})
        self.recorded()
        return self._ok(True)

    def _action_response(self, tuya_id: str, doc: Any) -> dict[str, Any]:
        msg_id, data = (doc or {}).get("msg_id"), (doc or {}).get("data")
        if (
            not isinstance(msg_id, str)
            or not 1 <= len(msg_id) <= 64
            or not isinstance(data, dict)
            or set(data) != {"actionCode", "code", "outputParams"}
            or not isinstance(data["actionCode"], str)
        ):
            return self._refusal(1109, "param is illegal")
        self.action_responses.append({"device": tuya_id, "msg_id": msg_id, "data": data})
        self.recorded()
        return self._ok(True)

    # Envelopes
    @staticmethod
    def _ok(result: Any) -> dict[str, Any]:
        return {"result": result, "success": True, "t": int(time.time() * 1000)}

    @staticmethod
    def _refusal(code: int, msg: str) -> dict[str, Any]:
        return {"success": False, "code": code, "msg": msg, "t": int(time.time() * 1000)}

    def _refuse(self, code: int, msg: str, path: str) -> tuple[int, dict[str, Any]]:
        self.refused.append({"code": code, "path": path})
        return 200, self._refusal(code, msg)
