"""Alexa ErrorResponse types: one small class each, and the one table from core errors."""

from __future__ import annotations

from typing import Any, ClassVar

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


class AlexaError(PlatformError):
    """An error Alexa understands (its `error_type` the wire code); the skeleton's one catch
    site turns it into an ErrorResponse."""

    namespace: ClassVar[str] = "Alexa"
    error_type: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str, **payload: Any) -> None:
        super().__init__(message, self.error_type, **payload)


class InvalidDirective(AlexaError):
    error_type = "INVALID_DIRECTIVE"


class NoSuchEndpoint(AlexaError):
    error_type = "NO_SUCH_ENDPOINT"


class EndpointUnreachable(AlexaError):
    error_type = "ENDPOINT_UNREACHABLE"


class InvalidValue(AlexaError):
    error_type = "INVALID_VALUE"


class ValueOutOfRange(AlexaError):
    error_type = "VALUE_OUT_OF_RANGE"


class TemperatureOutOfRange(AlexaError):
    error_type = "TEMPERATURE_VALUE_OUT_OF_RANGE"


class InvalidCredential(AlexaError):
    error_type = "INVALID_AUTHORIZATION_CREDENTIAL"


class ExpiredCredential(AlexaError):
    error_type = "EXPIRED_AUTHORIZATION_CREDENTIAL"


class HardwareMalfunction(AlexaError):
    error_type = "HARDWARE_MALFUNCTION"


class InternalError(AlexaError):
    error_type = "INTERNAL_ERROR"


class RateLimitExceeded(AlexaError):
    error_type = "RATE_LIMIT_EXCEEDED"


class DualSetpointsUnsupported(AlexaError):
    namespace = "Alexa.ThermostatController"
    error_type = "DUAL_SETPOINTS_UNSUPPORTED"


class AcceptGrantFailed(AlexaError):
    namespace = "Alexa.Authorization"
    error_type = "ACCEPT_GRANT_FAILED"


def from_core(exc: BridgeError) -> AlexaError:
    """The table: a core error to the Alexa error the user hears about."""
    if isinstance(exc, AuthError):
        cls = ExpiredCredential if isinstance(exc, ExpiredToken) else InvalidCredential
        return cls(exc.message)
    if isinstance(exc, NoSuchDevice):
        return NoSuchEndpoint("no such endpoint")
    if isinstance(exc, DeviceOffline | DeviceTimeout):
        return EndpointUnreachable(exc.message)
    if isinstance(exc, Unsupported):
        return InvalidDirective(exc.message)
    if isinstance(exc, InvalidCommand):
        if exc.valid_range:
            low, high = exc.valid_range
            return ValueOutOfRange(
                exc.message, validRange={"minimumValue": low, "maximumValue": high}
            )
        return InvalidValue(exc.message)
    if isinstance(exc, DeviceRefused):
        return HardwareMalfunction(exc.message or "the device refused")
    if isinstance(exc, Throttled):
        return RateLimitExceeded(exc.message)
    return InternalError(exc.message)
