"""DuerOS errors: one class with DuerOS's names as constants; one table from core errors.

The error's name goes in the reply's `header.name`, its details in the payload.
"""

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
    PlatformError,
    Throttled,
    Unsupported,
)

UNEXPECTED_INFORMATION = "UnexpectedInformationReceivedError"
EXPIRED_TOKEN = "ExpiredAccessTokenError"
INVALID_TOKEN = "InvalidAccessTokenError"
UNSUPPORTED_TARGET = "UnsupportedTargetError"
UNSUPPORTED_OPERATION = "UnsupportedOperationError"
TARGET_OFFLINE = "TargetOfflineError"
UNABLE_TO_GET = "UnableToGetValueError"
UNABLE_TO_SET = "UnableToSetValueError"
VALUE_OUT_OF_RANGE = "ValueOutOfRangeError"
DRIVER_INTERNAL = "DriverInternalError"
RATE_LIMIT_EXCEEDED = "RateLimitExceededError"


class DuerError(PlatformError):
    """An error DuerOS understands: `code` is its name, `details` its payload."""

    def __init__(self, code: str, message: str = "", **payload: Any) -> None:
        super().__init__(message, code, **payload)


def malformed(parameter: str) -> DuerError:
    return DuerError(UNEXPECTED_INFORMATION, faultingParameter=parameter)


def busy(description: str) -> DuerError:
    """A query of a value the device has not said yet."""
    return DuerError(UNABLE_TO_GET, errorInfo={"code": "DEVICE_BUSY", "description": description})


def from_core(exc: BridgeError, query: bool) -> DuerError:
    """The table: a core error to the DuerOS error the speaker reads out."""
    if isinstance(exc, ExpiredToken):
        return DuerError(EXPIRED_TOKEN)
    if isinstance(exc, AuthError):
        return DuerError(INVALID_TOKEN)
    if isinstance(exc, NoSuchDevice):
        return DuerError(UNSUPPORTED_TARGET)
    if isinstance(exc, DeviceOffline):
        return DuerError(TARGET_OFFLINE)
    if isinstance(exc, Throttled):  # DuerOS counts limits a minute at least
        per_minute = max(1, round(exc.rate * 60))
        return DuerError(
            RATE_LIMIT_EXCEEDED, errorInfo={"rateLimit": per_minute, "timeUnit": "MINUTE"}
        )
    unable = UNABLE_TO_GET if query else UNABLE_TO_SET
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
        return DuerError(UNSUPPORTED_OPERATION)
    if isinstance(exc, InvalidCommand):
        if exc.valid_range:
            low, high = exc.valid_range
            return DuerError(VALUE_OUT_OF_RANGE, minimumValue=float(low), maximumValue=float(high))
        return malformed(exc.message)
    return DuerError(DRIVER_INTERNAL)
