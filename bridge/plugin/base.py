"""What every plugin is and gets, adapter or transport: one set of hooks, one context base.

A plugin has a name (its entry point's), a typed settings model read from its
own `BRIDGE_<NAME>_*` variables, its own tables (repositories with a migration
set), CLI commands, HTTP routes, and a lifecycle in the server process. The
adapter and transport contracts add what is theirs on top.
"""

from __future__ import annotations

import logging
from abc import ABC
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from bridge.plugin.settings import PluginSettings
from bridge.runtime.budgets import Budgets

if TYPE_CHECKING:
    import click
    from flask import Blueprint

    from bridge.plugin.repository import Repository
    from bridge.runtime.service import Service
    from config.settings import Settings


@dataclass(kw_only=True)
class PluginContext:
    """What the core lends every plugin."""

    name: str
    """The plugin's name: its entry point's, the `<NAME>` of its variables."""
    settings: Any
    """The plugin's settings: an instance of its `settings_model`."""
    bridge: Settings
    """The bridge's own settings (read-only): its URL, deadlines, limits."""
    log: logging.Logger
    """A logger named for the plugin."""
    budgets: Budgets = field(default_factory=Budgets)
    """Rates per source (`budgets.budget(name, rate, burst)`): refusals are counted in the
    metrics, and a flood's first refusal and its end are for the history."""


class Plugin(ABC):
    """Base of adapters and transports: the hooks both kinds share."""

    name: ClassVar[str]
    """The entry point's name: the mount (`/voice/<name>`) or a device's `transport`."""
    settings_model: ClassVar[type[PluginSettings]] = PluginSettings
    """The plugin's settings (`bridge.plugin.PluginSettings` with defaults), read from
    `BRIDGE_<NAME>_<FIELD>`; the context's `settings` is an instance."""
    repositories: ClassVar[tuple[type[Repository], ...]] = ()
    """The plugin's own tables (`bridge.plugin.Repository` subclasses)."""

    def __init__(self, context: Any) -> None:
        self.context = context

    @classmethod
    def commands(cls) -> list[click.Command]:
        """`bridge` CLI commands the plugin adds (click commands or groups). Each runs with
        a `bridge.plugin.Cli` as click's context object (`@click.pass_obj`)."""
        return []

    def blueprint(self) -> Blueprint | None:
        """HTTP routes the plugin serves besides an adapter's webhook (a WebSocket upgrade,
        a device cloud's callbacks)."""
        return None

    def services(self) -> list[Service]:
        """Background loops of the plugin, as Services: the server's supervisor starts them
        after the core's, stops them before, and readiness reports them."""
        return []

    def start(self) -> None:  # noqa: B027 (most plugins have nothing to start)
        """The server starts serving: begin background work (a stream, a sweeper)."""

    def stop(self) -> None:  # noqa: B027
        """The server stops: end what `start` began."""
