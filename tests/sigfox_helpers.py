"""Sigfox's cloud as a caller: a device of a registered type, and its callbacks."""

from __future__ import annotations

from dataclasses import dataclass

import requests


@dataclass
class Plug:
    """A Sigfox plug: its device, Sigfox id and the callback secret of its type."""

    device_id: str
    sigfox_id: str
    secret: str
    callbacks: dict[str, str]


def post(plug: Plug, kind: str, secret: str | None = None, **body) -> requests.Response:
    """One callback as Sigfox makes it: JSON, the type's secret as a bearer token."""
    headers = {"Authorization": f"Bearer {secret or plug.secret}"}
    return requests.post(
        plug.callbacks[kind], json={"device": plug.sigfox_id, **body}, headers=headers, timeout=10
    )
