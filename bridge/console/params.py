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
    member: Annotated[str, Meta(max_length=16, pattern=r"^[0-9]*$")] = ""
    window: Literal["", "hour", "day", "week"] = ""


Token = Annotated[str, Meta(max_length=200)]
"""An invitation's token (longer is none of ours)."""


class TokenQuery(Struct, frozen=True):
    """The invitation page's address: its token."""

    token: Token = ""


class JoinForm(Struct, frozen=True):
    """Accepting an invitation: signed in already, or with a new account's name and password."""

    token: Token = ""
    username: Annotated[str, Meta(max_length=64)] = ""
    password: Annotated[str, Meta(max_length=256)] = ""
    csrf_token: CsrfToken = ""


class InviteForm(Struct, frozen=True):
    """The owner's "invite" form: a role, the devices a guest may use, an end time."""

    role: Literal["member", "guest"] = "member"
    device: Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=100)] = []
    until: Annotated[str, Meta(max_length=40)] = ""
    csrf_token: CsrfToken = ""


class MemberForm(Struct, frozen=True):
    """Removing a member or changing their role."""

    member: Annotated[int, Meta(ge=1, le=2**53)] = 0
    role: Literal["", "member", "guest"] = ""
    csrf_token: CsrfToken = ""
