"""A Mosquitto configuration for the bridge's things: mutual TLS, a CRL, per-thing ACLs.

The broker requires a client certificate from the bridge's CA, makes its
common name the username and the client id (so "thing name = client id"
is the broker's rule, not the thing's goodwill), and lets each thing reach
only its own `$aws/things/<name>/#` and `tcxn/things/<name>/#`. The bridge's
own certificate (CN `bridge`) reaches all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bridge.plugin import Store
from bridge.transports.mqtt import topics
from bridge.transports.mqtt.tables import Certificates
from bridge.transports.mqtt.things import (
    AUTHORITY,
    CRL_FILE,
    PID_FILE,
    authority,
    reload,
    write_crl,
    write_private,
)

BRIDGE_CN = "bridge"
"""The bridge's own client identity (a thing's name is a 24-hex device id, never this)."""
FILES = {
    "ca": "ca.pem",
    "server_cert": "server.pem",
    "server_key": "server.key",
    "client_cert": "bridge.pem",
    "client_key": "bridge.key",
    "acl": "acl",
    "conf": "mosquitto.conf",
}


def acl(quarantined: Iterable[str] = ()) -> str:
    """Each thing reaches its own topics; a quarantined one may publish to none of them
    (the broker drops its requests, and it still hears its deltas)."""
    denied = "".join(
        f"user {thing}\n" + "".join(f"topic deny {t.format(thing=thing)}\n" for t in PUBLISHED)
        for thing in sorted(quarantined)
    )
    return (
        f"user {BRIDGE_CN}\n"
        "topic readwrite $aws/things/#\n"
        "topic readwrite tcxn/things/#\n"
        "topic read $aws/events/#\n"
        "topic read $SYS/brokers/#\n"
        "\n"
        f"{denied}"
        "pattern readwrite $aws/things/%u/#\n"
        "pattern readwrite tcxn/things/%u/#\n"
    )


PUBLISHED = (topics.UPDATE, topics.GET, topics.DELETE, topics.BACKDATE, topics.WILL)
"""What a thing publishes: a quarantined thing's will is dropped as well (a thing that
reconnects meanwhile is refused; the bridge says it is offline until the end)."""


def quarantine(directory: Path, things: Iterable[str]) -> bool:
    """Rewrite the ACL denying `things` their topics and have the broker reload it;
    whether a broker running from `directory` was told (else nothing is denied)."""
    path, wanted = directory / FILES["acl"], acl(things)
    if path.exists() and path.read_text() == wanted:
        return (directory / PID_FILE).exists()
    write_private(path, wanted)
    return reload(directory)


def conf(directory: Path, port: int, bind: str, run_as: str | None) -> str:
    lines = [
        "# Written by `bridge mqtt broker-config`: mutual TLS for the bridge's things.",
        "per_listener_settings false",
        "allow_anonymous false",
        f"acl_file {directory / FILES['acl']}",
        f"pid_file {directory / PID_FILE}",
        # The bridge's session (one client id, clean_session off) and what waits for it
        # outlive a broker restart: things that reconnect before the bridge does are
        # heard, not lost (a lost connect report leaves a thing offline).
        "persistence true",
        f"persistence_location {directory}/",
        "autosave_interval 30",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        f"listener {port} {bind}",
        "tls_version tlsv1.2",
        f"cafile {directory / FILES['ca']}",
        f"certfile {directory / FILES['server_cert']}",
        f"keyfile {directory / FILES['server_key']}",
        f"crlfile {directory / CRL_FILE}",
        "require_certificate true",
        "use_identity_as_username true",
        "use_username_as_clientid true",
        "set_tcp_nodelay true",
        "max_inflight_messages 100",
        # The bridge hears every thing: when a whole fleet reconnects at once (a
        # broker restart) its connect reports must queue for the bridge, not be
        # dropped at mosquitto's default of 1,000 (a dropped one looks offline).
        "max_queued_messages 200000",
    ]
    if run_as:
        lines.insert(1, f"user {run_as}")
    return "\n".join(lines) + "\n"


def write(
    store: Store,
    directory: Path,
    *,
    port: int = 8883,
    bind: str = "127.0.0.1",
    names: tuple[str, ...] = ("localhost", "127.0.0.1"),
    run_as: str | None = None,
) -> dict[str, Path]:
    """Write every file the broker and the bridge's client need; keys 0600."""
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    ca = authority(store)
    server = ca.issue(names[0], server_names=names)
    client = ca.issue(BRIDGE_CN)
    store.repository(Certificates).issued(server.serial, AUTHORITY, names[0], None)
    store.repository(Certificates).issued(client.serial, AUTHORITY, BRIDGE_CN, None)
    contents = {
        "ca": ca.cert_pem,
        "server_cert": server.cert_pem,
        "server_key": server.key_pem,
        "client_cert": client.cert_pem,
        "client_key": client.key_pem,
        "acl": acl(),
        "conf": conf(directory, port, bind, run_as),
    }
    paths = {}
    for key, text in contents.items():
        paths[key] = directory / FILES[key]
        write_private(paths[key], text)
    paths["crl"] = write_crl(store, directory)
    return paths
