"""Settings: environment variables with embedded defaults.

The names are an interface (the README documents them, operators rely on
them), so every one is declared here and nowhere else.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


def env_name(setting: str) -> str:
    """The environment variable of a setting: PORT, or BRIDGE_ and the name in capitals."""
    return "PORT" if setting == "port" else f"BRIDGE_{setting.upper()}"


def _parse(name: str, raw: str, kind: type) -> Any:
    try:
        return kind(raw)
    except ValueError as exc:
        what = "a whole number" if kind is int else "a number"
        raise SystemExit(f"{name} must be {what}") from exc


@dataclass(frozen=True)
class Settings:
    """Everything the bridge can be told; one instance per app."""

    database: str = "bridge.db"
    secret_key: str = ""
    port: int = 8000
    url: str = ""
    admin_token: str = ""
    device_timeout: float = 8.0
    signature_window: float = 60.0
    max_message_bytes: int = 65536
    body_timeout: float = 10.0
    graceful_timeout: float = 10.0
    proxy_hops: int = 0
    idle_timeout: float = 660.0
    takeover_grace: float = 2.0
    history_days: float = 30.0
    refusals_kept: int = 5
    state_event_interval: float = 1.0
    sensor_event_interval: float = 60.0
    access_token_ttl: float = 3600.0
    refresh_token_ttl: float = 180 * 86400.0
    code_ttl: float = 300.0
    login_free_failures: int = 5
    api_token_ttl: float = 3600.0
    api_rate: float = 10.0
    api_burst: int = 20
    api_max_body: int = 16384
    streams_per_account: int = 20
    directive_rate: float = 20.0
    directive_burst: int = 40
    command_rate: float = 10.0
    command_burst: int = 20
    streams_per_worker: int = 1000
    metrics_token: str = ""
    report_retry_base: float = 2.0
    report_max_attempts: int = 8
    report_retry_max: float = 15.0
    alert_interval: float = 60.0
    alert_offline_after: float = 1800.0
    alert_dead_letters: int = 5
    alert_webhook_url: str = ""
    alert_webhook_secret: str = ""
    redis_url: str = ""
    redis_prefix: str = "bridge"
    hold_ttl: float = 15.0
    adapters: tuple[str, ...] | None = None
    plugin_settings: dict[str, str] = field(default_factory=dict)
    """Every BRIDGE_* variable as given: each plugin reads its own BRIDGE_<NAME>_* from it."""

    @classmethod
    def from_env(cls) -> Settings:
        """Read every BRIDGE_* variable (and PORT) over the embedded defaults."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(env_name(f.name))
            if raw is not None and isinstance(f.default, int | float | str):
                values[f.name] = _parse(env_name(f.name), raw, type(f.default))
        values.setdefault("url", f"http://127.0.0.1:{values.get('port', cls.port)}")
        adapters = os.environ.get("BRIDGE_ADAPTERS")
        if adapters is not None:
            values["adapters"] = tuple(a.strip() for a in adapters.split(",") if a.strip())
        values["plugin_settings"] = {k: v for k, v in os.environ.items() if k.startswith("BRIDGE_")}
        return cls(**values)

    def for_plugins(self) -> Settings:
        """These settings without their secrets and the other plugins' variables: what a
        plugin's context holds (a plugin reads its own variables through its model)."""
        return replace(
            self,
            secret_key="",
            admin_token="",
            metrics_token="",
            alert_webhook_secret="",
            database="",
            plugin_settings={},
        )

    def with_overrides(self, overrides: dict[str, Any] | None) -> Settings:
        """Apply a test or caller dict on top (unknown keys are an error)."""
        overrides = overrides or {}
        unknown = set(overrides) - {f.name for f in fields(self)}
        if unknown:
            raise ValueError(f"unknown settings: {sorted(unknown)}")
        settings = replace(self, **overrides)
        if not settings.secret_key:
            settings = replace(settings, secret_key=_stored_secret_key(settings.database))
        return settings


def _stored_secret_key(database: str) -> str:
    """A per-installation key kept beside the database (mode 0600).

    With no BRIDGE_SECRET_KEY set, a fresh install still encrypts its secrets
    with a key of its own instead of a default everybody knows.
    """
    if database == ":memory:":
        return secrets.token_urlsafe(32)
    if database.startswith(("postgresql://", "postgres://")):
        raise SystemExit(
            "BRIDGE_SECRET_KEY must be set with a PostgreSQL database: every server and"
            " CLI command needs the same key, and there is no folder to keep one in"
        )
    path = Path(database).resolve().with_suffix(".key")
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
