"""AliGenie error codes, and the one table from core errors."""

from __future__ import annotations

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

MESSAGES = {
    "INVALIDATE_PARAMS": "invalidate params",
    "ACCESS_TOKEN_INVALIDATE": "access_token is invalidate",
    "DEVICE_IS_NOT_EXIST": "device is not exist",
    "INVALIDATE_CONTROL_ORDER": "invalidate control order",
    "SERVICE_ERROR": "service error",
    "DEVICE_NOT_SUPPORT_FUNCTION": "device not support",
    "IOT_DEVICE_OFFLINE": "device is offline",
}


class GenieError(Exception):
    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or MESSAGES.get(code, code.lower())


def from_core(exc: BridgeError) -> GenieError:
    if isinstance(exc, AuthError):
        return GenieError("ACCESS_TOKEN_INVALIDATE")
    if isinstance(exc, NoSuchDevice):
        return GenieError("DEVICE_IS_NOT_EXIST")
    if isinstance(exc, DeviceOffline | DeviceTimeout):
        return GenieError("IOT_DEVICE_OFFLINE")
    if isinstance(exc, Unsupported):
        return GenieError("DEVICE_NOT_SUPPORT_FUNCTION")
    if isinstance(exc, InvalidCommand):
        return GenieError("INVALIDATE_PARAMS", exc.message[:200])
    if isinstance(exc, DeviceRefused):
        return GenieError("INVALIDATE_CONTROL_ORDER", exc.message[:200])
    return GenieError("SERVICE_ERROR", exc.message[:200])
