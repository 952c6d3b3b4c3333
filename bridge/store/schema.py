"""The database schema, one migration per change, applied in order."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("bridge")


@migrations()
def m001_core(db: Database) -> None:
    db["users"].create(
        {
            "id": int,
            "name": str,
            "password_hash": str,
            "app_key": str,
            "app_secret": str,
            "created_at": float,
        },
        pk="id",
        not_null={"name", "password_hash", "app_key", "app_secret"},
    )
    db["users"].create_index(["name"], unique=True)
    db["users"].create_index(["app_key"], unique=True)
    db["devices"].create(
        {
            "id": str,
            "user_id": int,
            "type": str,
            "name": str,
            "room": str,
            "created_at": float,
        },
        pk="id",
        not_null={"user_id", "type", "name"},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["devices"].create_index(["user_id"])
    db["shadow"].create(
        {"device_id": str, "property": str, "instance": str, "value": str, "sampled_at": float},
        pk=("device_id", "property", "instance"),
    )
    db["messages"].create(
        {
            "id": int,
            "at": float,
            "user_id": int,
            "device_id": str,
            "direction": str,
            "kind": str,
            "action": str,
            "outcome": str,
            "latency_ms": float,
            "origin": str,
            "detail": str,
            "payload": str,
            "response": str,
        },
        pk="id",
    )
    # No index on `at` alone: ids grow with time, so time ranges and retention
    # walk the primary key, and every index costs on the hottest insert.
    db["messages"].create_index(["device_id", "at"])
    db["tokens"].create(
        {
            "token_hash": str,
            "user_id": int,
            "client": str,
            "expires_at": float,
            "created_at": float,
        },
        pk="token_hash",
    )
    db["outbox"].create(
        {
            "id": int,
            "adapter": str,
            "user_id": int,
            "device_id": str,
            "change": str,
            "created_at": float,
            "attempts": int,
            "next_attempt_at": float,
            "delivered_at": float,
            "failed_at": float,
            "last_error": str,
        },
        pk="id",
    )
    db["outbox"].create_index(["delivered_at", "failed_at", "next_attempt_at"])


@migrations()
def m002_account_linking(db: Database) -> None:
    db["oauth_clients"].create(
        {
            "client_id": str,
            "name": str,
            "secret_hash": str,
            "redirect_uris": str,
            "created_at": float,
        },
        pk="client_id",
        not_null={"name", "secret_hash", "redirect_uris"},
    )
    db["oauth_clients"].create_index(["name"], unique=True)
    db["oauth_codes"].create(
        {
            "code_hash": str,
            "client_id": str,
            "user_id": int,
            "redirect_uri": str,
            "scope": str,
            "code_challenge": str,
            "code_challenge_method": str,
            "expires_at": float,
            "used_at": float,
        },
        pk="code_hash",
    )
    # A grant is one consent: the code and every token pair rotated from it.
    for column in ("client_id", "scope", "grant_id"):
        db["tokens"].add_column(column, str)
    db["tokens"].create_index(["grant_id"])
    db["refresh_tokens"].create(
        {
            "refresh_hash": str,
            "user_id": int,
            "client_id": str,
            "scope": str,
            "grant_id": str,
            "expires_at": float,
            "created_at": float,
        },
        pk="refresh_hash",
    )
    db["refresh_tokens"].create_index(["grant_id"])
    db["login_attempts"].create(
        {"id": int, "at": float, "name": str, "address": str, "success": int}, pk="id"
    )
    db["login_attempts"].create_index(["name", "at"])
    db["login_attempts"].create_index(["address", "at"])


@migrations()
def m003_platform_links(db: Database) -> None:
    # What an adapter keeps per linked user (tokens for a platform's event
    # API, its region...), encrypted as one JSON document.
    db["platform_links"].create(
        {
            "adapter": str,
            "user_id": int,
            "data": str,
            "revoked_at": float,
            "reason": str,
            "updated_at": float,
        },
        pk=("adapter", "user_id"),
    )


@migrations()
def m004_integration_keys(db: Database) -> None:
    db["api_keys"].create(
        {
            "id": str,
            "user_id": int,
            "name": str,
            "purpose": str,
            "products": str,
            "secret_hash": str,
            "disabled": int,
            "created_at": float,
            "last_used_at": float,
        },
        pk="id",
        not_null={"user_id", "purpose", "products", "secret_hash"},
    )
    db["api_keys"].create_index(["user_id"])
    db["api_tokens"].create(
        {"token_hash": str, "key_id": str, "expires_at": float, "created_at": float},
        pk="token_hash",
    )
    db["api_tokens"].create_index(["key_id"])
    db["messages"].create_index(["origin", "id"])


@migrations()
def m005_tokens_bound_to_an_adapter(db: Database) -> None:
    """A client serves one platform; its tokens work at that platform's webhook only."""
    db["oauth_clients"].add_column("adapter", str)
    db["tokens"].add_column("adapter", str)


@migrations()
def m006_password_changes_end_sessions(db: Database) -> None:
    db["users"].add_column("password_changed_at", float)


@migrations()
def m007_device_transports(db: Database) -> None:
    """Each device is reached over one transport; every device made before is a socket device
    (the only kind there was: the name is history, the default now is the transports' say)."""
    db["devices"].add_column("transport", str, not_null_default="sinric")


@migrations()
def m009_pending_commands(db: Database) -> None:
    """Commands waiting for a device that only listens after it speaks.

    Older databases made this table in a migration of the tables a transport now
    keeps in its own set: here it is made only where it is missing."""
    db["pending_commands"].create(
        {
            "id": str,
            "device_id": str,
            "user_id": int,
            "capability": str,
            "action": str,
            "value": str,
            "instance_id": str,
            "origin": str,
            "reply_to": str,
            "state": str,
            "downlink": str,
            "detail": str,
            "created_at": float,
            "expires_at": float,
            "sent_at": float,
            "done_at": float,
        },
        pk="id",
        if_not_exists=True,
    )
    db["pending_commands"].create_index(["device_id", "state"], if_not_exists=True)


@migrations()
def m011_outbox_claims(db: Database) -> None:
    """Which worker took a due report, so a dead worker's claims return at once."""
    db["outbox"].add_column("claimed_by", str)


@migrations()
def m012_outbox_by_device(db: Database) -> None:
    """Coalescing looks up a device's waiting reports per adapter on every state change."""
    db["outbox"].create_index(["adapter", "device_id", "delivered_at"])


@migrations()
def m013_handled_messages(db: Database) -> None:
    """Messages a push platform delivered and the bridge handled (redeliveries skipped)."""
    db["handled"].create({"scope": str, "key": str, "expires_at": float}, pk=("scope", "key"))
    db["handled"].create_index(["expires_at"])


@migrations()
def m014_journeys(db: Database) -> None:
    """Every hop of a command or event carries its journey's id (history and outbox)."""
    db["messages"].add_column("journey", str)
    db["messages"].create_index(["journey"])
    db["outbox"].add_column("journey", str)
    db["outbox"].create_index(["journey"])


@migrations()
def m015_alerts(db: Database) -> None:
    """Alerts opened for an account (a device offline too long, a link failing, ...)."""
    db["alerts"].create(
        {
            "id": int,
            "user_id": int,
            "key": str,
            "kind": str,
            "message": str,
            "device_id": str,
            "opened_at": float,
            "closed_at": float,
        },
        pk="id",
    )
    db["alerts"].create_index(["user_id", "closed_at"])


@migrations()
def m016_request_via(db: Database) -> None:
    """Which transport and worker sent a device request (a journey's hop shows it)."""
    db["messages"].add_column("via", str)


@migrations()
def m017_webhook_on_request(db: Database) -> None:
    """A webhook's hop on the row of the device request it made: one row per command."""
    for column, kind in (
        ("directive", str),
        ("reply", str),
        ("received_at", float),
        ("served_ms", float),
    ):
        db["messages"].add_column(column, kind)


@migrations()
def m018_pending_journey(db: Database) -> None:
    """A pending command keeps its journey until the device takes it (or it ends)."""
    db["pending_commands"].add_column("journey", str)


@migrations()
def m020_links_take_reports(db: Database) -> None:
    """Whether a link takes reports, written with it (NULL: the adapter decides at start)."""
    db["platform_links"].add_column("reports", int)
    db["platform_links"].create_index(["user_id", "reports"])


@migrations()
def m021_households(db: Database) -> None:
    """Households: an owner's devices shared with members in roles, by invitation."""
    db["households"].create({"id": int, "owner_id": int, "name": str, "created_at": float}, pk="id")
    db["households"].create_index(["owner_id"], unique=True)
    db["household_members"].create(
        {
            "household_id": int,
            "user_id": int,
            "role": str,
            "devices": str,
            "until": float,
            "added_at": float,
            "added_by": int,
        },
        pk=("household_id", "user_id"),
        not_null={"role"},
    )
    db["household_members"].create_index(["user_id"])
    db["household_invitations"].create(
        {
            "id": str,
            "household_id": int,
            "token_hash": str,
            "role": str,
            "devices": str,
            "until": float,
            "created_at": float,
            "expires_at": float,
            "created_by": int,
            "used_at": float,
            "used_by": int,
        },
        pk="id",
    )
    db["household_invitations"].create_index(["token_hash"], unique=True)
    db["messages"].add_column("member", int)
    db["messages"].create_index(["member"])  # a member's own commands, in their history


@migrations()
def m022_meter_readings(db: Database) -> None:
    """Meter readings (power, and the energy of the interval since the one before)."""
    db["meter_readings"].create(
        {
            "id": int,
            "device_id": str,
            "at": float,
            "start": float,
            "power": float,
            "watt_hours": float,
        },
        pk="id",
        not_null={"device_id", "at"},
    )
    db["meter_readings"].create_index(["device_id", "at"])


@migrations()
def m023_beliefs(db: Database) -> None:
    """What each platform was last told of each property of each device, per person (the
    state-accuracy check compares it with the shadow)."""
    db["beliefs"].create(
        {
            "adapter": str,
            "user_id": int,
            "device_id": str,
            "property": str,
            "instance": str,
            "value": str,
            "told_at": float,
            "source": str,
            "drift_since": float,
        },
        pk=("adapter", "user_id", "device_id", "property", "instance"),
        not_null={"adapter", "user_id", "device_id", "property", "instance"},
    )
    db["beliefs"].create_index(["device_id"])
    db["beliefs"].create_index(["user_id"])
    db["accuracy_samples"].create(
        {"id": int, "adapter": str, "at": float, "span": float, "pairs": int, "agreeing": int},
        pk="id",
        not_null={"adapter", "at"},
    )
    db["accuracy_samples"].create_index(["adapter", "at"])
