"""Login with Amazon: the tokens that let the bridge send events for a user."""

from __future__ import annotations

import time
from typing import Any

import requests

from bridge.plugin import AdapterContext, LinkRevoked, RetryLater

REFRESH_MARGIN = 300.0
GATEWAYS = {
    "NA": "https://api.amazonalexa.com/v3/events",
    "EU": "https://api.eu.amazonalexa.com/v3/events",
    "FE": "https://api.fe.amazonalexa.com/v3/events",
}
AWS_REGIONS = {"us-east-1": "NA", "eu-west-1": "EU", "us-west-2": "FE"}


class LwaError(Exception):
    def __init__(self, status: int, error: str, description: str = "") -> None:
        super().__init__(f"LWA {status} {error}: {description}".strip())
        self.status, self.error = status, error


class Lwa:
    def __init__(self, context: AdapterContext) -> None:
        self.context = context

    def _post(self, form: dict[str, str]) -> dict[str, Any]:
        form = {
            **form,
            "client_id": self.context.settings.client_id,
            "client_secret": self.context.settings.client_secret,
        }
        url = self.context.settings.lwa_url
        try:
            reply = self.context.http.post(url, data=form, timeout=5)
        except requests.RequestException as exc:
            raise LwaError(0, "unreachable", str(exc)) from exc
        try:
            body = reply.json()
        except ValueError:
            body = {}
        if reply.status_code != 200 or "access_token" not in body:
            raise LwaError(
                reply.status_code,
                str(body.get("error", "error")),
                str(body.get("error_description", ""))[:200],
            )
        return body

    def accept_grant(self, code: str, region: str) -> dict[str, Any]:
        """Exchange AcceptGrant's code; return the link data to store."""
        body = self._post({"grant_type": "authorization_code", "code": code})
        return self._link(body, region)

    def _link(self, body: dict[str, Any], region: str) -> dict[str, Any]:
        return {
            "access_token": body["access_token"],
            "refresh_token": body["refresh_token"],
            "expires_at": time.time() + float(body.get("expires_in", 3600)),
            "region": region,
        }

    def access_token(self, user_id: int, link: dict[str, Any], force: bool = False) -> str:
        """A valid LWA access token, refreshed ahead of expiry (or now, if forced)."""
        if not force and link["expires_at"] - time.time() > REFRESH_MARGIN:
            return link["access_token"]
        try:
            body = self._post(
                {"grant_type": "refresh_token", "refresh_token": link["refresh_token"]}
            )
        except LwaError as exc:
            if exc.error == "invalid_grant":
                self.context.links.revoke(user_id, "LWA refused the refresh token")
                raise LinkRevoked("the user disabled the skill (invalid_grant)") from exc
            raise RetryLater(str(exc)) from exc
        link.update(
            self._link(
                {**body, "refresh_token": body.get("refresh_token") or link["refresh_token"]},
                link["region"],
            )
        )
        self.context.links.put(user_id, link)
        return link["access_token"]

    def gateway(self, link: dict[str, Any]) -> str:
        return self.context.settings.gateway_url or GATEWAYS.get(link["region"], GATEWAYS["NA"])
