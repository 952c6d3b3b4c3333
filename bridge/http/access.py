"""Who may reach the operators' endpoints: loopback callers, or holders of a token."""

from __future__ import annotations

import hmac
import ipaddress

from flask import request

PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip")


def trusted(token: str) -> bool:
    """A bearer `token` (when configured), or a loopback caller not relayed by a proxy."""
    auth = request.headers.get("Authorization", "")
    if token and auth.startswith("Bearer "):
        return hmac.compare_digest(auth[7:].encode(), token.encode())
    if any(h in request.headers for h in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False
