"""AliGenie error codes: one class with the codes as constants; one table from core errors."""

from __future__ import annotations

from bridge.plugin import (
    AuthError,
    BridgeError,
    DeviceOffline,
    DeviceRefused,
    DeviceTimeout,
    InvalidCommand,
    NoSuchDevice,
    PlatformError,
    Unsupported,
)

INVALIDATE_PARAMS = "INVALIDATE_PARAMS"
ACCESS_TOKEN_INVALIDATE = "ACCESS_TOKEN_INVALIDATE"
DEVICE_IS_NOT_EXIST = "DEVICE_IS_NOT_EXIST"
INVALIDATE_CONTROL_ORDER = "INVALIDATE_CONTROL_ORDER"
SERVICE_ERROR = "SERVICE_ERROR"
DEVICE_NOT_SUPPORT_FUNCTION = "DEVICE_NOT_SUPPORT_FUNCTION"
IOT_DEVICE_OFFLINE = "IOT_DEVICE_OFFLINE"
MESSAGES = {
    INVALIDATE_PARAMS: "invalidate params",
    ACCESS_TOKEN_INVALIDATE: "access_token is invalidate",
    DEVICE_IS_NOT_EXIST: "device is not exist",
    INVALIDATE_CONTROL_ORDER: "invalidate control order",
    SERVICE_ERROR: "service error",
    DEVICE_NOT_SUPPORT_FUNCTION: "device not support",
    IOT_DEVICE_OFFLINE: "device is offline",
}
REFUSALS = {INVALIDATE_PARAMS, DEVICE_NOT_SUPPORT_FUNCTION}
"""Errors that mean the directive itself was not taken: it changes nothing."""


class GenieError(PlatformError):
    """An error AliGenie understands: `code` and the `message` beside it."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or MESSAGES.get(code, code.lower()), code)


def from_core(exc: BridgeError) -> GenieError:
    if isinstance(exc, AuthError):
        return GenieError(ACCESS_TOKEN_INVALIDATE)
    if isinstance(exc, NoSuchDevice):
        return GenieError(DEVICE_IS_NOT_EXIST)
    if isinstance(exc, DeviceOffline | DeviceTimeout):
        return GenieError(IOT_DEVICE_OFFLINE)
    if isinstance(exc, Unsupported):
        return GenieError(DEVICE_NOT_SUPPORT_FUNCTION)
    if isinstance(exc, InvalidCommand):
        return GenieError(INVALIDATE_PARAMS, exc.message[:200])
    if isinstance(exc, DeviceRefused):
        return GenieError(INVALIDATE_CONTROL_ORDER, exc.message[:200])
    return GenieError(SERVICE_ERROR, exc.message[:200])  # Throttled too: AliGenie has no code
