"""The plugin kit: the whole API of an adapter or transport author, behind this one import.

A plugin imports `bridge.plugin` and its own package, nothing else of the bridge
(`tests/test_layout.py` checks it): the contracts and their contexts, the core's
nouns and errors, the device catalog, typed parsing at the edge, the history's
entries, and the unit conversions every platform needs. What is heavy to import
(the store, the bus, the WebSocket) loads when a plugin first names it, so a
plugin's CLI command starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from bridge import catalog
from bridge.http import boundary
from bridge.http.boundary import LIMIT, Number, Scalar, Text, Token
from bridge.journeys import Journey
from bridge.journeys import new as new_journey
from bridge.model import (
    AuthError,
    BridgeError,
    Command,
    Device,
    DeviceDisconnected,
    DeviceEvent,
    DeviceOffline,
    DeviceRefused,
    DeviceTimeout,
    Exchange,
    ExpiredToken,
    InvalidCommand,
    InvalidToken,
    MissingToken,
    NoSuchDevice,
    Outcome,
    Reply,
    Result,
    Throttled,
    Unavailable,
    Unsupported,
    User,
)
from bridge.plugin import coverage, units
from bridge.plugin.adapter import (
    RELAY_HEADER,
    Adapter,
    AdapterContext,
    RelaySettings,
    VoiceReply,
    VoiceRequest,
    json_answer,
)
from bridge.plugin.base import Plugin, PluginContext
from bridge.plugin.cli import Cli
from bridge.plugin.repository import Migrations, Repository
from bridge.plugin.settings import BadSetting, PluginSettings
from bridge.plugin.transport import Transport, TransportContext
from bridge.plugin.webhook import Directive, PlatformError, Registry, WebhookAdapter
from bridge.reports.messages import (
    CONNECTIVITY,
    Alert,
    DeadLetter,
    DeviceAnnounced,
    LateResult,
    LinkRevoked,
    Message,
    Reachability,
    RetryLater,
    Sink,
    StateReport,
    UnknownDevice,
)
from bridge.runtime.budgets import Budget, Budgets, Flood
from bridge.runtime.hold import when_available
from bridge.runtime.plugins import classes as plugin_classes
from bridge.runtime.service import Service, State

if TYPE_CHECKING:
    from bridge.bus import Bus, Unreachable
    from bridge.bus.facts import Facts
    from bridge.bus.local import LocalBus
    from bridge.devices.events import EventIntake
    from bridge.http.problems import problem
    from bridge.http.websocket import ConnectionClosed, TooLarge, WebSocket
    from bridge.store import Store
    from bridge.store.devices import DEVICE_ID
    from bridge.store.messages import Entry, rejection
    from bridge.store.pending import PendingCommand
    from bridge.store.secrets import hash_token, new_token
    from bridge.store.sql import IntegrityError
    from bridge.transports.waiters import Waiters
    from config.settings import Settings

_LAZY = {
    "Bus": "bridge.bus",
    "Unreachable": "bridge.bus",
    "LocalBus": "bridge.bus.local",
    "Facts": "bridge.bus.facts",
    "EventIntake": "bridge.devices.events",
    "problem": "bridge.http.problems",
    "new_token": "bridge.store.secrets",
    "hash_token": "bridge.store.secrets",
    "IntegrityError": "bridge.store.sql",
    "Store": "bridge.store",
    "DEVICE_ID": "bridge.store.devices",
    "Entry": "bridge.store.messages",
    "rejection": "bridge.store.messages",
    "late_answer": "bridge.store.messages",
    "PendingCommand": "bridge.store.pending",
    "Waiters": "bridge.transports.waiters",
    "ConnectionClosed": "bridge.http.websocket",
    "TooLarge": "bridge.http.websocket",
    "WebSocket": "bridge.http.websocket",
    "Settings": "config.settings",
}
"""Names imported on first use: each pulls in a driver, gevent's sockets or the store."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CONNECTIVITY",
    "DEVICE_ID",
    "LIMIT",
    "RELAY_HEADER",
    "Adapter",
    "AdapterContext",
    "Alert",
    "AuthError",
    "BadSetting",
    "BridgeError",
    "Budget",
    "Budgets",
    "Bus",
    "Cli",
    "Command",
    "ConnectionClosed",
    "DeadLetter",
    "Device",
    "DeviceAnnounced",
    "DeviceDisconnected",
    "DeviceEvent",
    "DeviceOffline",
    "DeviceRefused",
    "DeviceTimeout",
    "Directive",
    "Entry",
    "EventIntake",
    "Exchange",
    "ExpiredToken",
    "Facts",
    "Flood",
    "IntegrityError",
    "InvalidCommand",
    "InvalidToken",
    "Journey",
    "LateResult",
    "LinkRevoked",
    "LocalBus",
    "Message",
    "Migrations",
    "MissingToken",
    "NoSuchDevice",
    "Number",
    "Outcome",
    "PendingCommand",
    "PlatformError",
    "Plugin",
    "PluginContext",
    "PluginSettings",
    "Reachability",
    "Registry",
    "RelaySettings",
    "Reply",
    "Repository",
    "Result",
    "RetryLater",
    "Scalar",
    "Service",
    "Settings",
    "Sink",
    "State",
    "StateReport",
    "Store",
    "Text",
    "Throttled",
    "Token",
    "TooLarge",
    "Transport",
    "TransportContext",
    "Unavailable",
    "UnknownDevice",
    "Unreachable",
    "Unsupported",
    "User",
    "VoiceReply",
    "VoiceRequest",
    "Waiters",
    "WebSocket",
    "WebhookAdapter",
    "boundary",
    "catalog",
    "coverage",
    "hash_token",
    "json_answer",
    "late_answer",
    "new_journey",
    "new_token",
    "plugin_classes",
    "problem",
    "rejection",
    "units",
    "when_available",
]
