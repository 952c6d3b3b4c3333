"""Proactive events to the Alexa Event Gateway, and what each answer means."""

from __future__ import annotations

from typing import Any

import requests

from adapters.alexa import messages
from adapters.alexa.auth import Lwa
from adapters.alexa.capabilities import endpoint_for
from adapters.alexa.discovery import endpoint as discovery_endpoint
from adapters.alexa.errors import from_core
from bridge.plugin import (
    CONNECTIVITY,
    AdapterContext,
    BridgeError,
    DeadLetter,
    DeviceOffline,
    DeviceRefused,
    DeviceTimeout,
    LinkRevoked,
    RetryLater,
    StateChange,
    User,
)

LATE_ERRORS: dict[str, type[BridgeError]] = {
    "timeout": DeviceTimeout,
    "offline": DeviceOffline,
    "disconnected": DeviceOffline,
    "refused": DeviceRefused,
}
"""A late result's error code back to the core error Alexa's table maps."""

CAUSES = {
    "PHYSICAL_INTERACTION",
    "APP_INTERACTION",
    "PERIODIC_POLL",
    "RULE_TRIGGER",
    "VOICE_INTERACTION",
}


class Reports:
    def __init__(self, context: AdapterContext, lwa: Lwa, read_state) -> None:
        self.context = context
        self.lwa = lwa
        self.read_state = read_state

    def send(self, user: User, change: StateChange) -> None:
        link = self.context.links.get(user.id)
        if link is None:
            return  # not linked for events: nothing to tell
        build = self._build(user, change)
        if build is None:
            return
        token = self.lwa.access_token(user.id, link)
        status, body = self._post(link, build(token), token)
        if status == 401:  # refresh and retry once
            token = self.lwa.access_token(user.id, link, force=True)
            status, body = self._post(link, build(token), token)
        self._verdict(user, status, body)

    def _build(self, user: User, change: StateChange):
        """A function token -> event, or None when there is nothing Alexa needs to hear."""
        if change.kind == "late":
            return self._late(user, change)
        if change.kind == "removed":
            return lambda token: self._discovery(
                "DeleteReport", [{"endpointId": change.device_id}], token
            )
        device = self.context.reported_device(user, change.device_id)
        if change.kind in ("added", "updated"):
            return lambda token: self._discovery(
                "AddOrUpdateReport", [discovery_endpoint(device)], token
            )
        if change.action == "DoorbellPress":
            return lambda token: messages.event(
                "Alexa.DoorbellEventSource",
                "DoorbellPress",
                endpoint_id=device.id,
                scope_token=token,
                payload={
                    "cause": {"type": "PHYSICAL_INTERACTION"},
                    "timestamp": messages.time_of_sample(change.at),
                },
            )
        changed = set(change.changed)
        names = {n for i in endpoint_for(device.type).interfaces for n in i.shadow_names()}
        names.add(CONNECTIVITY)  # Alexa.EndpointHealth is proactively reported too
        if not changed & names:
            return None  # Alexa ignores reports whose values did not move
        changed_props = self.read_state(device, changed)
        others = [
            p
            for p in self.read_state(device, None)
            if (p["namespace"], p["name"], p.get("instance"))
            not in {(c["namespace"], c["name"], c.get("instance")) for c in changed_props}
        ]
        cause = change.cause if change.cause in CAUSES else "PHYSICAL_INTERACTION"
        return lambda token: messages.event(
            "Alexa",
            "ChangeReport",
            endpoint_id=device.id,
            scope_token=token,
            payload={"change": {"cause": {"type": cause}, "properties": changed_props}},
            properties=others,
        )

    def _late(self, user: User, change: StateChange):
        """The answer to a directive Alexa was told to wait for (a DeferredResponse):
        the Response with the device's state, or the ErrorResponse, by correlation token."""
        if not change.reply_to:
            return None  # Alexa was answered at the time: nothing more to say
        device = self.context.reported_device(user, change.device_id)
        if change.outcome == "ok":
            properties = self.read_state(device, None)
            return lambda token: messages.event(
                "Alexa",
                "Response",
                correlation_token=change.reply_to,
                endpoint_id=device.id,
                scope_token=token,
                properties=properties,
            )
        failure = from_core(LATE_ERRORS.get(change.outcome or "", BridgeError)(change.cause))

        return lambda token: messages.error(
            failure.namespace,
            failure.error_type,
            failure.message,
            correlation_token=change.reply_to,
            endpoint_id=device.id,
            extra=failure.payload,
            scope_token=token,
        )

    def _discovery(self, name: str, endpoints: list[dict[str, Any]], token: str) -> dict:
        scope = {"type": "BearerToken", "token": token}
        return messages.event(
            "Alexa.Discovery", name, payload={"endpoints": endpoints, "scope": scope}
        )

    def _post(self, link: dict[str, Any], body: dict, token: str) -> tuple[int, dict]:
        try:
            reply = self.context.http.post(
                self.lwa.gateway(link),
                json=body,
                timeout=10,
                headers={"Authorization": f"Bearer {token}"},
            )
        except requests.RequestException as exc:
            raise RetryLater(f"gateway unreachable: {exc}") from exc
        try:
            parsed = reply.json() if reply.content else {}
        except ValueError:
            parsed = {}
        return reply.status_code, parsed if isinstance(parsed, dict) else {}

    def _verdict(self, user: User, status: int, body: dict) -> None:
        if status == 202:
            return
        payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
        code = str(payload.get("code", "")) or str(status)
        reason = f"{status} {code}: {payload.get('description', '')}".strip()
        if status == 403 and code == "SKILL_DISABLED_EXCEPTION":
            self.context.links.revoke(user.id, reason)
            raise LinkRevoked(reason)
        if status in (401, 429) or status >= 500:
            # A 401 that a fresh LWA token did not cure is Amazon's side for now: only
            # LWA's invalid_grant (in Lwa.access_token) or SKILL_DISABLED ends the link.
            raise RetryLater(reason)
        if status == 403 and code == "INSUFFICIENT_PERMISSION_EXCEPTION":
            self.context.log.error("the skill lacks the Send Alexa Events permission")
        raise DeadLetter(reason)
