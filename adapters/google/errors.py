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
    Unsupported,
)


class GoogleError(Exception):
    """One device's (or the whole request's) failure, as Google's `errorCode`."""

    def __init__(
        self, code: str, message: str = "", status: str = "ERROR", challenge: str | None = None
    ) -> None:
        super().__init__(message or code)
        self.code, self.status, self.challenge = code, status, challenge

    def result(self) -> dict[str, Any]:
        """The fields of an EXECUTE command result or a QUERY device entry."""
        out: dict[str, Any] = {"status": self.status, "errorCode": self.code}
        if self.challenge:
            out["challengeNeeded"] = {"type": self.challenge}
        return out


def offline() -> GoogleError:
    return GoogleError("deviceOffline", "the device is offline", status="OFFLINE")


CORE: list[tuple[type[BridgeError], str]] = [
    (DeviceOffline, "deviceOffline"),  # DeviceDisconnected is one too
    (DeviceTimeout, "timeout"),
    (DeviceRefused, "actionNotAvailable"),
    (Unsupported, "notSupported"),  # before InvalidCommand, its base
    (InvalidCommand, "valueOutOfRange"),
    (NoSuchDevice, "deviceNotFound"),
    (AuthError, "authFailure"),
]


def from_core(exc: BridgeError) -> GoogleError:
    if isinstance(exc, DeviceOffline):
        return offline()
    for kind, code in CORE:
        if isinstance(exc, kind):
            return GoogleError(code, exc.message)
    return GoogleError("hardError", exc.message)
