"""A plugin's settings: a typed model read from `BRIDGE_<NAME>_<FIELD>` variables.

A plugin declares `settings_model`, a subclass of `PluginSettings` whose fields
have defaults; the core reads the plugin's own variables (and no other: never
`BRIDGE_SECRET_KEY`) into it once, when the plugin is built or its command runs.
A value that does not parse stops the bridge with one line naming the
variable, as the core's own settings do. An empty variable counts as unset. A
field of type `tuple[str, ...]` reads a comma-separated list; one of type
`dict[str, str]` collects a family (`BRIDGE_<NAME>_PRODUCT_LIGHT=...` is
`product["light"]`).
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

S = TypeVar("S", bound="PluginSettings")


class PluginSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Base of a plugin's settings model (no fields: a plugin with nothing to set)."""


class BadSetting(SystemExit):
    """A plugin's variable does not parse: the message names it and what it must be."""


def prefix(name: str) -> str:
    """The variables' common prefix of the plugin `name`."""
    return f"BRIDGE_{name.upper()}_"


def variables(model: type[PluginSettings], name: str) -> list[str]:
    """The variable of each field (a family's prefix ends with `_*`), in field order."""
    out = []
    for field in msgspec.structs.fields(model):
        family = typing.get_origin(field.type) is dict
        out.append(prefix(name) + field.name.upper() + ("_*" if family else ""))
    return out


def load(model: type[S], name: str, environ: Mapping[str, str]) -> S:
    """The plugin's settings from `environ` over the model's defaults."""
    given: dict[str, Any] = {}
    start = prefix(name)
    for field in msgspec.structs.fields(model):
        variable = start + field.name.upper()
        origin = typing.get_origin(field.type)
        if origin is dict:
            family = variable + "_"
            given[field.name] = {
                key[len(family) :].lower(): value
                for key, value in environ.items()
                if key.startswith(family) and value
            }
            continue
        raw = environ.get(variable, "")
        if not raw:
            continue
        if origin is tuple:
            given[field.name] = [part.strip() for part in raw.split(",") if part.strip()]
        else:
            given[field.name] = raw
    try:
        return msgspec.convert(given, model, strict=False)
    except msgspec.ValidationError as exc:
        what, _, where = str(exc).partition(" - at `$.")
        field = re.match(r"\w*", where).group(0)  # type: ignore[union-attr]
        raise BadSetting(f"{start}{field.upper()}: {what}") from None
