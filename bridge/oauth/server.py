"""The authlib authorization server, wired to the store."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge

from bridge.model import User
from bridge.oauth.models import AUTH_METHODS, OAuthClient, OAuthCode, OAuthToken
from bridge.store import Store


class Server(AuthorizationServer):
    """Knows the store; grants reach it through `self.server.store`."""

    store: Store
    code_ttl: float
    refresh_ttl: float

    def query_client(self, client_id: str) -> OAuthClient | None:
        client = self.store.clients.get(client_id) if client_id else None
        return OAuthClient(client) if client else None

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Store the new pair hashed; both belong to the grant they came from."""
        if request.payload.grant_type == "authorization_code":
            grant_id = request.authorization_code.grant_id
        else:
            grant_id = request.refresh_token.grant_id
        client_id = request.client.get_client_id()
        scope = token.get("scope", "")
        self.store.tokens.issue(
            request.user.id,
            request.client.client.name,
            token["expires_in"],
            token=token["access_token"],
            client_id=client_id,
            scope=scope,
            grant_id=grant_id,
            adapter=request.client.client.adapter,
        )
        self.store.grants.save_refresh(
            token["refresh_token"], request.user.id, client_id, scope, grant_id, self.refresh_ttl
        )


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def save_authorization_code(self, code: str, request: Any) -> None:
        payload = request.payload
        self.server.store.grants.save_code(
            code,
            request.client.get_client_id(),
            request.user.id,
            payload.redirect_uri,
            request.scope or "",
            payload.data.get("code_challenge"),
            payload.data.get("code_challenge_method"),
            self.server.code_ttl,
        )

    def query_authorization_code(self, code: str, client: OAuthClient) -> OAuthCode | None:
        found = self.server.store.grants.code(code)
        if found is None or found.client_id != client.get_client_id():
            return None
        if found.used_at is not None:
            # A replayed code: whoever holds it may be an attacker, so every
            # token issued from it goes (RFC 6749 section 4.1.2).
            self.server.store.revoke_grant(found.code_hash)
            return None
        return OAuthCode(found) if found.expires_at > time.time() else None

    def delete_authorization_code(self, authorization_code: OAuthCode) -> None:
        self.server.store.grants.use_code(authorization_code.code)

    def authenticate_user(self, authorization_code: OAuthCode) -> User | None:
        return self.server.store.users.by_id(authorization_code.code.user_id)


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotate: every refresh returns a new refresh token

    def authenticate_refresh_token(self, refresh_token: str) -> OAuthToken | None:
        found = self.server.store.grants.refresh(refresh_token)
        if found is None or found.expires_at <= time.time():
            return None
        return OAuthToken.from_refresh(found)

    def authenticate_user(self, refresh_token: OAuthToken) -> User | None:
        return self.server.store.users.by_id(refresh_token.user_id)

    def revoke_old_credential(self, refresh_token: OAuthToken) -> None:
        self.server.store.grants.drop_refresh(refresh_token.refresh)


class Revocation(RevocationEndpoint):
    """RFC 7009: revoking either token of a grant revokes the whole grant."""

    CLIENT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    def query_token(self, token_string: str, token_type_hint: str | None) -> OAuthToken | None:
        store = self.server.store
        row = store.tokens.lookup(token_string)
        if row is not None:
            return OAuthToken(
                row["client_id"],
                row["user_id"],
                row["scope"],
                row["expires_at"],
                row["grant_id"],
                row["token_hash"],
            )
        found = store.grants.refresh(token_string)
        return OAuthToken.from_refresh(found) if found is not None else None

    def revoke_token(self, token: OAuthToken, request: Any) -> None:
        if token.grant_id:
            self.server.store.revoke_grant(token.grant_id)
        else:
            self.server.store.tokens.forget([token.token_hash])


def create_server(
    app: Any, store: Store, *, access_ttl: float, refresh_ttl: float, code_ttl: float
) -> Server:
    app.config.update(
        OAUTH2_REFRESH_TOKEN_GENERATOR=True,
        # RFC 6749 says seconds, and platforms parse an integer: never "3600.0".
        OAUTH2_TOKEN_EXPIRES_IN={
            "authorization_code": int(access_ttl),
            "refresh_token": int(access_ttl),
        },
    )
    server = Server()
    server.store, server.code_ttl, server.refresh_ttl = store, code_ttl, refresh_ttl
    server.init_app(app)
    server.register_grant(CodeGrant, [CodeChallenge(required=False)])
    server.register_grant(RefreshGrant)
    server.register_endpoint(Revocation)
    return server
