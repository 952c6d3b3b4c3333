"""The console's forms and filters as typed models, checked before any handler."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

CsrfToken = Annotated[str, Meta(max_length=256, pattern=r"^[\x21-\x7E]*$")]
"""Flask-WTF's signed token: printable ASCII."""


class KeyForm(Struct, frozen=True):
    """The console's "create key" form."""

    name: Annotated[str, Meta(max_length=64)] = ""
    purpose: Annotated[str, Meta(max_length=16)] = ""
    products: Annotated[str, Meta(max_length=2048)] = ""
    csrf_token: CsrfToken = ""


class HistoryFilter(Struct, frozen=True):
    """The console's history filters."""

    device_id: Annotated[str, Meta(max_length=64)] = ""
    outcome: Annotated[str, Meta(max_length=32)] = ""
    kind: Annotated[str, Meta(max_length=32)] = ""
    origin: Annotated[str, Meta(max_length=64)] = ""
    window: Literal["", "hour", "day", "week"] = ""
