"""`bridge sigfox ...`: device types with their payload layouts and callback secrets."""

from __future__ import annotations

import json
from collections.abc import Callable

import click

from bridge import catalog
from bridge.model import BridgeError, Device
from bridge.secrets import new_token
from bridge.store import Store
from bridge.transports.sigfox.codec import DOWNLINK_BYTES, Layout, LayoutError
from config.settings import Settings

KINDS = ("uplink", "bidir", "status", "ack", "error")


def register(store: Store, device: Device, sigfox_id: str | None, type_name: str | None) -> None:
    """Tie a new device to its Sigfox id and type (`bridge device create --transport sigfox`)."""
    if device.transport != "sigfox":
        if sigfox_id or type_name:
            raise BridgeError("--sigfox-id and --sigfox-type go with --transport sigfox")
        return
    if not sigfox_id or not type_name:
        raise BridgeError("--transport sigfox needs --sigfox-id and --sigfox-type")
    kind = store.sigfox.type(type_name)
    if kind is None:
        raise BridgeError(f"no Sigfox type {type_name!r}; make it with `bridge sigfox type create`")
    if kind.catalog_type != device.type:
        raise BridgeError(
            f"Sigfox type {type_name} describes a {kind.catalog_type}, not a {device.type}"
        )
    if not (1 <= len(sigfox_id) <= 8 and all(c in "0123456789abcdefABCDEF" for c in sigfox_id)):
        raise BridgeError("a Sigfox id is 1 to 8 hex digits")
    store.sigfox.add_device(sigfox_id.upper(), device.id, type_name)


def commands(open_store: Callable[[], Store], settings: Callable[[], Settings]) -> list:
    @click.group()
    def sigfox() -> None:
        """Sigfox device types: payload layouts and callbacks."""

    @sigfox.group("type")
    def sigfox_type() -> None:
        """Device types, as Sigfox's backend has them."""

    @sigfox_type.command("create")
    @click.argument("name")
    @click.option("--uplink", required=True, help="Sigfox custom-payload layout of uplinks.")
    @click.option("--downlink", help="Layout of downlinks (8 bytes); none: takes no commands.")
    @click.option(
        "--catalog-type", "catalog_type", default="switch", type=click.Choice(sorted(catalog.TYPES))
    )
    def type_create(name: str, uplink: str, downlink: str | None, catalog_type: str) -> None:
        """Register a device type; prints its callback URLs and secret (shown once)."""
        try:
            up = Layout(uplink)
            down = Layout(downlink, DOWNLINK_BYTES) if downlink else None
        except LayoutError as exc:
            raise click.ClickException(str(exc)) from None
        names = _names(catalog_type)
        unknown = [n for n in up.names + (down.names if down else []) if n not in names]
        if unknown:
            known = ", ".join(sorted(names))
            raise click.ClickException(
                f"{', '.join(unknown)}: not a {catalog_type} property ({known})"
            )
        secret = new_token(32)
        store = open_store()
        store.sigfox.create_type(
            name, up.text, down.text if down else None, catalog_type, None, secret
        )
        base = settings().url.rstrip("/") + "/device-clouds/sigfox/"
        click.echo(
            json.dumps(
                {
                    "name": name,
                    "catalog_type": catalog_type,
                    "callbacks": {k: base + k for k in KINDS},
                    "secret": secret,
                },
                indent=2,
            )
        )

    return [sigfox]


def _names(type_name: str) -> set[str]:
    """The shadow names a catalog type has (`prop`, or `prop:instance`)."""
    out = set()
    for cap in catalog.TYPES[type_name].capabilities:
        suffix = f":{cap.instance}" if cap.instance else ""
        out |= {p + suffix for p in cap.state}
    return out
