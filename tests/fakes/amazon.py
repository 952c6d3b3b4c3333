"""Loopback fakes of Login with Amazon and the Alexa Event Gateway.

They check what they receive as strictly as the real services: the LWA form
fields and client credentials, the gateway's bearer token (it must be a live
LWA access token and match the event's scope) and every event against
Amazon's published schema. Tests script their answers (401, 403, 429, 500).
"""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import parse_qs

from conformance import alexa_schema
from jsonschema import Draft4Validator

from fakes import JsonService

_SCHEMA = alexa_schema()
SCHEMA = Draft4Validator(_SCHEMA) if _SCHEMA is not None else None
"""Amazon's schema when the conformance set is there (always in CI); see tests/conformance.py."""
CLIENT_ID, CLIENT_SECRET = "amzn1.application-oa2-client.test", "lwa-client-secret"


def schema_errors(event: dict) -> list[str]:
    """Amazon's schema has no DeleteReport; that one is checked by hand, as the docs describe."""
    header = event.get("event", {}).get("header", {})
    if header.get("name") == "DeleteReport":
        payload = event["event"]["payload"]
        ok = (
            header.get("namespace") == "Alexa.Discovery"
            and header.get("payloadVersion") == "3"
            and payload["scope"]["type"] == "BearerToken"
            and all(set(e) == {"endpointId"} for e in payload["endpoints"])
        )
        return [] if ok else ["malformed DeleteReport"]
    if SCHEMA is None:
        return [] if isinstance(event.get("event", {}).get("header"), dict) else ["no header"]
    return [e.message for e in SCHEMA.iter_errors(event)][:3]


class FakeAmazon(JsonService):
    def __init__(self) -> None:
        self.codes: set[str] = set()
        self.access: dict[str, float] = {}  # live access tokens and their expiry
        self.refresh: set[str] = set()
        self.lwa_calls: list[dict] = []
        self.events: list[dict] = []
        self.script: list[tuple[int, str]] = []  # forced gateway answers, in order
        super().__init__()
        self.lwa_url, self.gateway_url = self.base + "/auth/o2/token", self.base + "/v3/events"

    def answer(self, path: str, headers, body: bytes) -> tuple[int, dict | None]:
        if path == "/auth/o2/token":
            return self._lwa(headers, body)
        if path == "/v3/events":
            return self._gateway(headers, body)
        return 404, {}

    def issue_code(self) -> str:
        code = "ANSKcode" + secrets.token_hex(8)
        self.codes.add(code)
        return code

    def _tokens(self, refresh: str | None = None) -> dict:
        access = "Atza|" + secrets.token_hex(16)
        self.access[access] = time.time() + 3600
        refresh = refresh or "Atzr|" + secrets.token_hex(16)
        self.refresh.add(refresh)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": 3600,
        }

    def _lwa(self, headers, body: bytes) -> tuple[int, dict]:
        if not headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return 400, {"error": "invalid_request", "error_description": "form encoding"}
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        with self.lock:
            self.lwa_calls.append(form)
            if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
                return 401, {"error": "invalid_client"}
            if form.get("grant_type") == "authorization_code" and form.get("code") in self.codes:
                self.codes.discard(form["code"])  # single use
                return 200, self._tokens()
            if (
                form.get("grant_type") == "refresh_token"
                and form.get("refresh_token") in self.refresh
            ):
                return 200, self._tokens(form["refresh_token"])
            return 400, {"error": "invalid_grant", "error_description": "unknown code or token"}

    def expire_all(self) -> None:
        with self.lock:
            self.access = {t: 0.0 for t in self.access}

    def revoke_all(self) -> None:
        """What the user disabling the skill does."""
        with self.lock:
            self.access.clear()
            self.refresh.clear()

    def _gateway(self, headers, body: bytes) -> tuple[int, dict | None]:
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        event = json.loads(body)
        with self.lock:
            if self.access.get(token, 0) < time.time():
                return 401, _exception("INVALID_ACCESS_TOKEN_EXCEPTION")
            errors = schema_errors(event)
            payload = event.get("event", {}).get("payload", {})
            scope = event.get("event", {}).get("endpoint", {}).get("scope") or payload.get("scope")
            if errors or scope != {"type": "BearerToken", "token": token}:
                self.events.append({"rejected": errors or ["scope token differs"], **event})
                self.recorded()
                return 400, _exception("INVALID_REQUEST_EXCEPTION")
            if self.script:
                status, code = self.script.pop(0)
                return status, _exception(code)
            self.events.append(event)
            self.recorded()
            return 202, None

    def wait_for(self, predicate, timeout: float = 10.0) -> list[dict]:
        return super().wait_for(self.events, predicate, timeout)


def _exception(code: str) -> dict:
    return {
        "header": {"namespace": "System", "name": "Exception", "messageId": "x"},
        "payload": {"code": code, "description": code.replace("_", " ").lower()},
    }
