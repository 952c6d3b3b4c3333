"""Proactive events to the Alexa Event Gateway, and what each answer means."""

from __future__ import annotations

from typing import Any

import requests

from adapters.alexa import messages
from adapters.alexa.auth import Lwa
from adapters.alexa.capabilities import endpoint_for
from adapters.alexa.coverage import listed
from adapters.alexa.discovery import endpoint as discovery_endpoint
from adapters.alexa.errors import from_core
from bridge.plugin import (
    CONNECTIVITY,
    AdapterContext,
    BridgeError,
    DeadLetter,
    Device,
    DeviceAnnounced,
    DeviceOffline,
    DeviceRefused,
    DeviceTimeout,
    LateResult,
    LinkRevoked,
    Reachability,
    RetryLater,
    Sink,
    StateReport,
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


def _scoped(event: dict[str, Any], token: str) -> dict[str, Any]:
    """The event with the user's token as its scope: on its endpoint, or in the payload of
    a discovery event (which names none). A copy: a retry scopes it afresh."""
    body = dict(event["event"])
    scope = {"type": "BearerToken", "token": token}
    if "endpoint" in body:
        body["endpoint"] = {"scope": scope, **body["endpoint"]}
    else:
        body["payload"] = {**body["payload"], "scope": scope}
    return {**event, "event": body}


def _discovery(name: str, endpoints: list[dict[str, Any]]) -> dict:
    return messages.event("Alexa.Discovery", name, payload={"endpoints": endpoints})


class Reports(Sink):
    """One sender per message kind; each builds the event once, `_send` scopes and posts it."""

    def __init__(self, context: AdapterContext, lwa: Lwa, read_state) -> None:
        self.context = context
        self.lwa = lwa
        self.read_state = read_state

    def state_report(self, user: User, m: StateReport) -> None:
        device = self.context.reported_device(user, m.device_id)
        if not listed(device.type):
            return  # Alexa was never told of it
        if m.event == "DoorbellPress":
            cause = {"type": "PHYSICAL_INTERACTION"}
            payload = {"cause": cause, "timestamp": messages.time_of_sample(m.at)}
            event = messages.event(
                "Alexa.DoorbellEventSource", "DoorbellPress", endpoint_id=device.id, payload=payload
            )
            self._send(user, event)
            return
        names = {n for i in endpoint_for(device.type).interfaces for n in i.shadow_names()}
        names.add(CONNECTIVITY)  # Alexa.EndpointHealth is proactively reported too
        if set(m.changed) & names:  # Alexa ignores reports whose values did not move
            self._change_report(user, device, set(m.changed), m.cause)

    def reachability(self, user: User, m: Reachability) -> None:
        """Alexa.EndpointHealth is proactively reported too."""
        device = self.context.reported_device(user, m.device_id)
        if listed(device.type):
            self._change_report(user, device, {CONNECTIVITY}, "PHYSICAL_INTERACTION")

    def device_announced(self, user: User, m: DeviceAnnounced) -> None:
        if m.change == "removed":
            self._send(user, _discovery("DeleteReport", [{"endpointId": m.device_id}]))
            return
        device = self.context.reported_device(user, m.device_id)
        if listed(device.type):
            self._send(user, _discovery("AddOrUpdateReport", [discovery_endpoint(device)]))

    def late_result(self, user: User, m: LateResult) -> None:
        """The answer to a directive Alexa was told to wait for (a DeferredResponse):
        the Response with the device's state, or the ErrorResponse, by correlation token."""
        if not m.reply_to:
            return  # Alexa was answered at the time: nothing more to say
        device = self.context.reported_device(user, m.device_id)
        if m.outcome == "ok":
            properties = self.read_state(device, None)
            event = messages.event(
                "Alexa",
                "Response",
                correlation_token=m.reply_to,
                endpoint_id=device.id,
                properties=properties,
            )
            self._send(user, event)
            return
        failure = from_core(LATE_ERRORS.get(m.outcome, BridgeError)(m.detail))
        self._send(
            user, messages.error(failure, correlation_token=m.reply_to, endpoint_id=device.id)
        )

    def _change_report(self, user: User, device: Device, changed: set[str], cause: str) -> None:
        changed_props = self.read_state(device, changed)
        if not changed_props:
            return  # nothing Alexa can be told (a door stopped half-way has no mode of its)
        moved = {(c["namespace"], c["name"], c.get("instance")) for c in changed_props}
        others = [
            p
            for p in self.read_state(device, None)
            if (p["namespace"], p["name"], p.get("instance")) not in moved
        ]
        cause = cause if cause in CAUSES else "PHYSICAL_INTERACTION"
        payload = {"change": {"cause": {"type": cause}, "properties": changed_props}}
        event = messages.event(
            "Alexa", "ChangeReport", endpoint_id=device.id, payload=payload, properties=others
        )
        self._send(user, event)

    def _send(self, user: User, event: dict[str, Any]) -> None:
        """Post the event with the user's token (refreshed and posted again once on 401)."""
        link = self.context.links.get(user.id)
        if link is None:
            return  # not linked for events: nothing to tell
        token = self.lwa.access_token(user.id, link)
        status, body = self._post(link, _scoped(event, token), token)
        if status == 401:
            token = self.lwa.access_token(user.id, link, force=True)
            status, body = self._post(link, _scoped(event, token), token)
        self._verdict(user, status, body)

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
