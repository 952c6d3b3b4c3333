"""Our stored rows, seen through authlib's client, code and token interfaces."""

from __future__ import annotations

import hmac
import time
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin

from bridge.store.clients import Client
from bridge.store.grants import Code, Refresh
from bridge.store.secrets import hash_token

AUTH_METHODS = ("client_secret_basic", "client_secret_post")


class OAuthClient(ClientMixin):
    def __init__(self, client: Client) -> None:
        self.client = client

    def get_client_id(self) -> str:
        return self.client.client_id

    def get_default_redirect_uri(self) -> str:
        return self.client.redirect_uris[0]

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact match against a registered URI, no prefixes, no patterns, with one allowance.

        A registered URI without a query also matches the same scheme, host,
        port and path carrying query parameters: some platforms' callbacks carry
        per-link `skillId` and `token` parameters that must come back untouched.
        """
        if redirect_uri in self.client.redirect_uris:
            return True
        asked = urlsplit(redirect_uri)
        if asked.fragment:
            return False
        return any(
            not (known := urlsplit(uri)).query
            and (known.scheme, known.netloc, known.path) == (asked.scheme, asked.netloc, asked.path)
            for uri in self.client.redirect_uris
        )

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(hash_token(client_secret), self.client.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


class OAuthCode(AuthorizationCodeMixin):
    def __init__(self, code: Code) -> None:
        self.code = code
        self.code_challenge = code.code_challenge
        self.code_challenge_method = code.code_challenge_method

    @property
    def grant_id(self) -> str:
        return self.code.code_hash

    def get_redirect_uri(self) -> str:
        return self.code.redirect_uri

    def get_scope(self) -> str:
        return self.code.scope


class OAuthToken(TokenMixin):
    """An access or a refresh token, for the refresh grant and revocation."""

    def __init__(
        self,
        client_id: str | None,
        user_id: int,
        scope: str,
        expires_at: float,
        grant_id: str | None,
        token_hash: str,
        refresh: Refresh | None = None,
    ) -> None:
        self.client_id = client_id
        self.user_id = user_id
        self.scope = scope
        self.expires_at = expires_at
        self.grant_id = grant_id
        self.token_hash = token_hash
        self.refresh = refresh

    @classmethod
    def from_refresh(cls, refresh: Refresh) -> OAuthToken:
        return cls(
            refresh.client_id,
            refresh.user_id,
            refresh.scope,
            refresh.expires_at,
            refresh.grant_id,
            refresh.refresh_hash,
            refresh,
        )

    def check_client(self, client: OAuthClient) -> bool:
        return self.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.scope or ""

    def get_expires_in(self) -> int:
        return max(0, int(self.expires_at - time.time()))

    def is_expired(self) -> bool:
        return self.expires_at <= time.time()

    def is_revoked(self) -> bool:
        return False  # revoked tokens are deleted, so they are never found
