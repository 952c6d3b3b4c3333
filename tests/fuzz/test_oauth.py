"""The account-linking server, fuzzed: token and revocation endpoints, and the linking pages."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
import requests
from fuzz_harness import PROFILE, Watch, fingerprint, garbage, scalars
from hypothesis import given
from hypothesis import strategies as st
from linking import CSRF

FORM_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}
FIELDS = [
    "grant_type",
    "code",
    "redirect_uri",
    "client_id",
    "client_secret",
    "refresh_token",
    "code_verifier",
    "token",
    "token_type_hint",
    "scope",
    "response_type",
    "state",
    "code_challenge",
    "code_challenge_method",
    "next",
    "username",
    "password",
    "confirm",
    "name",
    "purpose",
    "products",
    "role",
    "device",
    "until",
    "member",
]


def values(platform) -> st.SearchStrategy[str]:
    known = [
        platform.client_id,
        platform.client_secret,
        platform.redirect_uri,
        "authorization_code",
        "refresh_token",
        "code",
        "S256",
        "plain",
        "yes",
        "/oauth/authorize?",
        "/console",
        "//evil.example",
    ]
    return st.sampled_from(known) | scalars.map(str) | st.text(max_size=300)


def forms(platform) -> st.SearchStrategy[dict]:
    keys = st.sampled_from(FIELDS) | st.text(max_size=10)
    return st.dictionaries(
        keys, values(platform) | st.lists(values(platform), max_size=3), max_size=8
    )


def auth_headers(platform) -> st.SearchStrategy[dict]:
    def basic(user: str, password: str) -> str:
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    return st.sampled_from(
        [
            {},
            {"Authorization": basic(platform.client_id, platform.client_secret)},
            {"Authorization": basic(platform.client_id, "wrong")},
            {"Authorization": "Basic !!!"},
            {"Authorization": "Basic " + "A" * 3000},
            {"Authorization": "Bearer x"},
        ]
    )


def oauth_json(reply: requests.Response) -> bool:
    try:
        doc = reply.json()
    except ValueError:
        return False
    if reply.status_code >= 400:
        return isinstance(doc, dict) and isinstance(doc.get("error"), str)
    return isinstance(doc, dict)


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke"])
def test_token_endpoints_fuzz(path, server, store, platform):
    watch = Watch(path, server, store)

    @PROFILE
    @given(form=forms(platform), headers=auth_headers(platform), raw=st.none() | garbage)
    def run(form: dict, headers: dict, raw: bytes | None) -> None:
        before = fingerprint(store)
        data = raw if raw is not None else urlencode(form, doseq=True)
        reply = requests.post(
            server.url + path, data=data, headers={**FORM_TYPE, **headers}, timeout=10
        )
        refused = reply.status_code >= 400
        watch.check(reply.status_code, oauth_json(reply), refused, before, (form, headers, raw))

    run()
    watch.finish()


def page_or_redirect(reply: requests.Response) -> bool:
    kind = reply.headers.get("Content-Type", "")
    return 300 <= reply.status_code < 400 or kind.startswith("text/html")


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/oauth/authorize"),
        ("POST", "/oauth/authorize"),
        ("POST", "/oauth/login"),
        ("POST", "/oauth/logout"),
        ("GET", "/console"),
        ("GET", "/console/login"),
    ],
)
def test_linking_pages_fuzz(method, path, server, store, platform):
    session = requests.Session()
    page = session.get(server.url + platform.authorize_path(), timeout=10)
    csrf = CSRF.search(page.text).group(1)
    watch = Watch(f"{method} {path}", server, store)

    @PROFILE
    @given(query=forms(platform), form=forms(platform), with_csrf=st.booleans())
    def run(query: dict, form: dict, with_csrf: bool) -> None:
        before = fingerprint(store)
        body = {**form, **({"csrf_token": csrf} if with_csrf else {})}
        reply = session.request(
            method,
            f"{server.url}{path}?{urlencode(query, doseq=True)}",
            data=urlencode(body, doseq=True) if method == "POST" else None,
            headers=FORM_TYPE if method == "POST" else {},
            allow_redirects=False,
            timeout=10,
        )
        watch.check(reply.status_code, page_or_redirect(reply), True, before, (query, form))

    run()
    watch.finish()


def test_console_forms_fuzz(server, store, platform, account):
    """Signed in: the key forms and key actions with anything in them."""
    csrf = platform.console_login(account.user.name, account.password)  # asserts 303
    key, _ = store.keys.create(account.user.id, "read", ["light"], "fuzz")
    paths = st.sampled_from(
        ["/console/keys", f"/console/keys/{key.id}/disable", f"/console/keys/{key.id}/x"]
    ) | st.text(max_size=20).map(lambda t: f"/console/keys/{t}/enable")
    watch = Watch("POST /console/keys", server, store)

    @PROFILE
    @given(path=paths, form=forms(platform), with_csrf=st.booleans())
    def run(path: str, form: dict, with_csrf: bool) -> None:
        before = fingerprint(store)
        body = {**form, **({"csrf_token": csrf} if with_csrf else {})}
        reply = platform.session.post(
            server.url + path,
            data=urlencode(body, doseq=True),
            headers=FORM_TYPE,
            allow_redirects=False,
            timeout=10,
        )
        refused = reply.status_code >= 400
        watch.check(reply.status_code, page_or_redirect(reply), refused, before, (path, form))

    run()
    watch.finish()


def test_household_pages_fuzz(server, store, platform, account, make_account):
    """The invitation page (before signing in) and, signed in, every household form, with
    anything in them: a live invitation's token is never among the inputs, so nothing may
    change but an invitation made by a well-formed invite."""
    other = make_account()
    store.households.put(account.user.id, other.user.id, "member")
    csrf = platform.console_login(account.user.name, account.password)
    paths = st.sampled_from(
        [
            ("GET", "/console/join"),
            ("POST", "/console/join"),
            ("POST", "/console/household/invite"),
            ("POST", "/console/household/members"),
            ("POST", "/console/household/leave"),
        ]
    )
    extra = st.sampled_from(["member", "guest", "owner", str(other.user.id), "-1", "2099-01-01"])
    watch = Watch("household pages", server, store)

    @PROFILE
    @given(where=paths, form=forms(platform), role=extra, with_csrf=st.booleans())
    def run(where: tuple[str, str], form: dict, role: str, with_csrf: bool) -> None:
        method, path = where
        before = fingerprint(store)
        body = {**form, **({"csrf_token": csrf} if with_csrf else {})}
        if "role" in body:
            body["role"] = role
        reply = platform.session.request(
            method,
            f"{server.url}{path}?{urlencode(form if method == 'GET' else {}, doseq=True)}",
            data=urlencode(body, doseq=True) if method == "POST" else None,
            headers=FORM_TYPE if method == "POST" else {},
            allow_redirects=False,
            timeout=10,
        )
        refused = reply.status_code >= 400 or (method == "GET")
        watch.check(reply.status_code, page_or_redirect(reply), refused, before, (path, body))

    run()
    watch.finish()
