"""Every repository's behaviour, on SQLite and on PostgreSQL (the `db` fixture runs both)."""

from __future__ import annotations

import time

import pytest

from bridge.model import BridgeError, ExpiredToken, InvalidToken
from bridge.store.secrets import hash_token


@pytest.fixture
def alice(db):
    user, _ = db.users.create("alice", "password1")
    return user


def test_clients_register_bind_and_delete(db):
    client, secret = db.clients.create("Alexa skill", ["https://example.com/cb"], "alexa")
    assert db.clients.get(client.client_id) == client and len(secret) >= 32
    with pytest.raises(BridgeError):
        db.clients.create("Alexa skill", ["https://example.com/other"])  # names are unique
    assert db.clients.bind("Alexa skill", "xiaodu").adapter == "xiaodu"
    assert [c.name for c in db.clients.list()] == ["Alexa skill"]
    db.clients.delete(client.client_id)
    assert db.clients.get(client.client_id) is None


def test_codes_are_used_once_and_grants_end_with_all_their_tokens(db, alice):
    db.grants.save_code("code-1", "client", alice.id, "https://cb", "devices", None, None, 60)
    code = db.grants.code("code-1")
    assert code is not None and db.grants.code("other") is None
    assert db.grants.use_code(code) and not db.grants.use_code(code)  # a replay
    db.grants.save_refresh("refresh-1", alice.id, "client", "devices", "grant-1", 60)
    token = db.tokens.issue(alice.id, "echo", grant_id="grant-1")
    assert db.grants.refresh("refresh-1").grant_id == "grant-1"
    assert db.grants.of_user(alice.id) == ["grant-1"]
    assert db.grants.revoke_grant("grant-1") == [hash_token(token)]
    assert db.grants.refresh("refresh-1") is None
    with pytest.raises(InvalidToken):
        db.tokens.resolve(token)


def test_integration_keys_check_secrets_and_issue_tokens(db, alice):
    key, secret = db.keys.create(alice.id, "inbound", ["light"], "panel")
    assert db.keys.check_secret(key.id, secret) == key
    assert db.keys.check_secret(key.id, secret + "x") is None
    token = db.keys.issue_token(key, ttl=60)
    assert db.keys.resolve(token).id == key.id
    expired = db.keys.issue_token(key, ttl=-1)
    with pytest.raises(ExpiredToken):
        db.keys.resolve(expired)
    db.keys.set_disabled(key.id, True)
    assert db.keys.check_secret(key.id, secret) is None
    assert [k.id for k in db.keys.of_user(alice.id)] == [key.id]
    db.keys.delete(key.id)
    assert db.keys.of_user(alice.id) == []


def test_platform_links_are_encrypted_and_revoked_with_a_reason(db, alice):
    links = db.links("alexa")
    assert links.get(alice.id) is None and links.status(alice.id) is None
    # Long enough that a ciphertext cannot hold it by chance ("r-1" did, once in ~2,000).
    secret = "refresh-token-of-alice-1"
    links.put(alice.id, {"refresh_token": secret})
    assert links.get(alice.id) == {"refresh_token": secret}
    [(stored,)] = db.db.execute("select data from platform_links").fetchall()
    assert secret not in stored and "refresh_token" not in stored
    links.revoke(alice.id, "the user disabled the skill")
    assert links.get(alice.id) is None
    revoked_at, reason = links.status(alice.id)
    assert revoked_at and reason == "the user disabled the skill"
    links.put(alice.id, {"refresh_token": "r-2"})  # linked again: the same row
    assert links.get(alice.id) == {"refresh_token": "r-2"}


def test_login_failures_count_and_a_success_forgives_the_account(db):
    for _ in range(3):
        db.logins.record("alice", "10.0.0.1", False)
    assert db.logins.failures("name", "alice")[0] == 3
    attempt = db.logins.record("alice", "10.0.0.1", False)
    db.logins.succeeded(attempt)
    assert db.logins.failures("name", "alice")[0] == 0
    assert db.logins.failures("address", "10.0.0.1")[0] == 3  # an address is not forgiven


def test_pending_commands_replace_older_ones_and_finish_once(db, alice):
    heater = db.devices.create(alice.id, "plug", "Heater", transport="sigfox")
    args = ("power", "setPowerState", {"state": "On"}, None, "alexa", "c-1", "01", 60)
    first, replaced = db.pending.add(heater.id, alice.id, *args)
    assert replaced == []
    second, replaced = db.pending.add(heater.id, alice.id, *args)
    assert [r.id for r in replaced] == [first.id]
    assert db.pending.next_for(heater.id).id == second.id
    db.pending.mark_sent(second.id)
    assert db.pending.last_sent(heater.id).id == second.id
    assert db.pending.finish(second.id, "done") and not db.pending.finish(second.id, "done")
    third, _ = db.pending.add(heater.id, alice.id, *args[:-1], -1)  # already past its ttl
    assert [p.id for p in db.pending.expired(time.time())] == [third.id]


def test_a_wrong_key_names_the_database_but_never_its_password(database):
    from bridge.store import Store, WrongKey, shown
    from bridge.store.secrets import Vault

    first = Store(database, Vault("the-right-key"))
    first.users.create("alice", "password1")
    first.close()
    other = Store(database, Vault("another-key"))
    try:
        with pytest.raises(WrongKey) as refused:
            other.check_key()
    finally:
        other.close()
    assert shown(database) in str(refused.value)
    assert shown("postgresql://u:s3cret@db:5432/x") == "postgresql://u:***@db:5432/x"


def test_a_nul_character_finds_nothing_and_is_recorded_without_failing(db, alice):
    """PostgreSQL's text refuses NUL; SQLite's takes it. Neither may fail on one."""
    from bridge.model import NoSuchDevice
    from bridge.store.keys import NoSuchKey
    from bridge.store.messages import Entry

    with pytest.raises(NoSuchKey):
        db.keys.get("key\x00id")
    with pytest.raises(NoSuchDevice):
        db.devices.owned(alice.id, "ab\x00" * 8)
    db.messages.record(Entry("in", "event", "rejected", None, alice.id, detail="bad\x00byte"))
    [row] = db.messages.query(user_id=alice.id)
    assert row["detail"].startswith("bad") and row["detail"].endswith("byte")


def test_who_hears_a_users_reports_is_the_link_rows(db, alice):
    """A link says whether it takes reports, by the adapter's rule when it is written, or
    undecided (the CLI) until the server decides; a revoked link takes none."""
    google = db.links("google")
    google.takes_reports = lambda link: bool(link.get("agentUserId"))
    google.put(alice.id, {"agentUserId": "a1"})
    db.links("xiaodu").put(alice.id, {"openUid": "u1"})  # written without the rule
    db.links("alexa").put(alice.id, {}, reports=False)
    assert db.subscriptions.of(alice.id) == {"google"}
    xiaodu = db.links("xiaodu")
    xiaodu.takes_reports = lambda link: bool(link.get("openUid"))
    assert xiaodu.decide() == 1 and xiaodu.decide() == 0
    assert db.subscriptions.of(alice.id) == {"google", "xiaodu"}
    google.revoke(alice.id, "unlinked")
    assert db.subscriptions.of(alice.id) == {"xiaodu"}


def test_the_subscription_cache_follows_the_links(db, alice):
    db.serve()  # caches on, as in the server
    links = db.links("tuya")
    assert db.subscriptions.of(alice.id) == frozenset()
    links.put(alice.id, {}, reports=True)
    assert db.subscriptions.of(alice.id) == {"tuya"}
    links.revoke(alice.id, "gone")
    assert db.subscriptions.of(alice.id) == frozenset()
