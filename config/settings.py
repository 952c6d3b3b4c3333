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


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _float(name: str, default: float) -> float:
    try:
        return float(_env(name, str(default)))
    except ValueError as exc:
        raise SystemExit(f"{name} must be a number") from exc


def _int(name: str, default: int) -> int:
    try:
        return int(_env(name, str(default)))
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number") from exc


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
    idle_timeout: float = 660.0
    history_days: float = 30.0
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
    metrics_token: str = ""
    report_retry_base: float = 2.0
    report_max_attempts: int = 8
    adapters: tuple[str, ...] | None = None
    adapter_settings: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        """Read every BRIDGE_* variable (and PORT) over the embedded defaults."""
        port = _int("PORT", 8000)
        database = _env("BRIDGE_DATABASE", "bridge.db")
        adapters = os.environ.get("BRIDGE_ADAPTERS")
        return cls(
            database=database,
            secret_key=os.environ.get("BRIDGE_SECRET_KEY", ""),
            port=port,
            url=_env("BRIDGE_URL", f"http://127.0.0.1:{port}"),
            admin_token=_env("BRIDGE_ADMIN_TOKEN", ""),
            device_timeout=_float("BRIDGE_DEVICE_TIMEOUT", 8.0),
            signature_window=_float("BRIDGE_SIGNATURE_WINDOW", 60.0),
            max_message_bytes=_int("BRIDGE_MAX_MESSAGE_BYTES", 65536),
            idle_timeout=_float("BRIDGE_IDLE_TIMEOUT", 660.0),
            history_days=_float("BRIDGE_HISTORY_DAYS", 30.0),
            state_event_interval=_float("BRIDGE_STATE_EVENT_INTERVAL", 1.0),
            sensor_event_interval=_float("BRIDGE_SENSOR_EVENT_INTERVAL", 60.0),
            access_token_ttl=_float("BRIDGE_ACCESS_TOKEN_TTL", 3600.0),
            refresh_token_ttl=_float("BRIDGE_REFRESH_TOKEN_TTL", 180 * 86400.0),
            code_ttl=_float("BRIDGE_CODE_TTL", 300.0),
            login_free_failures=_int("BRIDGE_LOGIN_FREE_FAILURES", 5),
            api_token_ttl=_float("BRIDGE_API_TOKEN_TTL", 3600.0),
            api_rate=_float("BRIDGE_API_RATE", 10.0),
            api_burst=_int("BRIDGE_API_BURST", 20),
            api_max_body=_int("BRIDGE_API_MAX_BODY", 16384),
            metrics_token=_env("BRIDGE_METRICS_TOKEN", ""),
            report_retry_base=_float("BRIDGE_REPORT_RETRY_BASE", 2.0),
            report_max_attempts=_int("BRIDGE_REPORT_MAX_ATTEMPTS", 8),
            adapters=(
                tuple(a.strip() for a in adapters.split(",") if a.strip())
                if adapters is not None
                else None
            ),
            adapter_settings={k: v for k, v in os.environ.items() if k.startswith("BRIDGE_")},
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
    path = Path(database).resolve().with_suffix(".key")
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
