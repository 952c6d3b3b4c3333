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

    # The server
    port: int = 8000
    """Port `make run` serves on (127.0.0.1); the Procfiles serve on `0.0.0.0:$PORT`."""
    bind: str = ""
    """gunicorn's bind address; empty: `127.0.0.1:$PORT`."""
    url: str = ""
    """Where the CLI finds the running server; empty: `http://127.0.0.1:$PORT`. Point it
    at a deployed bridge (with `BRIDGE_ADMIN_TOKEN`) to send commands from elsewhere."""
    workers: int = 1
    """gunicorn workers; more than one needs `BRIDGE_REDIS_URL` (refused without it)."""
    worker_connections: int = 20000
    """Connections one worker holds at once: must exceed the number of its devices."""
    tls_cert: str = ""
    """Certificate chain (PEM) to serve https and wss directly; empty: plain http (TLS
    ends at a proxy)."""
    tls_key: str = ""
    """The private key of `BRIDGE_TLS_CERT`."""
    header_timeout: float = 15.0
    """Seconds a client has to send its request headers, and an idle keep-alive
    connection stays open."""
    body_timeout: float = 10.0
    """Seconds a client has to send a request body (then 408)."""
    graceful_timeout: float = 10.0
    """Seconds a stopping worker waits for open requests and device sockets."""
    proxy_hops: int = 0
    """TLS-terminating proxies in front of the bridge whose `X-Forwarded-For`, `-Proto`
    and `-Host` are trusted (needed for `/oauth/token` behind a proxy)."""
    log_level: str = "info"
    """The lowest level logged, gunicorn's lines and the bridge's (`debug`, `info`,
    `warning`, `error`)."""
    log_format: str = "text"
    """`text`: `[time] [pid] [LEVEL] logger: message`, one format for gunicorn's lines and
    the bridge's; `json`: one JSON object a line (`time`, `level`, `logger`, `pid`,
    `message`, `journey` on every line logged while a webhook's journey is served,
    `exception`)."""
    access_log: str = ""
    """Where a line per request goes (`-`: standard output); empty: nowhere."""
    adapters: tuple[str, ...] | None = None
    """Comma-separated names of the adapters to mount; unset: every installed one."""

    # Storage and secrets
    database: str = "bridge.db"
    """SQLite database path, or a PostgreSQL URL (`postgresql://user:password@host/db`)."""
    secret_key: str = ""
    """Encrypts secrets at rest (Fernet, HKDF-derived); empty: a key generated into
    `<database>.key` (mode 0600) at the first start. Required with PostgreSQL."""
    admin_token: str = ""
    """Bearer token of the admin endpoint (`bridge send`) for callers that are not on
    loopback; empty: loopback callers only."""
    metrics_token: str = ""
    """Bearer token of `/metrics` (and the worker's name on `/healthz`) for callers that
    are not on loopback; empty: loopback callers only."""
    history_days: float = 30.0
    """Days the message history and delivered reports are kept."""

    # Devices
    device_timeout: float = 8.0
    """Seconds a command waits for its device, at most."""
    signature_window: float = 60.0
    """Seconds a signed device message's `createdAt` may be off."""
    max_message_bytes: int = 65536
    """Largest device message; a larger one closes the socket (1009)."""
    idle_timeout: float = 660.0
    """A device socket silent this long (no frame at all, pongs included) is closed;
    it is pinged after half."""
    takeover_grace: float = 2.0
    """Seconds a device's live socket has to answer a ping before a new socket may take
    its devices."""
    state_event_interval: float = 1.0
    """Least seconds between two reported state events of one device and capability."""
    sensor_event_interval: float = 60.0
    """Least seconds between two reported sensor values of one device."""

    # Linking and tokens
    access_token_ttl: float = 3600.0
    """Seconds an access token issued to a platform lives."""
    refresh_token_ttl: float = 180 * 86400.0
    """Seconds a refresh token lives (180 days; each refresh rotates it)."""
    code_ttl: float = 300.0
    """Seconds an authorization code lives (single use)."""
    login_free_failures: int = 5
    """Failed logins per account (four times as many per address) before each try must
    wait: 1 s, doubling, up to 15 minutes."""

    # The integration API
    api_token_ttl: float = 3600.0
    """Seconds an API bearer token lives."""
    api_max_body: int = 16384
    """Largest API request body, in bytes."""

    # Budgets
    api_rate: float = 10.0
    """Requests an integration key may make a second, on all workers together."""
    api_burst: int = 20
    """Requests a quiet integration key may make at once above its rate."""
    directive_rate: float = 20.0
    """Directives one linked account may send a platform's webhook a second (0: no
    limit); past it, the platform's own rate-limit error."""
    directive_burst: int = 40
    """Directives a quiet account may send at once above its rate."""
    command_rate: float = 10.0
    """Commands one device takes a second from every caller together (0: no limit)."""
    command_burst: int = 20
    """Commands a quiet device takes at once above its rate."""
    streams_per_account: int = 20
    """Event streams (`/api/v1/stream`, console pages) one account may hold open on all
    workers together; past it, 429 `too_many_streams`."""
    streams_per_worker: int = 1000
    """Event streams one worker holds open, all accounts together."""
    refusals_kept: int = 5
    """Refusals of callers with no account (a wrong Sigfox secret, a bad webhook token,
    an unknown socket key) kept in full per source and minute; the rest are counted,
    one history row a minute."""

    # Reports
    report_retry_base: float = 2.0
    """Seconds before the first retry of a failed proactive report (then doubling)."""
    report_max_attempts: int = 8
    """Tries before a report that is not a device's state is given up (a device's newest
    state is retried until delivered)."""
    report_retry_max: float = 15.0
    """Longest wait between two tries of a report: after an outage, platforms hear
    current state within twice this."""

    # State accuracy
    accuracy_every: float = 10.0
    """Seconds between two comparisons of what each platform holds with each device."""
    accuracy_grace: float = 30.0
    """Seconds a platform may hold another value than the device before the device's state
    is sent to it again (the report lag of a change stays well under it)."""
    accuracy_alert_after: float = 600.0
    """Seconds a platform may stay under its accuracy target for an account's devices
    before that is an alert."""

    # Alerts
    alert_interval: float = 60.0
    """Seconds between two checks of every account's alerts."""
    alert_offline_after: float = 1800.0
    """Seconds a device may be offline before it is an alert."""
    alert_dead_letters: int = 5
    """Dead letters in an hour that make an alert."""
    alert_webhook_url: str = ""
    """Where each new alert is POSTed (JSON, retried through the outbox); empty: none."""
    alert_webhook_secret: str = ""
    """HMAC-SHA256 key of `X-Bridge-Signature: sha256=<hex>` over
    `<X-Bridge-Timestamp>.<body>` of the alert webhook."""

    # Scaling out
    redis_url: str = ""
    """The Redis of the bus (`redis://127.0.0.1:6379/0`); empty: one worker, an
    in-process bus."""
    redis_prefix: str = "bridge"
    """Prefix of every Redis key and channel (several bridges may share one Redis)."""
    hold_ttl: float = 15.0
    """Seconds a worker's claim on a device (and its liveness) lasts unrenewed: a dead
    worker's devices are free within this."""

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
