"""`bridge tuya link USER` and `bridge tuya unlink USER`: a user's devices in Tuya, or not."""

from __future__ import annotations

import click

from adapters.tuya.openapi import TuyaError
from bridge.plugin import BridgeError, Cli, DeadLetter, RetryLater


@click.group("tuya")
def tuya() -> None:
    """Tuya cloud-to-cloud: the bridge's devices in Tuya's apps."""


@tuya.command("link")
@click.argument("owner")
@click.pass_obj
def link(cli: Cli, owner: str) -> None:
    """Register OWNER's devices in Tuya; print each one's Tuya pairing URL, if any.

    Devices added, renamed or removed later follow through the reports.
    """
    account = cli.user(owner)
    try:
        registered = cli.plugin().link(account)
    except (TuyaError, RetryLater, DeadLetter) as exc:
        raise BridgeError(f"Tuya refused the registration: {exc}") from None
    for device, short_url in registered:
        click.echo(f"{device.id}  {device.name}  {short_url or ''}".rstrip())
    click.echo(f"{len(registered)} devices registered in Tuya for {owner}")


@tuya.command("unlink")
@click.argument("owner")
@click.pass_obj
def unlink(cli: Cli, owner: str) -> None:
    """Remove OWNER's devices from Tuya and end the link (no more reports)."""
    account = cli.user(owner)
    try:
        removed = cli.plugin().unlink(account)
    except (TuyaError, RetryLater, DeadLetter) as exc:
        raise BridgeError(f"Tuya refused the removal: {exc}") from None
    click.echo(f"{removed} devices removed from Tuya; {owner} is no longer linked")
