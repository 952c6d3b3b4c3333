"""Adapter discovery: entry points in the `bridge.adapters` group.

Built-in and third-party adapters load the same way; BRIDGE_ADAPTERS (a
comma-separated list of names) restricts the set.
"""

from __future__ import annotations

import logging
import re
from importlib.metadata import entry_points

from adapters.base import Adapter

log = logging.getLogger(__name__)
GROUP = "bridge.adapters"
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def discover(only: tuple[str, ...] | None = None) -> dict[str, type[Adapter]]:
    """Adapter classes by mount name, in name order."""
    found: dict[str, type[Adapter]] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if only is not None and ep.name not in only:
            continue
        if not NAME.match(ep.name):
            log.error("adapter %r: not a valid mount name, skipped", ep.name)
            continue
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Adapter)):
            raise TypeError(f"entry point {ep.name} is not an Adapter subclass")
        found[ep.name] = cls
    missing = set(only or ()) - set(found)
    if missing:
        log.warning("BRIDGE_ADAPTERS names adapters that are not installed: %s", sorted(missing))
    return found
