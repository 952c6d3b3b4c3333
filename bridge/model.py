"""The core's nouns: users, devices, commands, results and the error types.

Errors carry a stable `code` so every caller (an adapter, the REST API, the
CLI) maps them to its own wire format in one table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class User:
    """An account."""

    id: int
    """Its number."""
    name: str
    """The name it signs in with."""
    app_key: str
    """The key its devices connect with (not a secret)."""


@dataclass(frozen=True)
class Device:
    """A device of an account."""

    id: str
    """24 hex digits."""
    user_id: int
    """Whose it is."""
    type: str
    """Its catalog type (`light`, `lock`, ...)."""
    name: str
    """What people call it."""
    room: str | None = None
    """Where it is, if said."""
    transport: str = ""
    """How the bridge reaches it: a transport's name (bridge.transports); the store always
    says which."""


@dataclass(frozen=True)
class Command:
    """One request for one device, in the device protocol's vocabulary."""

    device_id: str
    """Which device."""
    action: str
    """The device action (`setPowerState`, `setBrightness`, ...)."""
    value: dict[str, Any] = field(default_factory=dict)
    """Its value (`{"state": "On"}`)."""
    instance_id: str | None = None
    """The capability's instance, for a device with several of one kind."""
    origin: str = "bridge"
    """Who asked: an adapter name, "api" or "cli"; reports skip the origin."""
    reply_to: str | None = None
    """What the origin needs to answer later, if the answer comes late (a platform's
    correlation token): carried into the "late" report."""
    journey: str | None = None
    """The journey it belongs to (bridge.journeys): the id of the voice request's, the API
    call's or the push platform message's, passed along explicitly."""


class Outcome(enum.Enum):
    ANSWERED = "answered"
    REFUSED = "refused"
    """The device said no (a transport's Reply only: the core raises DeviceRefused)."""
    PENDING = "pending"
    """Accepted: the device has not answered yet; the origin hears the result as a "late" report."""


@dataclass(frozen=True)
class Result:
    """What a device said to a command."""

    command: Command
    """What was asked."""
    outcome: Outcome
    """ANSWERED or PENDING (a refusal raises DeviceRefused)."""
    value: dict[str, Any]
    """The device's answer."""
    message: str
    """What the device said besides."""
    latency_ms: float
    """How long it took."""
    ref: str | None = None
    """For a PENDING result: the id of the accepted command, to ask after it."""


@dataclass
class Exchange:
    """What went over the wire for one command, filled in as the transport goes.

    The core records it in the history whatever the outcome, so a timeout
    still shows the request that met silence.
    """

    sent: dict[str, Any] | str | None = None
    """What was sent to the device."""
    received: str | None = None
    """What came back, as it came."""
    courier: str | None = None
    """The worker that delivered it, when not this one (a forwarded command)."""


@dataclass(frozen=True)
class Reply:
    """A device's answer to a command, in the core's terms."""

    outcome: Outcome
    """ANSWERED (with `value`), REFUSED (with `message`) or PENDING (accepted, not yet done)."""
    value: dict[str, Any] = field(default_factory=dict)
    """The device's answer (ANSWERED)."""
    message: str = ""
    """Why it refused (REFUSED), or what it said."""
    ref: str | None = None
    """For PENDING: the transport's id of the accepted command."""


@dataclass(frozen=True)
class DeviceEvent:
    """Something a device said unasked: a physical change or a sensor value."""

    device_id: str
    """Which device spoke."""
    action: str
    """The device action (`setPowerState`, `currentTemperature`)."""
    value: dict[str, Any]
    """Its value."""
    instance_id: str | None = None
    """The capability's instance, for a device with several of one kind."""
    cause: str = "PHYSICAL_INTERACTION"
    """Why it changed (the device's word)."""
    text: str | None = None
    """The message as it came over the wire, for the history."""
    observed_at: float | None = None
    """When the device says it observed the values (epoch s); never later than arrival."""
    journey: str | None = None
    """The journey the event begins (a new one when not given)."""


class BridgeError(Exception):
    """Base of every error a caller may map to its own format."""

    code = "error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__doc__ or self.code)
        self.message = message or (self.__doc__ or self.code).strip()


class NoSuchDevice(BridgeError):
    """No such device."""

    code = "no_such_device"


class DeviceOffline(BridgeError):
    """The device is not connected."""

    code = "offline"


class DeviceDisconnected(DeviceOffline):
    """The device disconnected before it answered."""

    code = "disconnected"


class DeviceTimeout(BridgeError):
    """The device did not answer in time."""

    code = "timeout"


class Unavailable(DeviceTimeout):
    """A part of the bridge the device is reached through is away: try again soon."""

    code = "unavailable"


class Throttled(BridgeError):
    """Past a budget: too many requests of this kind from this source; try again later."""

    code = "throttled"

    def __init__(
        self, message: str = "", retry_after: float = 1.0, rate: float = 0.0, first: bool = True
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.rate = rate
        """The budget's rate, a second (what a platform's own error may name)."""
        self.first = first
        """The first refusal of its flood (written); the ones after it are only counted."""


class DeviceRefused(BridgeError):
    """The device refused the command."""

    code = "refused"


class InvalidCommand(BridgeError):
    """The command does not fit the device's capabilities."""

    code = "invalid"

    def __init__(self, message: str = "", valid_range: tuple[float, float] | None = None):
        super().__init__(message)
        self.valid_range = valid_range


class Unsupported(InvalidCommand):
    """The device has no capability for this action."""

    code = "unsupported"


class AuthError(BridgeError):
    """Base of the reasons a bearer token does not authenticate."""

    code = "unauthorized"


class MissingToken(AuthError):
    """No access token was sent."""

    code = "missing_token"


class InvalidToken(AuthError):
    """The access token is not valid."""

    code = "invalid_token"


class ExpiredToken(AuthError):
    """The access token has expired."""

    code = "expired_token"
