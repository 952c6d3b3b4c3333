"""Account linking: the OAuth 2.0 authorization server every voice platform uses.

Authorization code grant (PKCE honoured when sent), refresh tokens that
rotate, revocation (RFC 7009), server-rendered login and consent pages.
"""

from bridge.oauth.views import init_app

__all__ = ["init_app"]
