"""Parameters of the linking pages as typed models, checked before any handler.

RFC 6749 parameters are printable ASCII without `"` and `\\` (Appendix A),
each sent once; anything else is refused here, in the endpoint's own format,
so no caller-chosen text can reach an error description or a page unchecked.
"""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import Meta, Struct

from bridge.http import boundary

OAUTH_CHARS = r"^[\x20\x21\x23-\x5B\x5D-\x7E]*$"
Param = Annotated[str, Meta(max_length=2048, pattern=OAUTH_CHARS)]


class AuthorizeQuery(Struct, frozen=True):
    response_type: Param = ""
    client_id: Param = ""
    redirect_uri: Param = ""
    state: Param = ""
    scope: Param = ""
    code_challenge: Param = ""
    code_challenge_method: Param = ""
    next: Param = ""


class LoginForm(Struct, frozen=True):
    username: Annotated[str, Meta(max_length=64)] = ""
    password: Annotated[str, Meta(max_length=1024)] = ""
    csrf_token: Param = ""


class ConsentForm(Struct, frozen=True):
    confirm: Param = ""
    csrf_token: Param = ""


class TokenForm(Struct, frozen=True):
    grant_type: Param = ""
    code: Param = ""
    redirect_uri: Param = ""
    client_id: Param = ""
    client_secret: Param = ""
    refresh_token: Param = ""
    code_verifier: Param = ""
    scope: Param = ""
    token: Param = ""
    token_type_hint: Param = ""


def parse(multi: Any, model: type[boundary.T]) -> boundary.T:
    """A werkzeug MultiDict to the model; a repeated or unknown-shaped parameter is Malformed.

    Unknown parameters are ignored, as RFC 6749 asks (section 3.1).
    """
    return boundary.from_params(multi, model)
