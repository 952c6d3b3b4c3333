"""`bridge thing ...` and `bridge mqtt ...`: batches of things, revocation, the broker's files."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bridge.plugin import Cli, catalog
from bridge.transports.mqtt import broker, things
from bridge.transports.mqtt.tables import Certificates

if TYPE_CHECKING:
    from bridge.transports.mqtt import MqttSettings


@click.group()
def thing() -> None:
    """MQTT things: batches with certificates, revocation."""


@thing.group("batch")
def thing_batch() -> None:
    """Many things at once, as a Thing Batch API does."""


@thing_batch.command("create")
@click.argument("owner")
@click.option("--type", "type_name", required=True, type=click.Choice(sorted(catalog.TYPES)))
@click.option("--count", required=True, type=click.IntRange(1, things.MAX_BATCH))
@click.option("--name-prefix", default="Thing", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--broker",
    default="",
    help="host:port things connect to (README.txt, broker.txt); default: BRIDGE_MQTT_URL's.",
)
@click.pass_obj
def batch_create(
    cli: Cli, owner: str, type_name: str, count: int, name_prefix: str, out: Path, broker: str
) -> None:
    """Create COUNT things and a zip of their certificates and keys (written 0600)."""
    store = cli.store()
    user = store.users.get(owner)
    where = broker or _broker_address(cli.settings())
    made, archive = things.batch(store, user, type_name, count, name_prefix, where)
    things.write_private(out, archive)
    click.echo(json.dumps({"things": [d.id for d in made], "zip": str(out)}, indent=2))


@thing.command("revoke")
@click.argument("device_id")
@click.pass_obj
def thing_revoke(cli: Cli, device_id: str) -> None:
    """Revoke a thing's certificate: the broker refuses it from its next connect on."""
    store = cli.store()
    count = store.repository(Certificates).revoke_device(device_id)
    if not count:
        raise click.ClickException(f"no live certificate for {device_id}")
    directory = cli.settings().dir
    crl = str(things.write_crl(store, Path(directory))) if directory else None
    click.echo(json.dumps({"revoked": count, "crl": crl}))


@click.group()
def mqtt() -> None:
    """The MQTT broker the things connect to."""


@mqtt.command("broker-config")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", default=8883, show_default=True, type=click.IntRange(1, 65535))
@click.option("--bind", default="127.0.0.1", show_default=True)
@click.option("--name", "names", multiple=True, help="Server name for the broker certificate.")
@click.option(
    "--run-as",
    default=getpass.getuser,
    show_default="the user running this command, who owns the files",
    help="The user mosquitto runs as (`user` in its config): started as root, it drops to it.",
)
@click.pass_obj
def broker_config(
    cli: Cli, out: Path, port: int, bind: str, names: tuple[str, ...], run_as: str | None
) -> None:
    """Write mosquitto.conf, its certificates, CRL and ACL, and the bridge's client files."""
    paths = broker.write(
        cli.store(),
        out,
        port=port,
        bind=bind,
        names=names or ("localhost", "127.0.0.1"),
        run_as=run_as,
    )
    click.echo(json.dumps({k: str(v) for k, v in paths.items()}, indent=2))
    click.echo(f"start the broker: mosquitto -c {paths['conf']}", err=True)
    where = f"BRIDGE_MQTT_URL=mqtts://{bind}:{port} BRIDGE_MQTT_DIR={paths['conf'].parent}"
    click.echo(f"then the server: {where} make run", err=True)


def _broker_address(settings: MqttSettings) -> str:
    return settings.url.split("://", 1)[-1] if settings.url else ""
