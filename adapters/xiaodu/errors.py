"""DuerOS errors: the error's name goes in header.name; one table from core errors."""

from __future__ import annotations

from typing import Any

from bridge.plugin import (
    AuthError,
    BridgeError,
    DeviceOffline,
    DeviceRefused,
    DeviceTimeout,
    ExpiredToken,
    InvalidCommand,
    NoSuchDevice,
    Unsupported,
)


class DuerError(Exception):
    """An error DuerOS understands; one catch site turns it into the envelope."""

    def __init__(self, name: str, message: str = "", **payload: Any) -> None:
        super().__init__(message or name)
        self.name = name
        self.payload = payload


def malformed(parameter: str) -> DuerError:
    return DuerError("UnexpectedInformationReceivedError", faultingParameter=parameter)


def from_core(exc: BridgeError, query: bool) -> DuerError:
    """The table: a core error to the DuerOS error the speaker reads out."""
    if isinstance(exc, ExpiredToken):
        return DuerError("ExpiredAccessTokenError")
    if isinstance(exc, AuthError):
        return DuerError("InvalidAccessTokenError")
    if isinstance(exc, NoSuchDevice):
        return DuerError("UnsupportedTargetError")
    if isinstance(exc, DeviceOffline):
        return DuerError("TargetOfflineError")
    unable = "UnableToGetValueError" if query else "UnableToSetValueError"
    if isinstance(exc, DeviceTimeout):
        return DuerError(
            unable,
            errorInfo={
                "code": "DEVICE_RESPONSE_TIMEOUT",
                "description": "the device did not answer in time",
            },
        )
    if isinstance(exc, DeviceRefused):
        return DuerError(
            unable, errorInfo={"code": "HARDWARE_FAILURE", "description": exc.message[:200]}
        )
    if isinstance(exc, Unsupported):
        return DuerError("UnsupportedOperationError")
    if isinstance(exc, InvalidCommand):
        if exc.valid_range:
            low, high = exc.valid_range
            return DuerError(
                "ValueOutOfRangeError", minimumValue=float(low), maximumValue=float(high)
            )
        return malformed(exc.message)
    return DuerError("DriverInternalError")
