"""A voice platform's side of account linking, driven over plain HTTP."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Platform:
    """One registered OAuth client and a browser-like session against the bridge."""

    base: str
    client_id: str
    client_secret: str
    name: str
    redirect_uri: str
    session: requests.Session = field(default_factory=requests.Session)
    verify: str | bool = True

    def authorize_path(self, **extra: str) -> str:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": "st-" + uuid.uuid4().hex,
        }
        params.update(extra)
        return "/oauth/authorize?" + urlencode(params)

    def get(self, path: str) -> requests.Response:
        return self.session.get(
            self.base + path, allow_redirects=False, timeout=10, verify=self.verify
        )

    def post_form(self, path: str, page: requests.Response, **form: str) -> requests.Response:
        token = CSRF.search(page.text).group(1)
        return self.session.post(
            self.base + path,
            data={"csrf_token": token, **form},
            allow_redirects=False,
            timeout=10,
            verify=self.verify,
        )

    def login(self, path: str, username: str, password: str) -> requests.Response:
        page = self.get(path)
        return self.post_form(
            "/oauth/login?" + urlencode({"next": path}), page, username=username, password=password
        )

    def console_login(self, username: str, password: str) -> str:
        """Sign in on the console's own page, as a person does; the console's CSRF token."""
        page = self.get("/console/login")
        reply = self.post_form(
            "/oauth/login?next=/console", page, username=username, password=password
        )
        assert reply.status_code == 303, reply.text
        return CSRF.search(self.get("/console").text).group(1)

    def consent(self, path: str, confirm: str = "yes") -> requests.Response:
        return self.post_form(path, self.get(path), confirm=confirm)

    def code_for(self, username: str, password: str, **extra: str) -> tuple[str, str]:
        """Run the browser part of the flow; return (code, state)."""
        path = self.authorize_path(**extra)
        assert self.login(path, username, password).status_code == 303
        reply = self.consent(path)
        assert reply.status_code == 302, reply.text
        query = parse_qs(urlsplit(reply.headers["Location"]).query)
        return query["code"][0], query["state"][0]

    def token(self, auth: str = "basic", **form: str) -> requests.Response:
        if auth == "basic":
            return requests.post(
                self.base + "/oauth/token",
                data=form,
                timeout=10,
                auth=(self.client_id, self.client_secret),
            )
        form = {"client_id": self.client_id, "client_secret": self.client_secret, **form}
        return requests.post(self.base + "/oauth/token", data=form, timeout=10)

    def exchange(self, code: str, **extra: str) -> requests.Response:
        return self.token(
            grant_type="authorization_code", code=code, redirect_uri=self.redirect_uri, **extra
        )

    def revoke(self, token: str, hint: str | None = None) -> requests.Response:
        form = {"token": token, **({"token_type_hint": hint} if hint else {})}
        return requests.post(
            self.base + "/oauth/revoke",
            data=form,
            timeout=10,
            auth=(self.client_id, self.client_secret),
        )

    def discover(self, access_token: str) -> requests.Response:
        """What the platform does with the token: call its webhook (the echo adapter)."""
        return requests.post(
            self.base + "/voice/echo", timeout=10, json={"token": access_token, "op": "discover"}
        )


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
