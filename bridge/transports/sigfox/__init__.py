"""The Sigfox transport: devices that speak only through Sigfox's callbacks.

A Sigfox device holds no connection. It sends at most 140 uplinks of 12
bytes a day and can receive 8 bytes only as the answer to an uplink that
asks (BIDIR). So a command for it is accepted, stored (one per device and
capability, the last wins), handed over on the device's next BIDIR, and
completed by the network's ACKNOWLEDGE (or expires): the platform that
asked hears the outcome later. Uplinks are device events; an ERROR callback
(keep-alive breached) makes the device unreachable until it speaks again.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import click

from bridge.plugin import (
    Command,
    Device,
    DeviceEvent,
    DeviceOffline,
    DeviceRefused,
    DeviceTimeout,
    Exchange,
    Outcome,
    PendingCommand,
    PluginSettings,
    Reply,
    Service,
    Transport,
    TransportContext,
    Unsupported,
    User,
    catalog,
    plugin_classes,
)
from bridge.transports.sigfox.codec import (
    DOWNLINK_BYTES,
    UPLINK_BYTES,
    Codec,
    Layout,
    PayloadError,
)
from bridge.transports.sigfox.tables import SigfoxDevice, SigfoxStore, SigfoxType

NAME = "sigfox"
FRAMES_KEPT = 4 * 86400.0
"""Seen frames are kept past Sigfox's last retry (minutes) and the API's recovery window
(`bridge sigfox recover` looks back 72 h by default), then forgotten."""


CODECS = "bridge.sigfox_codecs"


@functools.cache
def plugin_codec(name: str) -> Codec:
    """A codec plugin, found and made once (callbacks ask on every frame)."""
    found = plugin_classes(CODECS, Codec, (name,)).get(name)
    if found is None:
        raise Unsupported(f"the Sigfox codec {name!r} is not installed")
    return found()


@functools.cache
def layout(text: str, limit: int) -> Layout:
    """A type's layout, parsed once: layouts never change after the type is made."""
    return Layout(text, limit)


def uplink_codec(kind: SigfoxType) -> Codec:
    return plugin_codec(kind.codec) if kind.codec else layout(kind.uplink, UPLINK_BYTES)


def downlink_codec(kind: SigfoxType) -> Codec | None:
    if kind.codec:
        return plugin_codec(kind.codec)
    return layout(kind.downlink, DOWNLINK_BYTES) if kind.downlink else None


def _choices(type_name: str, name: str) -> tuple[str, ...]:
    """The values of a two-state property (the first one is `true`), or () for a number."""
    prop, _, instance = name.partition(":")
    for cap in catalog.TYPES[type_name].capabilities:
        if (cap.instance or "") != instance or prop not in cap.state:
            continue
        for spec in cap.reported:
            if spec.name == cap.state[prop] and spec.choices:
                return spec.choices
    return ()


def to_state(type_name: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Decoded fields as shadow values: a bool is its property's first state when true."""
    out = {}
    for name, value in fields.items():
        choices = _choices(type_name, name)
        if isinstance(value, bool):
            if len(choices) >= 2:
                out[name] = choices[0] if value else choices[1]
        else:
            out[name] = value
    return out


def to_fields(type_name: str, state: dict[str, Any]) -> dict[str, Any]:
    """Shadow values as fields to encode: a two-state property is true in its first state."""
    out = {}
    for name, value in state.items():
        choices = _choices(type_name, name)
        out[name] = (value == choices[0]) if choices else value
    return out


class SigfoxSettings(PluginSettings, frozen=True):
    """BRIDGE_SIGFOX_*: how long a command waits for its device, and Sigfox's API."""

    pending_ttl: float = 43200.0
    """Seconds a command waits for the device's next downlink request."""
    api_url: str = "https://api.sigfox.com/v2"
    """Sigfox's REST API (device sync, missed-uplink recovery)."""
    api_login: str = ""
    """The Sigfox API user's login (HTTP Basic)."""
    api_password: str = ""
    """The Sigfox API user's password."""


class SigfoxTransport(Transport):
    name = NAME
    settings_model = SigfoxSettings
    repositories = (SigfoxStore,)
    holds_connections = False  # heard on each uplink, silent between

    def __init__(self, context: TransportContext) -> None:
        super().__init__(context)
        self.tables = context.store.repository(SigfoxStore)
        self.ttl = context.settings.pending_ttl

    @classmethod
    def commands(cls) -> list[click.Command]:
        from bridge.transports.sigfox.cli import sigfox

        return [sigfox]

    @classmethod
    def device_options(cls) -> list[click.Option]:
        return [
            click.Option(
                ["--sigfox-id"], help="The Sigfox device id (hex), for --transport sigfox."
            ),
            click.Option(["--sigfox-type"], help="Its Sigfox device type, for --transport sigfox."),
        ]

    @classmethod
    def device_created(cls, store, device: Device, options: dict[str, Any]) -> None:
        from bridge.transports.sigfox.cli import register

        register(store, device, options.get("sigfox_id"), options.get("sigfox_type"))

    def blueprint(self):
        from bridge.transports.sigfox.views import blueprint

        return blueprint(self)

    # -- the core's side ---------------------------------------------------------------

    def online(self, device_id: str) -> bool:
        found = self.tables.by_device(device_id)
        return found is not None and found.reachable

    def request(
        self, device: Device, command: Command, deadline: float, exchange: Exchange
    ) -> Reply:
        found = self.tables.by_device(device.id)
        if found is None or not found.reachable:
            raise DeviceOffline()
        codec = downlink_codec(found.type)
        if codec is None:
            raise Unsupported("this Sigfox device type takes no downlinks")
        props = catalog.state_from(device.type, command.action, command.value, command.instance_id)
        if not props:
            raise Unsupported(f"a Sigfox device takes absolute values: {command.action} has none")
        state = {
            **self.context.store.shadow.values(device.id),
            **catalog.shadow_names(command.instance_id, props),
        }
        fields = to_fields(device.type, {n: state[n] for n in codec.names if n in state})
        missing = [n for n in codec.names if n not in fields]
        if missing:
            raise Unsupported(f"the downlink also needs {', '.join(missing)}, unknown so far")
        try:
            downlink = codec.encode(fields, pad_to=DOWNLINK_BYTES).hex()
        except PayloadError as exc:
            raise Unsupported(str(exc)) from None
        cap = catalog.TYPES[device.type].capability_for(command.action, command.instance_id)
        key = cap.key if cap else command.action
        queued, replaced = self.context.store.pending.add(
            device.id,
            device.user_id,
            key,
            command.action,
            command.value,
            command.instance_id,
            command.origin,
            command.reply_to,
            downlink,
            self.ttl,
            command.journey,
        )
        for old in replaced:
            self._finish(old, DeviceRefused("a newer command for the same thing took its place"))
        exchange.sent = {"downlinkData": downlink, "command": queued.id}
        return Reply(Outcome.PENDING, {}, "queued for the device's next uplink", queued.id)

    def _finish(self, pending: PendingCommand, done: dict[str, Any] | Exception) -> None:
        """Tell the core how an accepted command ended (state applied, the asker told)."""
        user = self.context.store.users.by_id(pending.user_id)
        if user is None or self.context.finished is None:
            return
        command = Command(
            pending.device_id,
            pending.action,
            pending.value,
            pending.instance_id,
            pending.origin,
            pending.reply_to,
            journey=pending.journey,
        )
        self.context.finished(user, command, done)  # type: ignore[arg-type]

    # -- what Sigfox says --------------------------------------------------------------

    def uplink(
        self, found: SigfoxDevice, user: User, fields: dict[str, Any], at: float, text: str
    ) -> None:
        """A frame's values: device events, reachability back, a sent command confirmed."""
        device = self.context.store.devices.get(found.device_id)
        if device is None:
            return
        if self.tables.set_reachable(found.sigfox_id, True):
            self.context.events.connectivity(user, device.id, online=True)
        state = to_state(device.type, fields)
        for action, value, instance in catalog.events_from(device.type, state):
            self.context.events.handle(
                user,
                device,
                DeviceEvent(device.id, action, value, instance, "PHYSICAL_INTERACTION", text, at),
            )
        sent = self.context.store.pending.last_sent(device.id)
        if sent is not None:
            wanted = catalog.state_from(device.type, sent.action, sent.value, sent.instance_id)
            named = catalog.shadow_names(sent.instance_id, wanted)
            confirmed = named and all(state.get(k) == v for k, v in named.items())
            if confirmed and self.context.store.pending.finish(sent.id, "delivered", "uplink"):
                self._finish(sent, sent.value)

    def uplink_fields(self, found: SigfoxDevice, data: bytes) -> dict[str, Any]:
        return uplink_codec(found.type).decode(data)

    def status(
        self, found: SigfoxDevice, user: User, batt: float | None, temp: float | None, at: float
    ) -> None:
        """An out-of-band frame: battery (V) and the device's own temperature into the shadow."""
        props = {k: v for k, v in (("battery", batt), ("deviceTemperature", temp)) if v is not None}
        self.context.store.shadow.update(found.device_id, props, None, at)
        if self.tables.set_reachable(found.sigfox_id, True):
            self.context.events.connectivity(user, found.device_id, online=True)

    def recover(self, found: SigfoxDevice, user: User, messages: list[dict[str, Any]]) -> int:
        """Missed uplinks (from the API, oldest first) applied as callbacks would have been;
        frames seen before are skipped. How many were new."""
        applied = 0
        for message in messages:
            try:
                at = int(message["time"]) // 1000  # the API says ms, callbacks seconds
                seq = int(message.get("seqNumber", 0))
                fields = self.uplink_fields(found, bytes.fromhex(str(message.get("data", ""))))
            except (KeyError, TypeError, ValueError):
                self.context.log.warning("skipped an unreadable message of %s", found.sigfox_id)
                continue
            if self.tables.first_sight(found.sigfox_id, seq, at):
                self.uplink(found, user, fields, float(at), json.dumps(message)[:4096])
                applied += 1
        return applied

    def downlink(self, found: SigfoxDevice) -> str | None:
        """The 8 bytes (hex) for a device that asks, marking its oldest command sent."""
        queued = self.context.store.pending.next_for(found.device_id)
        if queued is None or not queued.downlink:
            return None
        self.context.store.pending.mark_sent(queued.id)
        return queued.downlink

    def acknowledged(self, found: SigfoxDevice, code: int, name: str) -> None:
        sent = self.context.store.pending.last_sent(found.device_id)
        if sent is None:
            return
        if code == 0:
            if self.context.store.pending.finish(sent.id, "delivered", "the network sent it"):
                self._finish(sent, sent.value)
        elif self.context.store.pending.finish(sent.id, "failed", name):
            self._finish(sent, DeviceRefused(f"Sigfox could not deliver it: {name}"))

    def unreachable(self, found: SigfoxDevice, user: User) -> None:
        if self.tables.set_reachable(found.sigfox_id, False):
            self.context.events.connectivity(user, found.device_id, online=False)

    # -- background: commands that waited too long -------------------------------------

    def services(self) -> list[Service]:
        return [PendingExpiry(self)]

    def expire_due(self, now: float | None = None) -> int:
        count = 0
        for pending in self.context.store.pending.expired(now):
            if self.context.store.pending.finish(pending.id, "expired", "the device never asked"):
                self._finish(pending, DeviceTimeout("the device did not listen before it expired"))
                count += 1
        return count


class PendingExpiry(Service):
    """Expire commands whose device never asked; forget seen frames once no retry or
    recovery can bring them back (hourly)."""

    name = "sigfox expiry"
    every = 30.0

    def __init__(self, transport: SigfoxTransport) -> None:
        super().__init__(transport.context.bus)
        self.transport = transport
        self._pruned = 0.0

    def run_once(self) -> None:
        now = self.clock()
        self.transport.expire_due(now)
        if now - self._pruned > 3600:
            self._pruned = now
            self.transport.tables.prune_frames(now - FRAMES_KEPT)
