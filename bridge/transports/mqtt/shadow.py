"""The device shadow service, with AWS IoT's semantics, as pure functions.

A document is `{"state": {"desired": {...}, "reported": {...}}, "metadata":
{"desired": {...}, "reported": {...}}}` with a version beside it. Updates
merge (a key set to null is deleted, `"desired": null` clears desired),
metadata keeps a timestamp per key, `delta` is what desired asks that
reported does not say. A delete removes the document but not its version
(the next update goes on from it, as AWS's does). Errors carry AWS's codes:
400 for a malformed request, 404 for a get or delete with no shadow, 409
for a version conflict, 413 over 8 KB of state.

Every request is answered, accepted or rejected; a clientToken is echoed
only when it is one (a string of at most 64 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from bridge.plugin import boundary

MAX_STATE_BYTES = 8 * 1024
MAX_PAYLOAD_BYTES = 128 * 1024
MAX_TOKEN_BYTES = 64
MAX_DEPTH = 6
UNSET: Any = object()


class Rejected(Exception):
    """An update or get the service refuses, with AWS's error code."""

    def __init__(self, code: int, message: str, client_token: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_token = client_token

    def body(self, now: float) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "timestamp": int(now)}
        if self.client_token:
            out["clientToken"] = self.client_token
        return out


@dataclass(frozen=True)
class Update:
    """A parsed `/update` request. `desired`/`reported` are UNSET when absent, None to clear."""

    desired: Any = UNSET
    reported: Any = UNSET
    client_token: str | None = None
    version: int | None = None
    observed_ms: int | None = None
    """The optional top-level `timestamp` (epoch ms): when the thing observed the values."""


def _empty() -> dict[str, dict[str, Any]]:
    return {"desired": {}, "reported": {}}


@dataclass
class Shadow:
    state: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {"desired": {}, "reported": {}}
    )
    metadata: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {"desired": {}, "reported": {}}
    )
    version: int = 0
    exists: bool = False
    """Whether there is a document (a get of none, or of a deleted one, is a 404)."""
    connected: bool = False
    """The thing's reachability as the bridge last learnt it (kept beside the document,
    never served to things): any message from it, its will, its goodbye, the broker's
    presence events, or its own `connection_status`."""

    @classmethod
    def load(cls, stored: tuple[dict[str, Any], int] | None) -> Shadow:
        if stored is None:
            return cls()
        document, version = stored
        state = document["state"]
        # Stored before reachability was kept apart: the thing's own connection_status.
        said = state.get("reported", {}).get("connection_status") == "connected"
        return cls(
            state,
            document["metadata"],
            version,
            bool(document.get("exists", version > 0)),
            bool(document.get("connected", said)),
        )

    def document(self) -> dict[str, Any]:
        """The document as AWS's shadow service serves it."""
        return {"state": self.state, "metadata": self.metadata}

    def stored(self) -> dict[str, Any]:
        """The document with what the bridge keeps beside it."""
        return {**self.document(), "exists": self.exists, "connected": self.connected}

    @property
    def desired(self) -> dict[str, Any]:
        return self.state["desired"]

    @property
    def reported(self) -> dict[str, Any]:
        return self.state["reported"]

    def delta(self) -> dict[str, Any]:
        return _delta(self.desired, self.reported)


def _copy(value: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON document (orjson's round trip beats copy.deepcopy)."""
    return orjson.loads(orjson.dumps(value))


def _depth(value: Any, level: int = 0) -> int:
    if isinstance(value, dict) and value:
        return max(_depth(v, level + 1) for v in value.values())
    return level


def parse_request(raw: bytes, *, empty: bool = False) -> tuple[dict[str, Any], str | None]:
    """A request's body and its clientToken; Rejected 400 (413) for anything else.

    `empty`: an empty payload is `{}` (a get or a delete may have none). Numbers are
    bounded to 64 bits: the document is kept and served as it is."""
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise Rejected(413, "The payload exceeds the maximum size allowed")
    if empty and not raw.strip():
        return {}, None
    try:
        body = boundary.loads(raw, untyped=True)
    except boundary.Malformed:
        raise Rejected(400, "Invalid JSON") from None
    if not isinstance(body, dict):
        raise Rejected(400, "Invalid JSON")
    token = body.get("clientToken")
    if token is not None and (not isinstance(token, str) or len(token.encode()) > MAX_TOKEN_BYTES):
        raise Rejected(400, "Invalid clientToken")
    return body, token


def parse_update(raw: bytes) -> Update:
    """An update request, strictly: anything else is a 400 (or 413 when too big)."""
    body, token = parse_request(raw)
    if "state" not in body:
        raise Rejected(400, "Missing required node: state", token)
    state = body["state"]
    if not isinstance(state, dict) or set(state) - {"desired", "reported"}:
        raise Rejected(400, "State contains an invalid node", token)
    if not state:
        raise Rejected(400, "State node must have a desired or reported node", token)
    for node in ("desired", "reported"):
        if node in state and state[node] is not None and not isinstance(state[node], dict):
            raise Rejected(400, f"{node.capitalize()} node must be an object", token)
    if _depth(state) > MAX_DEPTH + 1:
        raise Rejected(400, "JSON contains too many levels of nesting; maximum is 6", token)
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise Rejected(400, "Invalid version", token)
    stamp = body.get("timestamp")
    observed = (
        stamp if isinstance(stamp, int) and not isinstance(stamp, bool) and stamp > 0 else None
    )
    return Update(
        state.get("desired", UNSET), state.get("reported", UNSET), token, version, observed
    )


def _merge(target: dict[str, Any], meta: dict[str, Any], change: dict[str, Any], at: int) -> None:
    for key, value in change.items():
        if value is None:
            target.pop(key, None)
            meta.pop(key, None)
        elif isinstance(value, dict):
            inner = target.get(key)
            if not isinstance(inner, dict):
                inner = target[key] = {}
            inner_meta = meta.get(key)
            if not isinstance(inner_meta, dict) or "timestamp" in inner_meta:
                inner_meta = meta[key] = {}
            _merge(inner, inner_meta, value, at)
        else:
            target[key] = value
            meta[key] = {"timestamp": at}


def _delta(desired: dict[str, Any], reported: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, want in desired.items():
        have = reported.get(key, UNSET)
        if isinstance(want, dict) and isinstance(have, dict):
            inner = _delta(want, have)
            if inner:
                out[key] = inner
        elif have is UNSET or have != want:
            out[key] = want
    return out


def _meta_of(meta: dict[str, Any], shape: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in shape.items():
        if isinstance(value, dict) and isinstance(meta.get(key), dict):
            out[key] = _meta_of(meta[key], value)
        elif key in meta:
            out[key] = meta[key]
    return out


@dataclass(frozen=True)
class Applied:
    """What an accepted update publishes, and the shadow after it."""

    shadow: Shadow
    accepted: dict[str, Any]
    documents: dict[str, Any]
    delta: dict[str, Any] | None
    """The `/update/delta` body, when desired differs from reported."""


def apply(current: Shadow, update: Update, now: float) -> Applied:
    """Merge an update; raise Rejected (409, 413) without changing anything."""
    token = update.client_token
    if update.version is not None and update.version != current.version:
        raise Rejected(409, "Version conflict", token)
    at = int(now)
    new = Shadow(
        _copy(current.state),
        _copy(current.metadata),
        current.version + 1,
        exists=True,
        connected=current.connected,
    )
    accepted_state: dict[str, Any] = {}
    for node in ("desired", "reported"):
        change = getattr(update, node)
        if change is UNSET:
            continue
        accepted_state[node] = change
        if change is None:
            new.state[node], new.metadata[node] = {}, {}
        else:
            _merge(new.state[node], new.metadata[node], change, at)
    size = len(orjson.dumps(new.state)) - len('{"desired":{},"reported":{}}')
    if size > MAX_STATE_BYTES:
        raise Rejected(413, "The payload exceeds the maximum size allowed", token)
    extra = {"clientToken": token} if token else {}
    accepted = {
        "state": accepted_state,
        "metadata": {
            node: _meta_of(new.metadata[node], change)
            for node, change in accepted_state.items()
            if isinstance(change, dict)
        },
        "version": new.version,
        "timestamp": at,
        **extra,
    }
    # Shadows are never changed in place (each update copies), so both can be shared.
    documents = {
        "previous": {**current.document(), "version": current.version},
        "current": {**new.document(), "version": new.version},
        "timestamp": at,
        **extra,
    }
    delta_state = new.delta()
    delta = None
    if delta_state and "desired" in accepted_state:
        delta = {
            "state": delta_state,
            "metadata": _meta_of(new.metadata["desired"], delta_state),
            "version": new.version,
            "timestamp": at,
            **extra,
        }
    return Applied(new, accepted, documents, delta)


def acknowledged(current: Shadow, update: Update, now: float) -> dict[str, Any]:
    """`/update/accepted` for an update that left nothing to keep (a thing's refusal of a
    command, which never enters the shadow): the shadow's version, unchanged."""
    body: dict[str, Any] = {
        "state": {"reported": update.reported},
        "metadata": {},
        "version": current.version,
        "timestamp": int(now),
    }
    if update.client_token:
        body["clientToken"] = update.client_token
    return body


def no_shadow(client_token: str | None) -> Rejected:
    return Rejected(404, "No shadow exists with name: ''", client_token)


def delete(current: Shadow, now: float, client_token: str | None = None) -> tuple[Shadow, dict]:
    """The shadow after a delete, and the `/delete/accepted` body; Rejected 404 when there
    is no shadow. The version is kept: the next update goes on from it."""
    if not current.exists:
        raise no_shadow(client_token)
    gone = Shadow(version=current.version, exists=False, connected=current.connected)
    accepted: dict[str, Any] = {"version": current.version, "timestamp": int(now)}
    if client_token:
        accepted["clientToken"] = client_token
    return gone, accepted


def get_accepted(current: Shadow, now: float, client_token: str | None = None) -> dict[str, Any]:
    """The `/get/accepted` body; Rejected 404 when the thing has no shadow."""
    if not current.exists:
        raise no_shadow(client_token)
    state: dict[str, Any] = {k: v for k, v in current.state.items() if v}
    delta = current.delta()
    if delta:
        state["delta"] = delta
    out = {
        "state": state,
        "metadata": {k: v for k, v in current.metadata.items() if v},
        "version": current.version,
        "timestamp": int(now),
    }
    if client_token:
        out["clientToken"] = client_token
    return out
