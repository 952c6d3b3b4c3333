"""The signed-in session of a browser: the linking pages and the console share it.

One login covers both (the console's sign-in is the linking flow's), so the
cookie, its lifetime, CSRF protection and "who is signed in" live here, on
the HTTP edge, and neither the OAuth views nor the console import the other.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

from bridge.http.mounts import SESSION_PATHS
from bridge.model import User

SESSION_MAX_AGE = 3600
csrf = CSRFProtect()


class SessionInterface(SecureCookieSessionInterface):
    """Sessions for the mounts that read them only, with secure cookies whenever served
    over https.

    Webhooks and device sockets never need a session, so they skip the
    cookie signing machinery (it is measurable at thousands of commands/s).
    """

    def open_session(self, app: Flask, request: Any) -> Any:
        if not request.path.startswith(SESSION_PATHS):
            return None  # Flask gives such requests a null session
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def init_app(app: Flask) -> None:
    app.config.update(
        WTF_CSRF_CHECK_DEFAULT=False, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True
    )
    app.session_interface = SessionInterface()
    csrf.init_app(app)


def sign_in(user: User) -> None:
    """Start the user's session: a fresh one at every sign-in, so none is fixed in advance."""
    session.clear()
    session.update(user_id=user.id, auth_at=time.time())


def current_user() -> User | None:
    """The signed-in user; a session from before their last password change is over."""
    user_id, since = session.get("user_id"), session.get("auth_at", 0)
    if user_id is None or time.time() - since > SESSION_MAX_AGE:
        return None
    store = current_app.extensions["bridge"].store
    if since < store.users.password_changed_at(user_id):
        return None
    return store.users.by_id(user_id)
