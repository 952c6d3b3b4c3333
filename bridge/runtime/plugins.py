"""Plugin discovery: adapters (`bridge.adapters`) and transports load from entry points.

Built-in and third-party plugins load the same way. This module knows groups and
names only, not the kit's classes: the webhooks' and the transports' registries ask
it for the classes of their base (bridge.http.webhooks.discover, bridge.transports.registry).
"""

from __future__ import annotations

import functools
import logging
import re
from importlib.metadata import entry_points
from typing import TypeVar

log = logging.getLogger(__name__)
ADAPTERS = "bridge.adapters"
TRANSPORTS = "bridge.transports"
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
T = TypeVar("T")


def names(group: str) -> list[str]:
    """The installed plugins' names in a group, without importing them (the CLI's choices)."""
    return sorted(ep.name for ep in entry_points(group=group) if NAME.match(ep.name))


def classes(group: str, base: type[T], only: tuple[str, ...] | None = None) -> dict[str, type[T]]:
    """The `base` subclasses an entry-point group names, by name, in name order."""
    found: dict[str, type[T]] = {}
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        if only is not None and ep.name not in only:
            continue
        if not NAME.match(ep.name):
            log.error("%s %r: not a valid name, skipped", group, ep.name)
            continue
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise TypeError(f"entry point {ep.name} is not a {base.__name__} subclass")
        found[ep.name] = cls
    return found


@functools.cache
def default_transport() -> str:
    """The transport of a device created without one: the installed transport that says it
    is the default (`Transport.default`)."""
    found = [name for name, cls in classes(TRANSPORTS, object).items() if cls.default]
    if len(found) != 1:
        raise LookupError(f"one installed transport must be the default, not {found}")
    return found[0]


@functools.cache
def repositories() -> tuple[type, ...]:
    """The repository classes of every installed plugin (adapters and transports, enabled
    or not: a deleted device's rows go wherever they are), in name order."""
    found: list[type] = []
    for group in (ADAPTERS, TRANSPORTS):
        for cls in classes(group, object).values():
            found += [r for r in getattr(cls, "repositories", ()) if r not in found]
    return tuple(found)
