"""A loopback fake of Google's OAuth token endpoint and the HomeGraph API.

As strict as the real services where the bridge can get them wrong: the
token request must be a JWT bearer grant whose assertion is signed RS256 by
the service account's key (kid, iss, aud, scope, at most an hour), HomeGraph
calls must carry a live token from it, every Report State is held to the
trait schema (tests/golden/google/states.schema.json) and every agentUserId
must be one Google learnt from a SYNC; more than `quota` calls in 60 s are
refused with 429 as HomeGraph does. It keeps each device's newest reported
state and answers `devices.query` with it; `drop_every` makes it take every
Nth report (200) and keep nothing of it, as a lost write would. A device the
user removed in Google Home (`remove`) is unknown until the next Request Sync
(Google's SYNC learns it again): a report of it is answered 404, as HomeGraph
answers for a device it does not know.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from urllib.parse import parse_qs

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google_helpers import state_errors
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from fakes import JsonService

SCOPE = "https://www.googleapis.com/auth/homegraph"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
AUDIENCE = "https://oauth2.googleapis.com/token"
"""What Google's token endpoint wants as `aud`, wherever the key file's token_uri points."""
CLIENT_EMAIL = "bridge@voice-bridge-test.iam.gserviceaccount.com"


def _error(code: int, status: str, message: str) -> tuple[int, dict]:
    return code, {"error": {"code": code, "status": status, "message": message}}


class FakeGoogle(JsonService):
    def __init__(self, directory: Path) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.key_id = secrets.token_hex(20)
        self.public = RSAKey.import_key(
            self.key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        self.access: dict[str, float] = {}
        self.agents: set[str] = set()
        self.token_calls: list[dict] = []
        self.reports: list[dict] = []
        self.syncs: list[dict] = []
        self.refused: list[dict] = []
        self.calls: list[float] = []
        self.quota = 6000
        self.graph: dict[str, dict[str, dict]] = {}  # agentUserId -> device id -> state held
        self.drop_every = 0  # every Nth Report State is answered 200 and not kept (0: none)
        self.dropped = 0
        self.queries: list[dict] = []
        self.removed: dict[str, set[str]] = {}  # agentUserId -> device ids Google forgot
        super().__init__()
        self.token_uri = self.base + "/token"
        self.key_file = directory / "service-account.json"
        self.key_file.write_text(json.dumps(self._key_document()))
        os.chmod(self.key_file, 0o600)

    def _key_document(self) -> dict:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return {
            "type": "service_account",
            "project_id": "voice-bridge-test",
            "private_key_id": self.key_id,
            "private_key": pem,
            "client_email": CLIENT_EMAIL,
            "client_id": "1234567890",
            "token_uri": self.token_uri,
        }

    def answer(self, path: str, headers, body: bytes) -> tuple[int, dict | None]:
        if path == "/token":
            return self._token(headers, body)
        bearer = headers.get("Authorization", "").removeprefix("Bearer ")
        with self.lock:
            if self.access.get(bearer, 0) < time.time():
                return _error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
            now = time.monotonic()
            self.calls = [t for t in self.calls if now - t < 60] + [now]
            if len(self.calls) > self.quota:
                return _error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for HomeGraph.")
        try:
            doc = json.loads(body)
        except ValueError:
            return _error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        if path == "/v1/devices:reportStateAndNotification":
            return self._record(self.reports, doc, self._report_errors(doc))
        if path == "/v1/devices:query":
            return self._query(doc)
        if path == "/v1/devices:requestSync":
            ok = set(doc) <= {"agentUserId", "async"} and isinstance(doc.get("async"), bool)
            return self._record(self.syncs, doc, [] if ok else ["unknown fields"])
        return _error(404, "NOT_FOUND", "no such method")

    def _record(self, into: list, doc: dict, errors: list[str]) -> tuple[int, dict]:
        with self.lock:
            if errors:
                self.refused.append({"errors": errors, **doc})
                self.recorded()
                return _error(400, "INVALID_ARGUMENT", "; ".join(errors))
            agent = doc.get("agentUserId")
            if agent not in self.agents:
                return _error(404, "NOT_FOUND", "Requested entity was not found.")
            payload = doc.get("payload", {}).get("devices", {})
            named = {i for part in payload.values() for i in part} if payload else set()
            if named & self.removed.get(agent, set()):
                return _error(404, "NOT_FOUND", "Device ID cannot be found.")
            if into is self.syncs:  # Google's SYNC that follows learns every device again
                self.removed.pop(agent, None)
            into.append(doc)
            if into is self.reports:
                self._hold(doc)
            self.recorded()
            return 200, {"requestId": doc.get("requestId", "")}

    def _hold(self, doc: dict) -> None:
        """Keep each device's newest state, as Home Graph does (or lose it, when told to)."""
        if self.drop_every and len(self.reports) % self.drop_every == 0:
            self.dropped += 1
            return
        held = self.graph.setdefault(doc["agentUserId"], {})
        for device_id, state in doc["payload"]["devices"].get("states", {}).items():
            held.setdefault(device_id, {}).update(state)

    def remove(self, agent: str, device_id: str) -> None:
        """The user removed the device in Google Home: forgotten until the next SYNC."""
        with self.lock:
            self.removed.setdefault(agent, set()).add(device_id)
            self.graph.get(agent, {}).pop(device_id, None)

    def _query(self, doc: dict) -> tuple[int, dict]:
        """devices.query: the state Home Graph holds of each device asked for."""
        inputs = doc.get("inputs")
        ok = (
            set(doc) == {"requestId", "agentUserId", "inputs"}
            and isinstance(inputs, list)
            and len(inputs) == 1
            and isinstance(inputs[0].get("payload", {}).get("devices"), list)
            and all(
                isinstance(d, dict) and set(d) == {"id"} for d in inputs[0]["payload"]["devices"]
            )
        )
        if not ok:
            return _error(400, "INVALID_ARGUMENT", "query: requestId, agentUserId, inputs")
        with self.lock:
            if doc["agentUserId"] not in self.agents:
                return _error(404, "NOT_FOUND", "Requested entity was not found.")
            self.queries.append(doc)
            held = self.graph.get(doc["agentUserId"], {})
            ids = [d["id"] for d in inputs[0]["payload"]["devices"]]
            found = {i: dict(held[i]) for i in ids if i in held}
        return 200, {"requestId": doc["requestId"], "payload": {"devices": found}}

    def _report_errors(self, doc: dict) -> list[str]:
        if not isinstance(doc.get("requestId"), str) or not isinstance(doc.get("agentUserId"), str):
            return ["requestId and agentUserId are required"]
        devices = doc.get("payload", {}).get("devices")
        if (
            not isinstance(devices, dict)
            or not devices
            or set(devices) - {"states", "notifications"}
        ):
            return ["payload.devices must hold states or notifications"]
        errors = []
        for state in devices.get("states", {}).values():
            errors += state_errors(state)
        for note in devices.get("notifications", {}).values():
            found = note.get("ObjectDetection", {})
            if set(note) != {"ObjectDetection"} or found.get("priority") != 0:
                errors.append("only ObjectDetection notifications, priority 0")
            if not isinstance(found.get("detectionTimestamp"), int) or not found.get("objects"):
                errors.append("detectionTimestamp (ms) and objects are required")
            if not isinstance(doc.get("eventId"), str):
                errors.append("a notification needs an eventId")
        return errors

    def _token(self, headers, body: bytes) -> tuple[int, dict]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        with self.lock:
            self.token_calls.append(form)
        if form.get("grant_type") != GRANT:
            return 400, {"error": "unsupported_grant_type"}
        try:
            token = jwt.decode(form.get("assertion", ""), self.public, algorithms=["RS256"])
        except (JoseError, ValueError) as exc:
            return 400, {"error": "invalid_grant", "error_description": f"bad signature: {exc}"}
        claims, now = token.claims, time.time()
        ok = (
            token.header.get("kid") == self.key_id
            and claims.get("iss") == CLIENT_EMAIL
            and claims.get("aud") == AUDIENCE
            and claims.get("scope") == SCOPE
            and claims.get("iat", 0) <= now + 60
            and now < claims.get("exp", 0) <= claims.get("iat", 0) + 3600
        )
        if not ok:
            return 400, {"error": "invalid_grant", "error_description": "bad claims"}
        access = "ya29." + secrets.token_urlsafe(24)
        with self.lock:
            self.access[access] = now + 3600
        return 200, {"access_token": access, "expires_in": 3599, "token_type": "Bearer"}

    def expire_all(self) -> None:
        with self.lock:
            self.access = {t: 0.0 for t in self.access}
