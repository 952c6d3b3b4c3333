"""`bridge ...`: admin commands. Most work on the database; `send` asks the server.

Imports are lazy: `bridge --version`, `--help` and `send` load neither the store
nor Flask nor any plugin; a plugin's commands are loaded when one is named (their
names come from the `bridge.commands` entry points, read without importing).
"""

from __future__ import annotations

import atexit
import functools
import json
import sys
import threading
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bridge import catalog
from bridge.model import BridgeError
from bridge.runtime import plugins
from config.settings import Settings

if TYPE_CHECKING:
    from bridge.store import Store

COMMANDS = "bridge.commands"
"""Entry points naming the commands a plugin adds (`name = "the.plugin:Class"`), so that
they are listed and found without importing every plugin."""


def _settings() -> Settings:
    return Settings.from_env().with_overrides(None)


def _store() -> Store:
    from bridge.store import Store
    from bridge.store.secrets import Vault

    settings = _settings()
    store = Store(settings.database, Vault(settings.secret_key))
    store.check_key()  # a BridgeError: one line and exit 1, like every other refusal
    return store


def announce(store: Store, user_id: int, device_id: str, kind: str, personal: bool = False) -> None:
    from bridge.reports.delivery import announce as queue

    queue(store, user_id, device_id, kind, personal)


def _print(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2))


def _device_json(device, capabilities: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": device.id,
        "type": device.type,
        "name": device.name,
        "room": device.room,
        "transport": device.transport,
    }
    if capabilities:
        out["capabilities"] = catalog.TYPES[device.type].to_json()
    return out


class Group(click.Group):
    """Turns a BridgeError into a one-line message and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BridgeError as exc:
            raise click.ClickException(exc.message) from None


class Main(Group):
    """The built-in commands, and the plugins' commands loaded when one is named.

    `device` loads the transports too: each may add options to `device create`."""

    _loaded = False

    @staticmethod
    def declared() -> dict[str, str]:
        """Plugin commands by name: the module of the plugin that adds each."""
        return {ep.name: ep.value.partition(":")[0] for ep in entry_points(group=COMMANDS)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self.declared()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands or name == "device":
            self.load_plugins()
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Help lists a plugin's command by its declared name: its own text is one
        `bridge NAME --help` away (importing every plugin for one line each is slow)."""
        declared, rows = self.declared(), []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            text = command.get_short_help_str(60) if command else f"(from {declared[name]})"
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def load_plugins(self) -> None:
        if Main._loaded:
            return
        Main._loaded = True
        from bridge.http.webhooks import discover as discover_adapters
        from bridge.transports.registry import discover as discover_transports

        found = {**discover_adapters(), **discover_transports()}
        for name, cls in found.items():
            for command in cls.commands():
                command.context_settings["obj"] = _cli(name, cls)
                self.add_command(command)
        for transport in discover_transports().values():
            device_create.params.extend(transport.device_options())


@click.group(cls=Main)
@click.version_option(package_name="voice-bridge", prog_name="bridge")
def main() -> None:
    """Voice bridge administration."""


@main.command()
def check() -> None:
    """Check the configuration: the database opens, every plugin's tables are migrated and
    the key decrypts the secrets (the server runs it before its workers start)."""
    _store().plugin_tables()
    click.echo("ok")


@main.group(cls=Group)
def user() -> None:
    """Accounts."""


@user.command("create")
@click.argument("name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def user_create(name: str, password: str) -> None:
    """Create an account; prints its app key and app secret (shown once)."""
    account, secret = _store().users.create(name, password)
    _print(
        {"id": account.id, "name": account.name, "app_key": account.app_key, "app_secret": secret}
    )


@user.command("password")
@click.argument("name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option(
    "--revoke-links",
    is_flag=True,
    help="Also end every platform link (OAuth grant): the platforms must link again.",
)
def user_password(name: str, password: str, revoke_links: bool) -> None:
    """Change an account's password; its console sessions end."""
    store = _store()
    user = store.users.set_password(name, password)
    click.echo(f"password of {name} changed; its console sessions are over")
    if revoke_links:
        grants = store.grants.of_user(user.id)
        for grant_id in grants:
            store.revoke_grant(grant_id)
        click.echo(f"{len(grants)} platform link(s) revoked")


@user.command("list")
def user_list() -> None:
    """List accounts."""
    _print([{"id": u.id, "name": u.name, "app_key": u.app_key} for u in _store().users.list()])


@main.group(cls=Group)
def device() -> None:
    """Devices."""


@device.command("create")
@click.argument("owner")
@click.option("--type", "type_name", required=True, type=click.Choice(sorted(catalog.TYPES)))
@click.option("--name", required=True, help="What people call it, e.g. 'Kitchen light'.")
@click.option("--room", help="Feeds the platforms' room / zone fields.")
@click.option("--id", "device_id", help="24 lowercase hex characters (default: new).")
@click.option(
    "--transport",
    type=click.Choice(plugins.names("bridge.transports")),
    help="How the bridge reaches it (default: the transport installed as the default).",
)
def device_create(
    owner: str,
    type_name: str,
    name: str,
    room: str | None,
    device_id: str | None,
    transport: str | None,
    **transport_options: Any,
) -> None:
    """Register a device to an account."""
    store = _store()
    account = store.users.get(owner)
    created = store.devices.create(account.id, type_name, name, room, device_id, transport)
    from bridge.transports.registry import discover as discover_transports

    try:
        for cls in discover_transports().values():
            cls.device_created(store, created, transport_options)
    except BridgeError:
        store.devices.delete(created.id)
        raise
    announce(store, account.id, created.id, "added")
    _print(_device_json(created))


@device.command("list")
@click.argument("owner", required=False)
def device_list(owner: str | None) -> None:
    """List devices (of one account)."""
    store = _store()
    devices = store.devices.of_user(store.users.get(owner).id) if owner else store.devices.all()
    _print([_device_json(d, capabilities=False) for d in devices])


@device.command("delete")
@click.argument("device_id")
def device_delete(device_id: str) -> None:
    """Delete a device and its shadow."""
    store = _store()
    deleted = store.devices.delete(device_id)
    announce(store, deleted.user_id, deleted.id, "removed")
    click.echo(f"deleted {device_id}")


@device.command("rename")
@click.argument("device_id")
@click.argument("name")
@click.option("--room", help="Move it to this room too.")
def device_rename(device_id: str, name: str, room: str | None) -> None:
    """Rename a device (and optionally move it to another room)."""
    store = _store()
    renamed = store.devices.rename(device_id, name, room)
    announce(store, renamed.user_id, renamed.id, "updated")
    _print(_device_json(renamed, capabilities=False))


@main.group(cls=Group)
def household() -> None:
    """Households: an owner's devices shared with members and guests, each in a role."""


def _households(store: Store) -> Any:
    from bridge.households.service import Households

    return Households(
        store,
        lambda user_id, device_id, change: announce(store, user_id, device_id, change, True),
    )


def _membership_json(store: Store, found: Any) -> dict[str, Any]:
    member = store.users.by_id(found.user_id)
    return {
        "member": member.name if member else found.user_id,
        "role": found.role,
        "devices": list(found.named),
        "until": datetime.fromtimestamp(found.until).astimezone().isoformat()
        if found.until
        else None,
    }


@household.command("invite")
@click.argument("owner")
@click.option("--role", required=True, type=click.Choice(["member", "guest"]))
@click.option("--device", "devices", multiple=True, help="A device the guest may use (repeatable).")
@click.option("--until", help="When the membership ends (ISO time, e.g. 2027-01-03T11:00).")
def household_invite(owner: str, role: str, devices: tuple[str, ...], until: str | None) -> None:
    """Make a single-use invitation (24 h); prints its url and token (shown once)."""
    import time

    from bridge.households.service import JOIN_PATH, until_from

    store = _store()
    account = store.users.get(owner)
    invitation, token = _households(store).invite(
        account, role, devices, until_from(until, time.time())
    )
    _print(
        {
            "id": invitation.id,
            "role": invitation.role,
            "devices": list(invitation.named),
            "url": f"{_settings().url}{JOIN_PATH}?token={token}",
            "token": token,
            "expires_at": datetime.fromtimestamp(invitation.expires_at).astimezone().isoformat(),
        }
    )


@household.command("join")
@click.argument("user_name")
@click.argument("token")
def household_join(user_name: str, token: str) -> None:
    """Accept an invitation as USER_NAME (what the invitation page does)."""
    store = _store()
    joined = _households(store).join(store.users.get(user_name), token)
    owner = store.users.by_id(joined.owner_id)
    _print(
        {"household": owner.name if owner else joined.owner_id, **_membership_json(store, joined)}
    )


@household.command("members")
@click.argument("owner")
def household_members(owner: str) -> None:
    """The household's members, with their roles."""
    store = _store()
    account = store.users.get(owner)
    rows = [{"member": account.name, "role": "owner", "devices": [], "until": None}]
    rows += [_membership_json(store, m) for m in _households(store).members(account)]
    _print(rows)


@household.command("remove")
@click.argument("owner")
@click.argument("member")
def household_remove(owner: str, member: str) -> None:
    """Remove a member: at once, for every session, token and platform of theirs."""
    store = _store()
    _households(store).remove(store.users.get(owner), store.users.get(member).id)
    click.echo(f"removed {member}")


@household.command("role")
@click.argument("owner")
@click.argument("member")
@click.argument("role", type=click.Choice(["member", "guest"]))
def household_role(owner: str, member: str, role: str) -> None:
    """Change a member's role (at once)."""
    store = _store()
    changed = _households(store).set_role(store.users.get(owner), store.users.get(member).id, role)
    _print(_membership_json(store, changed))


@main.command()
def status() -> None:
    """Whether the running server is ready, and the state of each background service.

    Exits 1 when it is not ready (or cannot be reached), naming what fails."""
    import requests

    settings = _settings()
    try:
        reply = requests.get(settings.url.rstrip("/") + "/readyz", timeout=10)
        found = reply.json()
    except (requests.RequestException, ValueError) as exc:
        raise click.ClickException(f"cannot reach the bridge at {settings.url}: {exc}") from None
    for service in found.get("services", []):
        since = datetime.fromtimestamp(service["since"]).strftime("%H:%M:%S")
        last = service.get("last_disconnect")
        why = f"  last failure {last['reason']}" if last else ""
        click.echo(f"{service['name']:<14} {service['state']:<24} since {since}{why}")
    if not found.get("ready"):
        raise click.ClickException("not ready: " + ", ".join(found.get("failing", [])))
    click.echo("ready")


@main.command()
@click.option("--hours", type=click.FloatRange(min=0.01, max=24 * 90), default=24.0)
def accuracy(hours: float) -> None:
    """Each platform's state accuracy across the deployment: time-weighted over the last
    HOURS, and at the newest check, against the platform's target."""
    import time

    from bridge.http.webhooks import discover as discover_adapters
    from bridge.reports import accuracy as accuracy_check

    store = _store()
    weighted = store.beliefs.accuracy(time.time() - hours * 3600)
    latest = store.beliefs.latest()
    adapters = discover_adapters(Settings.from_env().adapters)
    if not weighted:
        click.echo("no accuracy check has run yet (it runs in the server)")
    for name, (share, covered) in sorted(weighted.items()):
        now = latest.get(name)
        newest = f"{now.agreeing / now.pairs:.2%} of {now.pairs}" if now and now.pairs else "-"
        bar = accuracy_check.target(adapters.get(name))
        verdict = "met" if share >= bar else "NOT met"
        click.echo(
            f"{name:<12} {share:.3%} over {covered / 3600:.1f} h  now {newest:<18}"
            f" target {bar:.1%} {verdict}"
        )


@main.command()
@click.argument("device_id")
@click.argument("action")
@click.option("--value", default="{}", help="The action's value as JSON.")
@click.option("--instance", help="instanceId for range / mode controllers.")
@click.option("--timeout", type=float, help="Seconds to wait (at most BRIDGE_DEVICE_TIMEOUT).")
def send(
    device_id: str, action: str, value: str, instance: str | None, timeout: float | None
) -> None:
    """Send one request to a live device through the running server."""
    import requests

    try:
        parsed = json.loads(value)
    except ValueError:
        raise click.ClickException("--value is not JSON") from None
    settings = _settings()
    headers = {"Authorization": f"Bearer {settings.admin_token}"} if settings.admin_token else {}
    body = {
        "device": device_id,
        "action": action,
        "value": parsed,
        "instance": instance,
        "timeout": timeout,
    }
    try:
        reply = requests.post(
            settings.url.rstrip("/") + "/admin/api/send",
            json=body,
            headers=headers,
            timeout=settings.device_timeout + 5,
        )
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot reach the bridge at {settings.url}: {exc}") from None
    try:
        data = reply.json()
    except ValueError:
        raise click.ClickException(f"the bridge answered HTTP {reply.status_code}") from None
    if not reply.ok:
        raise click.ClickException(f"{data.get('title', 'error')}: {data.get('detail', '')}")
    _print(data)


@main.group(cls=Group)
def client() -> None:
    """OAuth clients: one per voice platform skill that links accounts."""


@client.command("create")
@click.argument("name")
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    required=True,
    help="A redirect URI the platform uses (repeat for several).",
)
@click.option(
    "--adapter",
    default=None,
    help="The adapter (platform) whose webhook takes this client's tokens [default: NAME].",
)
def client_create(name: str, redirect_uris: tuple[str, ...], adapter: str | None) -> None:
    """Register a client; prints its client_id and client_secret (shown once)."""
    created, secret = _store().clients.create(name, list(redirect_uris), adapter)
    _print(
        {
            "name": created.name,
            "adapter": created.adapter,
            "client_id": created.client_id,
            "client_secret": secret,
            "redirect_uris": list(created.redirect_uris),
        }
    )


@client.command("list")
def client_list() -> None:
    """List clients (never their secrets)."""
    _print(
        [
            {
                "name": c.name,
                "client_id": c.client_id,
                "adapter": c.adapter,
                "redirect_uris": list(c.redirect_uris),
            }
            for c in _store().clients.list()
        ]
    )


@client.command("bind")
@click.argument("name")
@click.option("--adapter", required=True, help="The adapter whose webhook takes its tokens.")
def client_bind(name: str, adapter: str) -> None:
    """Bind an existing client (and the tokens it holds) to an adapter."""
    bound = _store().clients.bind(name, adapter)
    click.echo(f"{bound.name} now serves {bound.adapter}")


@client.command("delete")
@click.argument("name")
def client_delete(name: str) -> None:
    """Delete a client and every token issued to it."""
    _store().clients.delete(name)
    click.echo(f"deleted {name}")


@main.group(cls=Group)
def key() -> None:
    """Integration keys for the REST API."""


@key.command("create")
@click.option("--user", "owner", required=True, help="The account the key acts for.")
@click.option(
    "--purpose",
    type=click.Choice(["inbound", "read"]),
    required=True,
    help="inbound: send commands and read state; read: read state and history.",
)
@click.option("--product", required=True, help="Device types or ids, comma-separated.")
@click.option("--name", default="", help="A label.")
def key_create(owner: str, purpose: str, product: str, name: str) -> None:
    """Create a key; prints its id and secret (shown once, stored hashed)."""
    store = _store()
    products = [p.strip() for p in product.split(",") if p.strip()]
    created, secret = store.keys.create(store.users.get(owner).id, purpose, products, name)
    _print({**created.to_json(), "secret": secret})


@key.command("list")
@click.argument("owner")
def key_list(owner: str) -> None:
    """An account's keys (never their secrets)."""
    store = _store()
    _print([k.to_json() for k in store.keys.of_user(store.users.get(owner).id)])


@key.command("disable")
@click.argument("key_id")
def key_disable(key_id: str) -> None:
    """Disable a key: its tokens stop working at once."""
    _store().keys.set_disabled(key_id, True)
    click.echo(f"disabled {key_id}")


@key.command("enable")
@click.argument("key_id")
def key_enable(key_id: str) -> None:
    """Enable a disabled key again."""
    _store().keys.set_disabled(key_id, False)
    click.echo(f"enabled {key_id}")


@key.command("delete")
@click.argument("key_id")
def key_delete(key_id: str) -> None:
    """Delete a key and its tokens."""
    _store().keys.delete(key_id)
    click.echo(f"deleted {key_id}")


@main.group(cls=Group)
def token() -> None:
    """Bearer access tokens (for scripting and tests)."""


@token.command("create")
@click.argument("owner")
@click.option(
    "--client", required=True, help="The adapter (platform) whose webhook takes the token."
)
@click.option("--ttl", type=float, default=3600.0, show_default=True, help="Lifetime, seconds.")
def token_create(owner: str, client: str, ttl: float) -> None:
    """Print a new access token for an account."""
    store = _store()
    click.echo(store.tokens.issue(store.users.get(owner).id, client, ttl))


@main.command()
@click.option("--device", "device_id", help="Only this device.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line, all fields.")
@click.option(
    "--journey",
    metavar="ID",
    help="Every hop of one command or event (a message id, or a journey id), in order.",
)
def history(device_id: str | None, limit: int, as_json: bool, journey: str | None) -> None:
    """The newest messages, newest first, as a table."""
    if journey:
        _journey(journey, as_json)
        return
    rows = _store().messages.query(device_id=device_id, limit=limit)
    if as_json:
        for row in rows:
            row.pop("payload", None)
            click.echo(json.dumps(row))
        return
    # The id first: `bridge history --journey ID` follows any row's journey.
    heading = f"{'time':<19}  {'device':<24}  {'kind':<10}  {'action':<22}  {'outcome':<11}  ms"
    click.echo(f"{'id':>8}  {heading}")
    for row in rows:
        at = datetime.fromtimestamp(row["at"]).strftime("%Y-%m-%d %H:%M:%S")
        latency = f"{row['latency_ms']:.0f}" if row["latency_ms"] is not None else ""
        detail = f"  {row['detail']}" if row["detail"] and row["outcome"] != "ok" else ""
        click.echo(
            f"{row['id']:>8}  {at:<19}  {row['device_id'] or '-':<24}  {row['kind']:<10}  "
            f"{(row['action'] or '')[:22]:<22}  {row['outcome']:<11}  {latency}{detail}"
        )


def _journey(given: str, as_json: bool) -> None:
    from bridge.http.webhooks import discover as discover_adapters
    from bridge.journeys import explain

    store = _store()
    # A journey id may be all digits too: a message id first, then the id itself.
    by_message = store.messages.journey_of(None, int(given)) if given.isdigit() else None
    journey = by_message or given[:32]
    rows = list(reversed(store.messages.query(journey=journey, limit=500))) if journey else []
    if not rows:
        raise click.ClickException(f"no journey {given!r}")
    import os

    from bridge.plugin import settings as plugin_settings

    titles = {  # as the server names them: each adapter's title and its own deadline
        name: explain.Platform(
            cls.title or name,
            getattr(plugin_settings.load(cls.settings_model, name, os.environ), "deadline", None),
        )
        for name, cls in discover_adapters(Settings.from_env().adapters).items()
    }
    reports = store.outbox.of_journey(rows[0]["user_id"], journey)
    found = explain.journey(journey, rows, reports, titles, store.messages.connection_before)
    if as_json:
        click.echo(json.dumps(found))
        return
    # The console's words (explain.shown): the sentence first, then each hop.
    names = {d.id: d.name for d in store.devices.of_user(rows[0]["user_id"])}
    people = {
        m: user.name
        for m in {r["member"] for r in rows if r.get("member")}
        if (user := store.users.by_id(m)) is not None
    }
    click.echo(f"journey {journey}: {found['explanation'] or explain.NOTHING_WRONG}")
    for hop in found["hops"]:
        at = datetime.fromtimestamp(hop["at"]).strftime("%H:%M:%S.%f")[:-3]
        one = explain.shown(hop, names, people)
        line = f"{at}  {one['after']:>10}  {one['hop']:<26}  {one['who']:<16}  {one['outcome']:<9}"
        click.echo("  ".join(part for part in (line, one["what"], one["detail"]) if part).rstrip())


@main.command()
@click.option("--user", "owner", required=True, help="Whose devices to simulate.")
@click.option("--devices", "count", type=int, default=0, help="Create this many new ones first.")
@click.option("--delay", type=float, default=0.0, help="Seconds before each answer.")
@click.option(
    "--event-every",
    "events",
    type=float,
    default=0.0,
    metavar="SECONDS",
    help="Emit a random device event every SECONDS.",
)
@click.option(
    "--things",
    "things_zip",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also run the MQTT things of a batch zip against --broker.",
)
@click.option(
    "--broker",
    envvar="BRIDGE_MQTT_URL",
    default="",
    help="The things' broker (mqtts://host:port); default: BRIDGE_MQTT_URL, else the zip's.",
)
def simulate(
    owner: str, count: int, delay: float, events: float, things_zip: Path | None, broker: str
) -> None:
    """Run virtual devices of an account against the running server (needs its own shell).

    Prints one line per connection change, command and event.
    """
    from bridge.simulator import run, run_things

    store = _store()
    account = store.users.get(owner)
    types = sorted(catalog.TYPES)
    for i in range(count):
        store.devices.create(
            account.id, types[i % len(types)], f"Virtual {types[i % len(types)]} {i + 1}"
        )
    settings = _settings()
    if things_zip is not None:
        from bridge.thing_client import broker_of

        broker = broker or broker_of(things_zip)
        if not broker:
            raise click.ClickException(
                "--things needs the things' broker: --broker mqtts://HOST:PORT, or"
                " BRIDGE_MQTT_URL as the server has it"
            )
        stop = run_things(broker, things_zip, store, say=click.echo)
        atexit.register(stop)
    sockets = plugins.default_transport()  # the simulator's devices speak its protocol
    devices = [d for d in store.devices.of_user(account.id) if d.transport == sockets]
    if not devices:
        if things_zip is not None:
            click.echo("simulating things only (Ctrl-C stops)")
            threading.Event().wait()
        raise click.ClickException(f"{owner} has no devices; add --devices N")
    secret = store.users.app_secret(account)
    click.echo(f"simulating {len(devices)} devices against {settings.url} (Ctrl-C stops)")
    run(
        settings.url,
        account.app_key,
        secret,
        devices,
        delay=delay,
        event_every=events,
        say=click.echo,
    )


def _cli(name: str, cls: type) -> Any:
    """What a plugin's commands work with (click hands it to them as the context object)."""
    from bridge.plugin import Cli
    from bridge.plugin import settings as plugin_settings

    return Cli(
        name=name,
        store=_command_store,
        settings=lambda: plugin_settings.load(
            cls.settings_model, name, _settings().plugin_settings
        ),
        bridge=_settings,
        user=lambda account: _command_store().users.get(account),
        plugin=functools.partial(_plugin, name),
        announce=lambda user_id, device_id, change: announce(
            _command_store(), user_id, device_id, change
        ),
    )


def _command_store() -> Store:
    """The command's database: opened once, closed with the command."""
    meta = click.get_current_context().find_root().meta
    if "bridge.store" not in meta:
        store = meta["bridge.store"] = _store()
        click.get_current_context().find_root().call_on_close(store.close)
    return meta["bridge.store"]


def _plugin(name: str) -> Any:
    """A plugin in a bridge built for a command (not serving); its store closes with it."""
    from bridge.runtime.bridge import Bridge

    bridge = Bridge(_settings())
    click.get_current_context().find_root().call_on_close(bridge.store.close)
    bridge.store.check_key()  # a BridgeError: one line, not a traceback
    found = bridge.adapters.get(name) or bridge.transports.by_name.get(name)
    if found is None:
        raise BridgeError(f"the {name} adapter is not enabled: add it to BRIDGE_ADAPTERS")
    return found


if __name__ == "__main__":
    sys.exit(main())
