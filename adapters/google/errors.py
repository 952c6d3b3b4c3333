"""Google's error codes, and the core errors each one stands for.

Codes from Google's "Errors and exceptions" reference; a code Google does
not know makes the Assistant say only "device is not available", so every
core error maps to one it does.
"""

from __future__ import annotations

from typing import Any

from bridge.plugin import (
    AuthError,
    BridgeError,
    DeviceOffline,
    DeviceRefused,
    DeviceTimeout,
    InvalidCommand,
    NoSuchDevice,
    PlatformError,
    Throttled,
    Unsupported,
)

AUTH_FAILURE = "authFailure"
ACTION_NOT_AVAILABLE = "actionNotAvailable"
CHALLENGE_FAILED_NOT_SETUP = "challengeFailedNotSetup"
CHALLENGE_NEEDED = "challengeNeeded"
DEVICE_NOT_FOUND = "deviceNotFound"
DEVICE_OFFLINE = "deviceOffline"
DEVICE_TURNED_OFF = "deviceTurnedOff"
HARD_ERROR = "hardError"
TRANSIENT_ERROR = "transientError"
"""Something went wrong for now: try again (what a budget that bit is, to Google)."""
NOT_SUPPORTED = "notSupported"
PROTOCOL_ERROR = "protocolError"
TIMEOUT = "timeout"
TOO_MANY_FAILED_ATTEMPTS = "tooManyFailedAttempts"
VALUE_OUT_OF_RANGE = "valueOutOfRange"


class GoogleError(PlatformError):
    """One device's (or the whole request's) failure, as Google's `errorCode` (a constant
    of this module), with the status beside it and the challenge it asks for."""

    def __init__(
        self, code: str, message: str = "", status: str = "ERROR", challenge: str | None = None
    ) -> None:
        super().__init__(message, code)
        self.status, self.challenge = status, challenge

    def result(self) -> dict[str, Any]:
        """The fields of an EXECUTE command result or a QUERY device entry."""
        out: dict[str, Any] = {"status": self.status, "errorCode": self.code}
        if self.challenge:
            out["challengeNeeded"] = {"type": self.challenge}
        return out


def offline() -> GoogleError:
    return GoogleError(DEVICE_OFFLINE, "the device is offline", status="OFFLINE")


CORE: list[tuple[type[BridgeError], str]] = [
    (DeviceOffline, DEVICE_OFFLINE),  # DeviceDisconnected is one too
    (DeviceTimeout, TIMEOUT),
    (DeviceRefused, ACTION_NOT_AVAILABLE),
    (Unsupported, NOT_SUPPORTED),  # before InvalidCommand, its base
    (InvalidCommand, VALUE_OUT_OF_RANGE),
    (NoSuchDevice, DEVICE_NOT_FOUND),
    (AuthError, AUTH_FAILURE),
    (Throttled, TRANSIENT_ERROR),
]


def from_core(exc: BridgeError) -> GoogleError:
    if isinstance(exc, DeviceOffline):
        return offline()
    for kind, code in CORE:
        if isinstance(exc, kind):
            return GoogleError(code, exc.message)
    return GoogleError(HARD_ERROR, exc.message)
