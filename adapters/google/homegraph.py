"""The HomeGraph API: a service account's token, the project's quota, and each answer.

The token comes from google-auth, as Google's own libraries get it: a JWT
signed with the service account's key, exchanged at the key file's
`token_uri`, and kept until shortly before it expires. Every call first
takes from a bucket shared by every worker (HomeGraph allows 6,000 calls a
minute per project): past it, the report waits, and the outbox folds a
device's newer states into the one waiting.
"""

from __future__ import annotations

import os
import stat
from typing import Any

import google.auth.exceptions
import requests
from google.auth.transport.requests import Request as AuthRequest
from google.oauth2 import service_account

from bridge.plugin import AdapterContext, DeadLetter, RetryLater

DEFAULT_URL = "https://homegraph.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/homegraph"
QUOTA_PERIOD = 60.0


class UnknownAgent(Exception):
    """HomeGraph does not know the agentUserId (404): the user unlinked the bridge."""


class HomeGraph:
    def __init__(self, context: AdapterContext) -> None:
        self.context = context
        self.url = context.settings.homegraph_url.rstrip("/")
        self.key_file = context.settings.service_account
        quota = max(1.0, context.settings.quota)
        # Never more than the quota in any minute: a tenth as burst, the rest as rate.
        burst = max(1, int(quota / 10))
        self.budget = context.budgets.budget(
            "homegraph calls", (quota - burst) / QUOTA_PERIOD, burst, "calls", shared=True
        )
        self.quota = quota
        self._credentials: service_account.Credentials | None = None

    @property
    def configured(self) -> bool:
        return bool(self.key_file)

    def _load(self) -> service_account.Credentials:
        if self._credentials is None:
            mode = os.stat(self.key_file).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                self.context.log.warning(
                    "the service-account key %s is readable by others: chmod 600 it", self.key_file
                )
            self._credentials = service_account.Credentials.from_service_account_file(
                self.key_file, scopes=[SCOPE]
            )
        return self._credentials

    def token(self, force: bool = False) -> str:
        """An access token for HomeGraph, refreshed only when near expiry (or forced)."""
        try:
            credentials = self._load()
        except (OSError, ValueError, KeyError) as exc:
            raise RetryLater(f"the service-account key cannot be read: {exc}") from None
        if force or not credentials.valid:
            try:
                credentials.refresh(AuthRequest(session=self.context.http))
            except google.auth.exceptions.GoogleAuthError as exc:
                self.context.log.error("Google refused the service account's token: %s", exc)
                raise RetryLater(f"no HomeGraph token: {str(exc)[:200]}") from None
        return credentials.token

    def call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `devices:<method>`; Google's answer, or the report outcome to raise."""
        wait = self.budget.take("project")  # one quota for every worker
        if wait:
            quota = f"HomeGraph quota ({self.quota:g} calls a minute) reached"
            raise RetryLater(quota, after=wait, throttled=True)
        reply = self._post(method, body, self.token())
        if reply.status_code == 401:  # a token revoked early: a fresh one, once
            reply = self._post(method, body, self.token(force=True))
        return self._verdict(reply)

    def _post(self, method: str, body: dict[str, Any], token: str) -> requests.Response:
        try:
            return self.context.http.post(
                f"{self.url}/v1/devices:{method}",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
        except requests.RequestException as exc:
            raise RetryLater(f"HomeGraph unreachable: {exc}") from None

    @staticmethod
    def _verdict(reply: requests.Response) -> dict[str, Any]:
        try:
            body = reply.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        said = f"{error.get('status', '')}: {error.get('message', '')}".strip(" :")
        reason = f"HomeGraph {reply.status_code} {said}".strip()[:300]
        if reply.status_code == 200:
            return body
        if reply.status_code == 404:
            raise UnknownAgent(reason)
        if reply.status_code == 429:
            raise RetryLater(reason, throttled=True)
        if reply.status_code in (401, 403) or reply.status_code >= 500:
            # 403: the API is not enabled or the account lacks the role, an operator's fix
            raise RetryLater(reason)
        raise DeadLetter(reason)
