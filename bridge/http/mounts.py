"""The mount table: every path prefix the bridge serves, what its bodies must be, and
whether it reads the signed-in session. The guard and the session read it here, so a
new mount is one line, not three tuples in three modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Mount:
    prefix: str
    body: Literal["json", "form", "none"]
    """What a request's body must be (checked before the body is read)."""
    session: bool = False
    """Whether a browser's signed-in session is read (the linking pages, the console)."""
    owner: str = ""
    """What serves it."""


MOUNTS = (
    Mount("/voice/", "json", owner="the voice platforms' webhooks (bridge.http.webhooks)"),
    Mount("/api/v1/devices/", "json", owner="the integration API (bridge.api)"),
    Mount("/api/v1/token", "form", owner="the integration API's token endpoint"),
    Mount("/admin/api/", "json", owner="the operators' endpoints (bridge.http.admin)"),
    Mount("/oauth/", "form", session=True, owner="account linking (bridge.oauth)"),
    Mount("/console", "form", session=True, owner="the owner's pages (bridge.console)"),
)

JSON_PATHS = tuple(m.prefix for m in MOUNTS if m.body == "json")
FORM_PATHS = tuple(m.prefix for m in MOUNTS if m.body == "form")
SESSION_PATHS = tuple(m.prefix for m in MOUNTS if m.session)
