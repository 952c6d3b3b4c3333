"""Commands from Tuya's apps: each message-service frame opened, applied once, answered.

The answer (the device's values, or an action's outcome) is queued in the
outbox, committed, before the frame's ack is returned: a crash between the
two redelivers the message, and a message id seen in the last day is acked
and not applied again.

A message the consumer cannot read (a broken frame, a payload that is not
base64, a wrong signature, data that does not decrypt, a command for a device
not linked here) is a dead letter: recorded in the history with the raw frame
for an operator, then acknowledged, once. Only a frame with no messageId at
all cannot be acknowledged (recorded, and Tuya's own redelivery ends it).
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from adapters.tuya import messages
from adapters.tuya.functions import BadValue, command, function
from adapters.tuya.ids import TuyaIds
from bridge.plugin import (
    AdapterContext,
    BridgeError,
    Command,
    Device,
    LateResult,
    Message,
    StateReport,
    User,
    new_journey,
)

SEEN_FOR = 86400.0
"""Seconds a message id is remembered (Tuya redelivers unacked messages sooner)."""


class Consumer:
    def __init__(self, context: AdapterContext, ids: TuyaIds, secret: str, cipher: str) -> None:
        self.context = context
        self.ids = ids
        self.secret = secret
        self.cipher = cipher
        self.deadline = context.settings.deadline
        # Frames are handled concurrently: a redelivery of one still in hand waits (no ack,
        # so Tuya sends it again later, by when it is handled). One consumer per deployment.
        self._in_hand: set[str] = set()

    def on_frame(self, text: str) -> list[str]:
        """One frame from the message service; the frames to send back (its ack)."""
        try:
            frame = messages.frame(text)
        except messages.BadMessage as exc:
            return self._dead_letter(text, exc, exc.message_id)
        try:
            found = messages.command(
                messages.open_envelope(frame.payload, self.secret, self.cipher, frame.em)
            )
        except messages.BadMessage as exc:
            return self._dead_letter(text, exc, frame.message_id)
        ack = [_ack(frame.message_id)]
        if found is None:
            return ack
        if found.msg_id in self._in_hand:
            return []
        self._in_hand.add(found.msg_id)
        try:
            if not self.context.handled(found.msg_id):
                self._execute(found, text)
                self.context.mark_handled(found.msg_id, SEEN_FOR)
        finally:
            self._in_hand.discard(found.msg_id)
        return ack

    def _dead_letter(
        self, text: str, exc: messages.BadMessage, message_id: str | None
    ) -> list[str]:
        """Kept for an operator with the raw frame, then acknowledged (when it can be)."""
        self.context.rejected(f"Tuya message refused: {exc}", payload=text)
        return [_ack(message_id)] if message_id else []

    def _execute(self, found: messages.TuyaCommand, text: str) -> None:
        owner = self.ids.owner(found.tuya_id)
        if owner is None:
            detail = f"Tuya command for a device not linked here: {found.tuya_id}"
            self.context.rejected(detail, payload=text)
            return
        user, device = owner
        journey = new_journey()  # the message's: what it set on the device, what Tuya heard
        self.context.received(
            f"Tuya {found.kind} ({found.shape})", device.id, user.id, found.kind, text, journey
        )
        outcome = "ok"
        names = []
        until = time.monotonic() + self.deadline  # for all the message's codes together
        for code, value in found.values.items():
            try:
                action, converted, instance = command(device.type, code, value)
            except BadValue as exc:
                self.context.rejected(f"Tuya {code}: {exc}", device.id, user.id)
                outcome = "INVALID_PARAMS"
                continue
            names.append(function(device.type, code).shadow)  # command() found it
            left = until - time.monotonic()
            if left <= 0:
                outcome = "timeout"
                continue
            try:
                self.context.send(
                    user,
                    Command(
                        device.id,
                        action,
                        converted,
                        instance,
                        origin=self.context.name,
                        journey=journey,
                    ),
                    left,
                )
            except BridgeError as exc:  # recorded by the send path
                outcome = exc.code
        answer: Message
        if found.kind == "actionExecute":
            answer = LateResult(
                command=found.action_code or "",
                outcome=outcome,
                reply_to=found.msg_id,
                **self._mine(user, device, journey),
            )
        else:  # the values as they are now, set or not
            state = {name: entry["value"] for name, entry in self.context.state(device).items()}
            answer = StateReport(
                event="propertySet",
                cause="APP_INTERACTION",
                properties=state,
                changed=tuple(names),
                **self._mine(user, device, journey),
            )
        self.context.report_later(user, answer)

    def _mine(self, user: User, device: Device, journey: str) -> dict[str, Any]:
        """What a message for Tuya alone (its origin), queued by the adapter itself, says of
        whose device it is and when."""
        return {
            "user_id": user.id,
            "device_id": device.id,
            "at": time.time(),
            "origin": self.context.name,
            "journey": journey,
        }


def _ack(message_id: str) -> str:
    return orjson.dumps({"messageId": message_id}).decode()
