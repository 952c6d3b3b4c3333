"""Proactive report messages, typed, and the Sink each platform receives them through.

Part of the core's vocabulary (the outbox, the event intake and the command path
make these); plugins take them from the kit, `bridge.plugin`.

What a linked platform should hear is one of five messages: a device's state
moved (StateReport), it came online or went offline (Reachability), it was
added, renamed or removed (DeviceAnnounced), a command that outlived its
caller's deadline ended (LateResult), or an alert opened (Alert). Each is a
tagged msgspec struct; the outbox stores it with its tag and version and
reads back only what it can decode. A Sink has one method per kind with a
default that does nothing (one sender per message, as Home Assistant's
proactive reports have): a platform implements what it can tell.

A Sink's method returns when the platform took the message (or there is
nothing to tell); raises RetryLater (or anything unexpected) to try again
with backoff, DeadLetter to give up on this one, UnknownDevice to announce
the device again, LinkRevoked to stop for the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

import msgspec

from bridge import catalog

if TYPE_CHECKING:
    from bridge.model import User

VERSION = 2
"""The stored shape of every message; version 1 was the untyped change of before."""
CONNECTIVITY = "connectivity"
"""What a platform's tables call a device's reachability among its properties."""


class Message(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    """What every message has: whose device, when, the journey, and who caused it."""

    user_id: int
    """Whose device."""
    device_id: str
    """Which device (empty for an alert about none)."""
    at: float
    """When it happened (epoch s)."""
    journey: str | None = None
    """The command's or event's journey: each report of it is recorded against it."""
    origin: str | None = None
    """The platform (or "api", "cli") that caused it: it is not told its own change."""
    personal: bool = False
    """For `user_id`'s platforms alone (a device entered or left one household member's
    reach), not for everyone who reaches the device."""

    @property
    def action(self) -> str:
        """What the history shows this report as."""
        return ""

    @property
    def label(self) -> str:
        """The kind of report, for the history: the message's tag."""
        return type(self).__struct_config__.tag  # type: ignore[return-value]

    @property
    def latest_state(self) -> bool:
        """A device's newest state: the newest supersedes older ones of its kind, and it is
        never given up for a passing failure (the platform's view must converge)."""
        return False

    def absorb(self, older: Message) -> Message | None:
        """This message with an older waiting one folded in, or None when it cannot be."""
        return None

    def to(self, sink: Sink, user: User) -> None:
        """Hand the message to the sink's method for its kind."""
        raise NotImplementedError


class StateReport(Message, frozen=True, tag="state"):
    """A device's state moved, or it sent an event (a doorbell's press, a reading)."""

    event: str
    """The device action that moved it (`setPowerState`, `DoorbellPress`)."""
    value: dict[str, Any] = {}
    """The action's value, as the device said it."""
    instance_id: str | None = None
    """The capability's instance, for a device with several of one kind."""
    cause: str = "PHYSICAL_INTERACTION"
    """Why: PHYSICAL_INTERACTION, APP_INTERACTION, VOICE_INTERACTION, PERIODIC_POLL..."""
    properties: dict[str, Any] = {}
    """The whole shadow after the change."""
    changed: tuple[str, ...] = ()
    """The shadow properties whose value moved (none for an event without state), and
    `connectivity` when a reachability change waiting for the same platform was folded in."""

    @property
    def action(self) -> str:
        return self.event

    @property
    def latest_state(self) -> bool:
        return bool(self.changed)

    @property
    def alarm(self) -> bool:
        """An alarm going off: told on its own, never folded into a later state."""
        return catalog.raises_alarm(self.event, self.value)

    def absorb(self, older: Message) -> Message | None:
        """An older state or reachability change of the device, folded in: one report says
        all that moved (what a platform is then told is the device's state now)."""
        if not self.latest_state or not older.latest_state or _alarm(older):
            return None
        earlier = older.changed if isinstance(older, StateReport) else (CONNECTIVITY,)
        changed = tuple(dict.fromkeys([*earlier, *self.changed]))
        return msgspec.structs.replace(self, changed=changed)

    def to(self, sink: Sink, user: User) -> None:
        sink.state_report(user, self)


def _alarm(message: Message) -> bool:
    return isinstance(message, StateReport) and message.alarm


class Reachability(Message, frozen=True, tag="reachability"):
    """The device came online or went offline."""

    online: bool
    """Whether it is reachable now."""
    properties: dict[str, Any] = {}
    """The whole shadow when it happened."""

    @property
    def action(self) -> str:
        return CONNECTIVITY

    @property
    def latest_state(self) -> bool:
        return True

    def absorb(self, older: Message) -> Message | None:
        """An older reachability change is superseded; an older state change is told with
        this one, as a state report that says connectivity moved too."""
        if isinstance(older, Reachability):
            return self
        if isinstance(older, StateReport) and older.latest_state and not older.alarm:
            changed = tuple(dict.fromkeys([*older.changed, CONNECTIVITY]))
            return msgspec.structs.replace(
                older,
                changed=changed,
                properties=self.properties,
                at=self.at,
                journey=self.journey,
            )
        return None

    def to(self, sink: Sink, user: User) -> None:
        sink.reachability(user, self)


class DeviceAnnounced(Message, frozen=True, tag="device"):
    """The device itself changed: added, updated (renamed, moved) or removed."""

    change: Literal["added", "updated", "removed"]
    """What happened to it."""

    @property
    def action(self) -> str:
        return self.change

    @property
    def label(self) -> str:
        return self.change

    def to(self, sink: Sink, user: User) -> None:
        sink.device_announced(user, self)


class LateResult(Message, frozen=True, tag="late"):
    """How a command that outlived its caller's deadline ended, for the caller alone."""

    command: str
    """The command's action."""
    outcome: str
    """"ok", or the core error's code (`timeout`, `offline`, `refused`, ...)."""
    detail: str = ""
    """The device's message, or the error's."""
    value: dict[str, Any] = {}
    """The device's answer ("ok")."""
    instance_id: str | None = None
    """The command's capability instance."""
    reply_to: str | None = None
    """What the caller needs to answer late (a platform's correlation token)."""
    properties: dict[str, Any] = {}
    """The whole shadow when it ended."""

    @property
    def action(self) -> str:
        return self.command

    def to(self, sink: Sink, user: User) -> None:
        sink.late_result(user, self)


class Alert(Message, frozen=True, tag="alert"):
    """An alert opened for the account (`device_id` empty when it is about no device)."""

    alert: str
    """Its kind: `device_offline`, `link_failing`, `dead_letters`, `state_inaccurate`."""
    message: str
    """What a person reads."""

    @property
    def action(self) -> str:
        return self.alert

    def to(self, sink: Sink, user: User) -> None:
        sink.alert(user, self)


AnyMessage = StateReport | Reachability | DeviceAnnounced | LateResult | Alert


class RetryLater(Exception):
    """The platform could not take the report now (throttled, 5xx, timeout): try again.

    `after` asks for at least that many seconds before the next try (a
    platform's own rate limit, say); `throttled` says the report waits for a
    quota or a pace, not for a failure (the history shows it as such).
    """

    def __init__(self, message: str = "", after: float = 0.0, throttled: bool = False) -> None:
        super().__init__(message)
        self.after = after
        self.throttled = throttled


class DeadLetter(Exception):
    """The platform will never take this report (malformed, too large): keep it, stop trying."""


class LinkRevoked(Exception):
    """The user unlinked this platform: drop their pending reports until they link again."""


class UnknownDevice(Exception):
    """The platform no longer knows this device (removed there, or its announce was lost):
    this report is given up and the device is announced to the platform again (the
    announce tells its whole state)."""


class Sink:
    """Where the outbox delivers: each platform's adapter, and the alert webhook.

    One method per message kind; each does nothing unless the platform has
    something to say for it.
    """

    name: ClassVar[str]
    """The outbox's name for the sink (an adapter's entry point name)."""
    title: ClassVar[str] = ""
    """The platform as people call it; default: `name`."""
    report_attempts: ClassVar[int | None] = None
    """Tries per report before it is dead-lettered (None: the bridge's setting)."""
    report_retry_min: ClassVar[float] = 0.0
    """Least seconds between two tries of one report."""

    def sink(self) -> Sink:
        """Where its reports are delivered: itself (its methods), unless it keeps its senders
        in an object of their own (an adapter's Reports)."""
        return self

    def state_report(self, user: User, message: StateReport) -> None:
        """A device's state moved."""

    def reachability(self, user: User, message: Reachability) -> None:
        """A device came online or went offline."""

    def device_announced(self, user: User, message: DeviceAnnounced) -> None:
        """A device was added, updated or removed."""

    def late_result(self, user: User, message: LateResult) -> None:
        """A command this platform asked for ended after its deadline."""

    def alert(self, user: User, message: Alert) -> None:
        """An alert opened for the account."""


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AnyMessage)


def encode(message: Message) -> str:
    """The stored form: the message's fields with its tag (`kind`) and `v`."""
    body = _encoder.encode(message)
    return body[:-1].decode() + f',"v":{VERSION}}}'


def decode(text: str) -> Message | None:
    """A stored message, or None when it cannot be read (corrupt, or of an unknown version).

    Rows written before messages were typed (version 1) are read as what they said.
    """
    try:
        raw = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return None
    if not isinstance(raw, dict):
        return None
    version = raw.pop("v", 1)
    try:
        if version == 1:
            return _from_change(raw)
        if version != VERSION:
            return None
        return msgspec.convert(raw, AnyMessage)
    except (msgspec.ValidationError, KeyError, TypeError, AttributeError):
        return None


def _from_change(old: dict[str, Any]) -> Message | None:
    """A version-1 change (one dataclass for every kind) as the message it stood for."""
    kind = old.get("kind", "state")
    common = {
        "user_id": old["user_id"],
        "device_id": old["device_id"],
        "at": old["at"],
        "journey": old.get("journey"),
        "origin": old.get("origin"),
    }
    if kind in ("added", "updated", "removed"):
        return DeviceAnnounced(change=kind, **common)
    if kind == "alert":
        return Alert(alert=old["action"], message=old.get("cause") or "", **common)
    if kind == "late":
        return LateResult(
            command=old["action"],
            outcome=old.get("outcome") or "ok",
            detail=old.get("cause") or "",
            value=old.get("value") or {},
            instance_id=old.get("instance_id"),
            reply_to=old.get("reply_to"),
            properties=old.get("properties") or {},
            **common,
        )
    changed = tuple(old.get("changed") or ())
    if old.get("action") == CONNECTIVITY:
        online = bool((old.get("value") or {}).get("online"))
        return Reachability(online=online, properties=old.get("properties") or {}, **common)
    return StateReport(
        event=old["action"],
        value=old.get("value") or {},
        instance_id=old.get("instance_id"),
        cause=old.get("cause") or "PHYSICAL_INTERACTION",
        properties=old.get("properties") or {},
        changed=changed,
        **common,
    )
