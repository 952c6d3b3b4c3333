"""What a plugin's CLI command works with, given as click's context object.

The core adds each plugin's commands to `bridge` and hands them a Cli: the
database (opened once for the command, closed with it), the bridge's settings
and the plugin's own, accounts by name, and the plugin itself running in a
bridge built for the command (for commands that work through it). A command
never builds the bridge or opens the database itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.model import User
    from bridge.store import Store
    from config.settings import Settings


@dataclass(frozen=True)
class Cli:
    """A plugin command's access to the bridge (`@click.pass_obj` gives it)."""

    name: str
    """The plugin's name."""
    store: Callable[[], Store]
    """The database, opened on first call and closed with the command."""
    settings: Callable[[], Any]
    """The plugin's own settings (its `settings_model`)."""
    bridge: Callable[[], Settings]
    """The bridge's settings."""
    user: Callable[[str], User]
    """An account by name (a BridgeError when there is none: one line, exit 1)."""
    plugin: Callable[[], Any]
    """The plugin running in a bridge built for the command (its context complete)."""
    announce: Callable[[int, str, str], None]
    """(user_id, device_id, "added" | "updated" | "removed"): tell every platform a device
    changed (queued; the server delivers it)."""
