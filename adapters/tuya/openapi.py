"""Tuya's OpenAPI, signed as Tuya specifies, with its access token kept fresh.

Every call carries `client_id`, `t` (ms), `nonce`, `sign_method: HMAC-SHA256`
and `sign`: upper-case hex HMAC-SHA256, keyed with the access secret, of
client id + access token (not for token calls) + t + nonce + stringToSign,
where stringToSign is the method, the SHA-256 of the body, the signed headers
(none here) and the path with its query sorted by key, one per line. The body
is serialized once and those exact bytes are both hashed and sent.

Not `tuya-connector-python`: its last release is from 2021, it signs
`json.dumps(body)` apart from the bytes `requests` sends, and its message
consumer turns TLS verification off and acks every message whatever its
handler did.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import requests

from bridge.plugin import json_answer

TOKEN_INVALID = 1010
DEVICE_NOT_EXIST = 2010
"""Tuya's code for a device id it does not know (removed in Tuya's app, say)."""
REFRESH_AHEAD = 60.0
"""Seconds before its expiry a token is refreshed."""


class TuyaError(Exception):
    """Tuya answered the call with `success: false`."""

    def __init__(self, code: Any, message: str) -> None:
        super().__init__(f"Tuya code {code}: {message}")
        self.code = code


def canonical_url(path: str, params: Mapping[str, Any] | None = None) -> str:
    """The path and its query as signed: keys in ascending order, `k=v` joined by `&`."""
    if not params:
        return path
    return path + "?" + "&".join(f"{key}={params[key]}" for key in sorted(params))


def string_to_sign(method: str, body: bytes, url: str, headers: str = "") -> str:
    return "\n".join((method.upper(), hashlib.sha256(body).hexdigest(), headers, url))


def sign(secret: str, client_id: str, t: str, nonce: str, text: str, token: str = "") -> str:
    message = (client_id + token + t + nonce + text).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest().upper()


class OpenApi:
    """One project's calls (an access id and secret).

    The access token is the process's own (requesting one does not end
    another's), refreshed `REFRESH_AHEAD` seconds before it expires; a call
    answered "token invalid" gets a new token and is tried once more.
    """

    def __init__(
        self,
        base_url: str,
        access_id: str,
        secret: str,
        http: requests.Session,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.access_id = access_id
        self.secret = secret
        self.http = http
        self.clock = clock
        self.timeout = timeout
        self._token: dict[str, Any] | None = None

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """The call's `result`; raises TuyaError (Tuya said no), RetryLater (unreachable,
        throttled, failing) or DeadLetter (not a JSON answer)."""
        for attempt in (1, 2):
            answer = self._request(method, path, body, params, self._access_token())
            if answer.get("success") is True:
                return answer.get("result")
            if answer.get("code") == TOKEN_INVALID and attempt == 1:
                self._token = None
                continue
            raise TuyaError(answer.get("code"), str(answer.get("msg", ""))[:200])
        raise AssertionError("unreachable")

    def _access_token(self) -> str:
        token = self._token
        now = self.clock()
        if token is not None and now < token["expires_at"] - REFRESH_AHEAD:
            return token["access_token"]
        result = None
        if token is not None:  # a refresh keeps the grant; a new one if that fails
            try:
                result = self._token_call(f"/v1.0/token/{token['refresh_token']}")
            except TuyaError:
                result = None
        if result is None:
            result = self._token_call("/v1.0/token", {"grant_type": 1})
        try:
            self._token = {
                "access_token": str(result["access_token"]),
                "refresh_token": str(result["refresh_token"]),
                "expires_at": now + float(result["expire_time"]),
            }
        except (KeyError, TypeError, ValueError):
            raise TuyaError("token", "the token answer lacks its fields") from None
        return self._token["access_token"]

    def _token_call(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        answer = self._request("GET", path, None, params, "")
        if answer.get("success") is not True:
            raise TuyaError(answer.get("code"), str(answer.get("msg", ""))[:200])
        return answer.get("result")

    def _request(
        self, method: str, path: str, body: Any, params: Mapping[str, Any] | None, token: str
    ) -> dict[str, Any]:
        data = orjson.dumps(body) if body is not None else b""
        t = str(int(self.clock() * 1000))
        nonce = uuid.uuid4().hex
        text = string_to_sign(method, data, canonical_url(path, params))
        headers = {
            "client_id": self.access_id,
            "t": t,
            "nonce": nonce,
            "sign_method": "HMAC-SHA256",
            "sign": sign(self.secret, self.access_id, t, nonce, text, token),
        }
        if token:
            headers["access_token"] = token
        if body is not None:
            headers["Content-Type"] = "application/json"
        return json_answer(
            "Tuya",
            lambda: self.http.request(
                method,
                self.base_url + path,
                params=dict(params) if params else None,
                data=data or None,
                headers=headers,
                timeout=self.timeout,
            ),
        )
