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
