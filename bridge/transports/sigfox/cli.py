"""`bridge sigfox ...`: device types with their payload layouts and callback secrets."""

from __future__ import annotations

import json
import time

import click
import requests

from bridge.plugin import BridgeError, Cli, Device, Store, catalog, new_token
from bridge.transports.sigfox import plugin_codec
from bridge.transports.sigfox.api import SigfoxApi, SigfoxApiError
from bridge.transports.sigfox.codec import DOWNLINK_BYTES, Layout, LayoutError
from bridge.transports.sigfox.tables import SigfoxStore

KINDS = ("uplink", "bidir", "status", "ack", "error")


def register(store: Store, device: Device, sigfox_id: str | None, type_name: str | None) -> None:
    """Tie a new device to its Sigfox id and type (`bridge device create --transport sigfox`)."""
    if device.transport != "sigfox":
        if sigfox_id or type_name:
            raise BridgeError("--sigfox-id and --sigfox-type go with --transport sigfox")
        return
    if not sigfox_id or not type_name:
        raise BridgeError("--transport sigfox needs --sigfox-id and --sigfox-type")
    kind = store.repository(SigfoxStore).type(type_name)
    if kind is None:
        raise BridgeError(f"no Sigfox type {type_name!r}; make it with `bridge sigfox type create`")
    if not kind.open_to(device.user_id):
        raise BridgeError(f"Sigfox type {type_name} belongs to another account")
    if kind.catalog_type != device.type:
        raise BridgeError(
            f"Sigfox type {type_name} describes a {kind.catalog_type}, not a {device.type}"
        )
    if not (1 <= len(sigfox_id) <= 8 and all(c in "0123456789abcdefABCDEF" for c in sigfox_id)):
        raise BridgeError("a Sigfox id is 1 to 8 hex digits")
    store.repository(SigfoxStore).add_device(sigfox_id.upper(), device.id, type_name)


@click.group()
def sigfox() -> None:
    """Sigfox device types: payload layouts and callbacks."""


@sigfox.group("type")
def sigfox_type() -> None:
    """Device types, as Sigfox's backend has them."""


@sigfox_type.command("create")
@click.argument("name")
@click.option("--uplink", help="Sigfox custom-payload layout of uplinks.")
@click.option("--downlink", help="Layout of downlinks (8 bytes); none: takes no commands.")
@click.option(
    "--catalog-type", "catalog_type", default="switch", type=click.Choice(sorted(catalog.TYPES))
)
@click.option("--sigfox-type-id", help="The type's id in Sigfox's backend (for sync).")
@click.option("--codec", help="A codec plugin (bridge.sigfox_codecs) instead of layouts.")
@click.option(
    "--owner",
    help="The account whose devices may use it (its secret drives them); none: every account.",
)
@click.pass_obj
def type_create(
    cli: Cli,
    name: str,
    uplink: str | None,
    downlink: str | None,
    catalog_type: str,
    sigfox_type_id: str | None,
    codec: str | None,
    owner: str | None,
) -> None:
    """Register a device type; prints its callback URLs and secret (shown once).

    A type's secret authenticates the callbacks of every device on it: a type of one
    account (--owner) takes only that account's devices; the operator's (no owner)
    takes any account's."""
    if bool(codec) == bool(uplink) or (codec and downlink):
        raise click.ClickException("give --uplink (and --downlink), or --codec")
    try:
        if codec:
            up = down = plugin_codec(codec)
        else:
            up = Layout(uplink or "")
            down = Layout(downlink, DOWNLINK_BYTES) if downlink else None
    except (LayoutError, BridgeError) as exc:
        raise click.ClickException(str(exc)) from None
    names = _names(catalog_type)
    unknown = [n for n in up.names + (down.names if down else []) if n not in names]
    if unknown:
        known = ", ".join(sorted(names))
        raise click.ClickException(f"{', '.join(unknown)}: not a {catalog_type} property ({known})")
    secret = new_token(32)
    store = cli.store()
    owner_id = store.users.get(owner).id if owner else None
    up_text = up.text if isinstance(up, Layout) else ""
    down_text = down.text if isinstance(down, Layout) else None
    store.repository(SigfoxStore).create_type(
        name, up_text, down_text, catalog_type, codec, secret, sigfox_type_id, owner_id
    )
    base = cli.bridge().url.rstrip("/") + "/device-clouds/sigfox/"
    click.echo(
        json.dumps(
            {
                "name": name,
                "catalog_type": catalog_type,
                "owner": owner,
                "callbacks": {k: base + k for k in KINDS},
                "secret": secret,
            },
            indent=2,
        )
    )


def api(cli: Cli) -> SigfoxApi:
    s = cli.settings()
    return SigfoxApi(s.api_url, s.api_login, s.api_password, requests.Session())


def known_type(store: Store, name: str):
    kind = store.repository(SigfoxStore).type(name)
    if kind is None:
        raise click.ClickException(f"no Sigfox type {name!r}")
    if not kind.sigfox_type_id:
        raise click.ClickException(f"{name} has no --sigfox-type-id: Sigfox cannot list it")
    return kind


@sigfox.command("sync")
@click.option("--type", "type_name", required=True)
@click.option("--user", "owner", required=True, help="Who owns the devices it adds.")
@click.pass_obj
def sync(cli: Cli, type_name: str, owner: str) -> None:
    """Register the type's devices that Sigfox's API lists and the bridge lacks."""
    store = cli.store()
    kind = known_type(store, type_name)
    user = store.users.get(owner)
    if not kind.open_to(user.id):
        raise click.ClickException(f"Sigfox type {type_name} belongs to another account")
    added, known = [], 0
    try:
        for item in api(cli).devices(kind.sigfox_type_id):
            sigfox_id = str(item.get("id", "")).upper()
            if store.repository(SigfoxStore).device(sigfox_id) is not None:
                known += 1
                continue
            name = str(item.get("name") or f"Sigfox {sigfox_id}")[:128]
            device = store.devices.create(user.id, kind.catalog_type, name, transport="sigfox")
            register(store, device, sigfox_id, kind.name)
            cli.announce(user.id, device.id, "added")
            added.append({"id": device.id, "sigfox_id": sigfox_id, "name": name})
    except SigfoxApiError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps({"added": added, "known": known}, indent=2))


@sigfox.command("recover")
@click.option("--type", "type_name", required=True)
@click.option("--hours", default=72.0, show_default=True, help="How far back to look.")
@click.pass_obj
def recover(cli: Cli, type_name: str, hours: float) -> None:
    """Apply the uplinks a callback outage missed, from the API, oldest first."""
    transport = cli.plugin()
    store = transport.context.store
    client = api(cli)
    floor = int((time.time() - hours * 3600) * 1000)
    applied: dict[str, int] = {}
    tables = transport.tables
    try:
        for sigfox_id in tables.devices_of_type(type_name):
            found = tables.device(sigfox_id)
            device = store.devices.get(found.device_id) if found else None
            if found is None or device is None:
                continue
            user = store.users.by_id(device.user_id)
            since = max(floor, (tables.last_frame(sigfox_id) or 0) * 1000)
            messages = client.messages(sigfox_id, since)
            applied[sigfox_id] = transport.recover(found, user, messages)
    except SigfoxApiError as exc:
        raise click.ClickException(str(exc)) from None
    store.writer.flush()
    click.echo(json.dumps({"applied": applied}, indent=2))


def _names(type_name: str) -> set[str]:
    """The shadow names a catalog type has (`prop`, or `prop:instance`)."""
    return {n for cap in catalog.TYPES[type_name].capabilities for n in cap.named_state()}
