"""/oauth/token over plain http answers an OAuth error, and works behind a trusted TLS proxy."""

import pytest

from bridge import create_app

FORM = {"grant_type": "authorization_code", "code": "x", "client_id": "nobody"}


@pytest.fixture
def client_for(tmp_path):
    def make(**settings):
        app = create_app({"database": str(tmp_path / "t.db"), "secret_key": "k", **settings})
        return app.test_client()

    return make


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke"])
def test_plain_http_from_outside_is_an_oauth_error_not_a_500(client_for, path):
    reply = client_for().post(path, data=FORM, base_url="http://bridge.example")
    assert reply.status_code == 400
    assert reply.json["error"] == "insecure_transport"


def test_behind_a_trusted_proxy_the_forwarded_scheme_counts(client_for):
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    proxied = client_for(proxy_hops=1).post(
        "/oauth/token", data=FORM, base_url="http://bridge.example", headers=headers
    )
    assert proxied.status_code == 401 and proxied.json["error"] == "invalid_client"
    untrusted = client_for().post(
        "/oauth/token", data=FORM, base_url="http://bridge.example", headers=headers
    )
    assert untrusted.json["error"] == "insecure_transport"
