"""Refusals in the caller's own format, chosen by the path the request came to.

The HTTP guard (before Flask) and Flask's error handlers both refuse through
`render`, so a broken chunked body, an oversized upload or an unknown route
answers a voice platform in its dialect, an OAuth client with RFC 6749 JSON,
the REST API with problem+json and a person with a page.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import orjson

PROBLEM_BASE = "https://voice-bridge.invalid/problems/"
OAUTH_JSON = ("/oauth/token", "/oauth/revoke")
PAGES = ("/oauth/", "/console")
PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8>"
    '<meta name=viewport content="width=device-width, initial-scale=1">'
    '<title>{title}</title><body style="font-family:sans-serif;max-width:36em;margin:3em auto">'
    "<h1>{title}</h1><p>{message}</p></body></html>"
)

Rendered = tuple[int, list[tuple[str, str]], bytes]


def problem_body(status: int, code: str, detail: str, **extra: object) -> bytes:
    return orjson.dumps(
        {
            "type": PROBLEM_BASE + code,
            "title": code.replace("_", " "),
            "status": status,
            "detail": detail,
            **extra,
        }
    )


def render(
    path: str,
    status: int,
    code: str,
    detail: str,
    adapters: Mapping[str, Any] | None = None,
) -> Rendered:
    """The refusal for a request to `path`: status, headers and body."""
    if path.startswith("/voice/") and adapters is not None:
        adapter = adapters.get(path[len("/voice/") :].split("/", 1)[0])
        if adapter is not None:
            return adapter.refuse(detail, status).encoded()
    if path in OAUTH_JSON:
        error = "invalid_request" if status < 500 else "server_error"
        body = orjson.dumps({"error": error, "error_description": detail})
        return status, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body
    if path.startswith(PAGES):
        title = "This request could not be handled" if status < 500 else "Something went wrong"
        page = PAGE.format(title=title, message=html.escape(detail))
        return status, [("Content-Type", "text/html; charset=utf-8")], page.encode()
    return (
        status,
        [("Content-Type", "application/problem+json")],
        problem_body(status, code, detail),
    )
