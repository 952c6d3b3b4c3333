"""The account owner's console: devices, linked platforms, keys and live message history."""

from bridge.console.views import console

__all__ = ["console"]
