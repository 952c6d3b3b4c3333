"""Account linking over HTTP, as Alexa, XiaoDu and Tmall Genie run it."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from conftest import ACCESS_TOKEN_TTL, SECRET_KEY
from linking import pkce_pair
from servers import eventually

from bridge.model import ExpiredToken
from bridge.store import Store
from bridge.store.secrets import Vault


def linked(platform, account, **extra):
    code, _ = platform.code_for(account.user.name, account.password, **extra)
    reply = platform.exchange(code)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_full_flow_links_the_account(platform, account, light):
    path = platform.authorize_path(state="opaque-123")
    login_page = platform.get(path)
    assert login_page.status_code == 200
    assert f"Sign in to link {platform.name}" in login_page.text
    assert platform.login(path, account.user.name, account.password).status_code == 303
    consent = platform.get(path)
    assert f"Allow {platform.name} to control your devices?" in consent.text
    assert "Kitchen light" in consent.text and "Kitchen" in consent.text
    reply = platform.consent(path)
    assert reply.status_code == 302
    target = urlsplit(reply.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == platform.redirect_uri
    query = parse_qs(target.query)
    assert query["state"] == ["opaque-123"] and len(query["code"][0]) >= 32
    tokens = platform.exchange(query["code"][0]).json()
    assert tokens["token_type"].lower() == "bearer"
    assert tokens["expires_in"] == ACCESS_TOKEN_TTL
    assert isinstance(tokens["expires_in"], int)  # never 600.0: platforms parse an integer
    assert tokens["access_token"] and tokens["refresh_token"]
    devices = platform.discover(tokens["access_token"]).json()["devices"]
    assert [d["id"] for d in devices] == [light.id]


def test_client_may_authenticate_with_form_fields(platform, account):
    code, _ = platform.code_for(account.user.name, account.password)
    reply = platform.token(
        auth="form", grant_type="authorization_code", code=code, redirect_uri=platform.redirect_uri
    )
    assert reply.status_code == 200 and reply.json()["access_token"]


def test_wrong_client_secret_is_an_rfc6749_error(platform, account):
    code, _ = platform.code_for(account.user.name, account.password)
    platform.client_secret = "wrong"
    reply = platform.exchange(code)
    assert reply.status_code == 401
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.json()["error"] == "invalid_client"


def test_unregistered_redirect_uri_is_never_followed(platform):
    reply = platform.get(platform.authorize_path(redirect_uri=platform.redirect_uri + "x"))
    assert reply.status_code == 400 and "Location" not in reply.headers
    assert "This link request is not valid" in reply.text
    unknown = platform.get(platform.authorize_path(client_id="nobody"))
    assert unknown.status_code == 400 and "Location" not in unknown.headers
    assert unknown.text == reply.text  # no oracle of which client ids exist


def test_token_exchange_needs_the_same_redirect_uri(platform, account):
    code, _ = platform.code_for(account.user.name, account.password)
    reply = platform.token(
        grant_type="authorization_code", code=code, redirect_uri=platform.redirect_uri + "/other"
    )
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_grant"


def test_code_is_single_use_and_reuse_revokes_what_it_gave(platform, account):
    code, _ = platform.code_for(account.user.name, account.password)
    first = platform.exchange(code).json()
    assert platform.discover(first["access_token"]).status_code == 200
    again = platform.exchange(code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # every worker refuses it once its token cache follows the database (within ~50 ms)
    assert eventually(
        lambda: platform.discover(first["access_token"]).json().get("error") == "invalid_token",
        timeout=2,
    )
    refreshed = platform.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refreshed.json()["error"] == "invalid_grant"


def test_code_from_another_client_is_refused(platform, make_platform, server, account):
    code, _ = platform.code_for(account.user.name, account.password)
    other = make_platform(server.url)
    reply = other.token(
        grant_type="authorization_code", code=code, redirect_uri=platform.redirect_uri
    )
    assert reply.json()["error"] == "invalid_grant"


def test_pkce_is_honoured_when_sent(platform, account):
    verifier, challenge = pkce_pair()
    extra = {"code_challenge": challenge, "code_challenge_method": "S256"}
    code, _ = platform.code_for(account.user.name, account.password, **extra)
    wrong = platform.exchange(
        code, code_verifier=verifier[:-1] + ("y" if verifier[-1] == "x" else "x")
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    code, _ = platform.code_for(account.user.name, account.password, **extra)
    missing = platform.exchange(code)
    assert missing.status_code == 400 and missing.json()["error"] in {
        "invalid_grant",
        "invalid_request",
    }
    code, _ = platform.code_for(account.user.name, account.password, **extra)
    assert platform.exchange(code, code_verifier=verifier).status_code == 200


def test_refresh_rotates_the_refresh_token(platform, account):
    first = linked(platform, account)
    second = platform.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert platform.discover(second["access_token"]).status_code == 200
    replay = platform.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"


def test_access_token_expires_and_refresh_recovers(platform, account, server_env, store):
    """The clock is moved, not waited for: a store living a TTL later, one that issued earlier."""
    tokens = linked(platform, account)
    path, vault = server_env["BRIDGE_DATABASE"], Vault(SECRET_KEY)
    later = Store(path, vault, clock=lambda: time.time() + ACCESS_TOKEN_TTL + 1)
    with pytest.raises(ExpiredToken):
        later.tokens.resolve(tokens["access_token"])
    assert store.tokens.resolve(tokens["access_token"]).id == account.user.id
    row = store.tokens.lookup(tokens["access_token"])
    earlier = Store(path, vault, clock=lambda: time.time() - ACCESS_TOKEN_TTL - 1)
    stale = earlier.tokens.issue(
        account.user.id, row["client"], ACCESS_TOKEN_TTL, adapter=row["adapter"]
    )
    assert platform.discover(stale).json()["error"] == "expired_token"
    fresh = platform.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert platform.discover(fresh.json()["access_token"]).status_code == 200


@pytest.mark.parametrize("which", ["refresh_token", "access_token"])
def test_revoking_either_token_ends_the_link(platform, account, which):
    tokens = linked(platform, account)
    reply = platform.revoke(tokens[which], hint=which)
    assert reply.status_code == 200
    assert platform.discover(tokens["access_token"]).json()["error"] == "invalid_token"
    again = platform.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert again.json()["error"] == "invalid_grant"
    assert platform.revoke("never-issued").status_code == 200  # RFC 7009 2.2


def test_another_client_cannot_revoke_my_tokens(platform, make_platform, server, account):
    tokens = linked(platform, account)
    other = make_platform(server.url)
    assert other.revoke(tokens["refresh_token"]).status_code == 400
    assert platform.discover(tokens["access_token"]).status_code == 200


def test_denied_consent_says_so_and_returns_access_denied(platform, account):
    path = platform.authorize_path(state="keep-me")
    platform.login(path, account.user.name, account.password)
    reply = platform.consent(path, confirm="no")
    assert reply.status_code == 200 and "Linking cancelled" in reply.text
    assert f"You did not allow {platform.name}" in reply.text
    back = reply.text.split('href="', 2)[2].split('"', 1)[0].replace("&amp;", "&")
    query = parse_qs(urlsplit(back).query)
    assert back.startswith(platform.redirect_uri)
    assert query["error"] == ["access_denied"] and query["state"] == ["keep-me"]
    assert "code" not in query


def test_wrong_password_is_told_plainly(platform, account):
    path = platform.authorize_path()
    reply = platform.login(path, account.user.name, "not the password")
    assert reply.status_code == 401 and "Wrong user name or password." in reply.text
    nobody = platform.login(path, "no-such-user", "whatever-password")
    assert nobody.status_code == 401 and "Wrong user name or password." in nobody.text


def test_forms_without_the_csrf_token_are_refused(platform, account):
    path = platform.authorize_path()
    platform.login(path, account.user.name, account.password)
    reply = platform.session.post(
        platform.base + path, data={"confirm": "yes"}, allow_redirects=False, timeout=10
    )
    assert reply.status_code == 400 and "This form has expired" in reply.text
    assert "Location" not in reply.headers


def test_login_only_returns_to_the_authorize_page(platform, account):
    page = platform.get(platform.authorize_path())
    reply = platform.post_form(
        "/oauth/login?next=https://evil.example/x",
        page,
        username=account.user.name,
        password=account.password,
    )
    assert reply.status_code == 400 and "Location" not in reply.headers


def test_pages_are_locked_down(platform):
    reply = platform.get(platform.authorize_path())
    assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert "script" not in reply.text.lower()
    cookie = reply.headers["Set-Cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_a_token_reaches_only_its_owners_devices(platform, make_account, store, connect):
    alice, bob = make_account(), make_account()
    lamp = store.devices.create(alice.user.id, "light", "Alice's lamp")
    store.devices.create(bob.user.id, "switch", "Bob's switch")
    connect(alice, [lamp])
    bob_tokens = linked(platform, bob)
    platform.session.cookies.clear()
    alice_tokens = linked(platform, alice)
    assert [d["name"] for d in platform.discover(bob_tokens["access_token"]).json()["devices"]] == [
        "Bob's switch"
    ]
    assert [
        d["name"] for d in platform.discover(alice_tokens["access_token"]).json()["devices"]
    ] == ["Alice's lamp"]
    reply = platform.session.post(
        platform.base + "/voice/echo",
        timeout=10,
        json={
            "token": bob_tokens["access_token"],
            "op": "command",
            "device": lamp.id,
            "action": "setPowerState",
            "value": {"state": "On"},
        },
    ).json()
    assert reply["error"] == "no_such_device"


def test_callback_query_parameters_come_back_untouched(make_platform, server, account, store):
    """Tmall Genie's redirect_uri carries skillId and token that must survive the round trip."""
    platform = make_platform(server.url)
    platform.redirect_uri += "?skillId=12345&token=abc%2Bdef"
    path = platform.authorize_path(state="tm")
    platform.login(path, account.user.name, account.password)
    reply = platform.consent(path)
    query = parse_qs(urlsplit(reply.headers["Location"]).query)
    assert query["skillId"] == ["12345"] and query["token"] == ["abc+def"]
    assert query["state"] == ["tm"] and query["code"]
    assert platform.exchange(query["code"][0]).status_code == 200
    other_path = platform.authorize_path(
        redirect_uri=platform.redirect_uri.replace("/callback/", "/elsewhere/")
    )
    assert platform.get(other_path).status_code == 400


def test_a_token_works_only_at_the_webhook_of_the_platform_it_was_issued_to(
    platform, account, server
):
    from alexa_helpers import directive
    from genie_helpers import DISCOVERY, v1

    code, _ = platform.code_for(account.user.name, account.password)
    token = platform.exchange(code).json()["access_token"]
    assert platform.discover(token).status_code == 200  # its own platform (echo)
    alexa = requests.post(
        server.url + "/voice/alexa", json=directive("Alexa.Discovery", "Discover", token), timeout=5
    ).json()
    assert alexa["event"]["payload"]["type"] == "INVALID_AUTHORIZATION_CREDENTIAL"
    genie = requests.post(
        server.url + "/voice/tmallgenie", json=v1(DISCOVERY, "DiscoveryDevices", token), timeout=5
    ).json()
    assert genie["payload"]["errorCode"] == "ACCESS_TOKEN_INVALIDATE"


def test_linking_uses_no_deprecated_authlib_api(platform, account, server):
    code, _ = platform.code_for(account.user.name, account.password)
    tokens = platform.exchange(code).json()
    assert platform.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).ok
    assert "AuthlibDeprecationWarning" not in server.log()


def test_the_consent_page_lists_devices_as_a_person_counts(platform, account, store):
    for n in (10, 2, 1):
        store.devices.create(account.user.id, "light", f"Thing {n}")
    store.devices.create(account.user.id, "plug", "porch plug")
    path = platform.authorize_path()
    page = platform.login(path, account.user.name, account.password)
    assert page.status_code == 303
    names = re.findall(r'<span class="name">(.*?)</span>', platform.get(path).text)
    assert names == ["porch plug", "Thing 1", "Thing 2", "Thing 10"]
