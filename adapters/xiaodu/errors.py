"""DuerOS errors: the error's name goes in header.name; one table from core errors."""

from __future__ import annotations

from typing import Any

from bridge import model


class DuerError(Exception):
    """An error DuerOS understands; one catch site turns it into the envelope."""

    def __init__(self, name: str, message: str = "", **payload: Any) -> None:
        super().__init__(message or name)
        self.name = name
        self.payload = payload


def malformed(parameter: str) -> DuerError:
    return DuerError("UnexpectedInformationReceivedError", faultingParameter=parameter)


def from_core(exc: model.BridgeError, query: bool) -> DuerError:
    """The table: a core error to the DuerOS error the speaker reads out."""
    if isinstance(exc, model.ExpiredToken):
        return DuerError("ExpiredAccessTokenError")
    if isinstance(exc, model.AuthError):
        return DuerError("InvalidAccessTokenError")
    if isinstance(exc, model.NoSuchDevice):
        return DuerError("UnsupportedTargetError")
    if isinstance(exc, model.DeviceOffline):
        return DuerError("TargetOfflineError")
    unable = "UnableToGetValueError" if query else "UnableToSetValueError"
    if isinstance(exc, model.DeviceTimeout):
        return DuerError(
            unable,
            errorInfo={
                "code": "DEVICE_RESPONSE_TIMEOUT",
                "description": "the device did not answer in time",
            },
        )
    if isinstance(exc, model.DeviceRefused):
        return DuerError(
            unable, errorInfo={"code": "HARDWARE_FAILURE", "description": exc.message[:200]}
        )
    if isinstance(exc, model.Unsupported):
        return DuerError("UnsupportedOperationError")
    if isinstance(exc, model.InvalidCommand):
        if exc.valid_range:
            low, high = exc.valid_range
            return DuerError(
                "ValueOutOfRangeError", minimumValue=float(low), maximumValue=float(high)
            )
        return malformed(exc.message)
    return DuerError("DriverInternalError")
