"""The bridge core: devices, their protocol and connections, storage, reporting.

Nothing in this package names a voice platform. Importing it imports nothing
else: the CLI starts without Flask, the store's drivers or any plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The application (bridge.runtime.app): what gunicorn and `flask` load."""
    from bridge.runtime.app import create_app as create

    return create(test_config)
