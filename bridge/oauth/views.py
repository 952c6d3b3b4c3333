"""The pages and endpoints a voice platform's account-linking flow goes through."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from authlib.oauth2 import OAuth2Error
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
)
from flask_wtf.csrf import CSRFError

from bridge.http import boundary
from bridge.http.sessions import csrf, current_user, sign_in
from bridge.oauth import params, throttle
from bridge.oauth.params import AuthorizeQuery, ConsentForm, LoginForm, TokenForm
from bridge.oauth.server import Server, create_server

oauth = Blueprint(
    "oauth", __name__, url_prefix="/oauth", template_folder="templates", static_folder="static"
)


def _local_target(target: str) -> bool:
    """Where a login may return to: the authorize page or the console, never elsewhere."""
    return (
        target.startswith("/oauth/authorize?")
        or target == "/console"
        or target.startswith("/console/")
    ) and not urlsplit(target).netloc


CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def init_app(app: Flask, bridge: Any) -> None:
    settings = bridge.settings
    app.extensions["oauth_server"] = create_server(
        app,
        bridge.store,
        access_ttl=settings.access_token_ttl,
        refresh_ttl=settings.refresh_token_ttl,
        code_ttl=settings.code_ttl,
    )
    app.register_blueprint(oauth)


def _server() -> Server:
    return current_app.extensions["oauth_server"]


def _store():
    return current_app.extensions["bridge"].store


PARAMS: dict[str, tuple[type | None, type | None]] = {
    "oauth.authorize": (AuthorizeQuery, None),
    "oauth.consent": (AuthorizeQuery, ConsentForm),
    "oauth.login": (AuthorizeQuery, LoginForm),
    "oauth.logout": (AuthorizeQuery, None),
    "oauth.token": (None, TokenForm),
    "oauth.revoke": (None, TokenForm),
}


@oauth.before_request
def _typed_params():
    """Query and form into their models first; a refusal in the endpoint's own format."""
    query_model, form_model = PARAMS.get(request.endpoint or "", (None, None))
    try:
        g.query = params.parse(request.args, query_model) if query_model else None
        g.form = params.parse(request.form, form_model) if form_model else None
    except boundary.Malformed as exc:
        if form_model is TokenForm:
            body = {"error": "invalid_request", "error_description": str(exc)[:200]}
            return current_app.json.response(body), 400
        return _page("error.html", 400, title="This link request is not valid", message=str(exc))
    return None


@oauth.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@oauth.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):
    return _page(
        "error.html",
        400,
        title="This form has expired",
        message="Go back, reload the page and try again.",
    )


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(f"oauth/{template}", **context), status


def _platform(client_id: str) -> str:
    """The name of the client an authorize request is for, as the pages show it."""
    client = _store().clients.get(client_id) if client_id else None
    return client.name if client else "the platform"


def _invalid(error: OAuth2Error):
    """Errors before the redirect URI is trusted stay here; the rest go back to it.

    The page says the same for an unknown client and for a known client with a
    wrong redirect URI: it is no oracle of which client ids exist.
    """
    if getattr(error, "redirect_uri", None):
        return _server().handle_error_response(request, error)
    return _page(
        "error.html",
        400,
        title="This link request is not valid",
        message="Start again from the app you are linking.",
    )


@oauth.get("/authorize")
def authorize():
    user = current_user()
    try:
        _server().get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _invalid(error)
    if user is None:
        return _page("login.html", platform=_platform(g.query.client_id), next=request.full_path)
    devices = current_app.extensions["bridge"].devices.list(user)  # their households' too
    return _page("consent.html", platform=_platform(g.query.client_id), user=user, devices=devices)


@oauth.post("/authorize")
def consent():
    csrf.protect()
    user = current_user()
    if user is None:
        return _page(
            "login.html",
            401,
            platform=_platform(g.query.client_id),
            next=request.full_path,
            error="Your session ended. Sign in again.",
        )
    try:
        grant = _server().get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _invalid(error)
    if g.form.confirm == "yes":
        return _server().create_authorization_response(grant_user=user, grant=grant)
    denied = _server().create_authorization_response(grant_user=None, grant=grant)
    return _page(
        "denied.html", platform=_platform(g.query.client_id), back=denied.headers["Location"]
    )


@oauth.post("/login")
def login():
    csrf.protect()
    target = g.query.next
    if not _local_target(target):
        return _page(
            "error.html",
            400,
            title="This link request is not valid",
            message="Start again from the app you are linking.",
        )
    name, password = g.form.username, g.form.password
    address = request.remote_addr or ""
    store, settings = _store(), current_app.extensions["bridge"].settings
    platform = (
        _platform(parse_qs(urlsplit(target).query).get("client_id", [""])[0])
        if target.startswith("/oauth/")
        else ""
    )
    # Recorded as a failure first (a success later turns it into one), then judged by the
    # attempts recorded before it: tries running at once, on any worker, count each other.
    attempt = store.logins.record(name, address, success=False)
    wait = throttle.wait_seconds(
        store.logins, name, address, settings.login_free_failures, attempt=attempt
    )
    if wait:
        store.logins.forget(attempt)
        return _page(
            "login.html",
            429,
            platform=platform,
            next=target,
            username=name,
            error=f"Too many failed attempts. Try again in {wait} seconds.",
        )
    user = store.users.verify_password(name, password)
    if user is not None:
        store.logins.succeeded(attempt)
    if user is None:
        return _page(
            "login.html",
            401,
            platform=platform,
            next=target,
            username=name,
            error="Wrong user name or password.",
        )
    sign_in(user)
    return redirect(target, code=303)


@oauth.post("/logout")
def logout():
    csrf.protect()
    session.clear()
    target = g.query.next
    return redirect(target if _local_target(target) else "/", code=303)


@oauth.post("/token")
@csrf.exempt
def token():
    return _oauth_json(lambda server: server.create_token_response())


@oauth.post("/revoke")
@csrf.exempt
def revoke():
    return _oauth_json(lambda server: server.create_endpoint_response("revocation"))


def _oauth_json(respond: Any) -> Any:
    """RFC 6749 JSON for every refusal, those raised before authlib's own handling included.

    authlib checks the transport while building its request object, so plain
    http from a non-loopback address (a TLS proxy not trusted with
    BRIDGE_PROXY_HOPS) raises instead of answering.
    """
    server = _server()
    try:
        return respond(server)
    except OAuth2Error as error:
        return server.handle_error_response(request, error)
