"""The device endpoint: Sinric-Pro-compatible WebSocket at `/` (and `/ws`).

Authentication is by the upgrade headers (`appkey`, `deviceids`); every
message after that must carry a valid HMAC, a fresh createdAt and an unused
replyToken, or it is logged and dropped without changing anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bridge.plugin import (
    DEVICE_ID,
    ConnectionClosed,
    DeviceEvent,
    Entry,
    EventIntake,
    Store,
    TooLarge,
    Unavailable,
    Unreachable,
    WebSocket,
    late_answer,
    rejection,
    when_available,
)
from bridge.transports.sinric import protocol
from bridge.transports.sinric.hub import Connection, Hub

log = logging.getLogger(__name__)
POLICY = 1008
TRY_AGAIN_LATER = 1013
MAX_DEVICES_PER_CONNECTION = 256


class Rejected(Exception):
    """The upgrade is refused; the text is the close reason."""


class DeviceEndpoint:
    def __init__(
        self,
        store: Store,
        hub: Hub,
        events: EventIntake,
        *,
        window: float,
        max_bytes: int,
        takeover_grace: float = 2.0,
        pace: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.hub = hub
        self.events = events
        self.window = window
        self.max_bytes = max_bytes
        self.takeover_grace = takeover_grace
        self.pace = pace
        """Waits for a closed socket's turn to be told offline (the worker's own pace)."""
        self.bus = hub.bus

    def serve(self, environ: dict[str, Any]) -> None:
        """Run one device connection until it ends (called in its own greenlet)."""
        ws = WebSocket.accept(environ, self.max_bytes)
        try:
            conn = self._authenticate(ws, environ)
            self._check_takeover(conn)
        except Rejected as exc:
            app_key = str(environ.get("HTTP_APPKEY", ""))[:64]
            source = str(environ.get("REMOTE_ADDR", ""))
            self._reject(None, None, f"connection refused: {exc}", app_key, source)
            ws.close(POLICY, str(exc))
            return
        except Unavailable as exc:  # the store or the bus away: the device tries again
            log.warning("device socket refused: %s", exc.message)
            ws.close(TRY_AGAIN_LATER, "try again later")
            return
        reason = "closed"
        try:
            self._open(conn)  # inside: a storage fault here must not leave a ghost online
            while True:
                text = ws.receive()
                try:
                    self.on_message(conn, text)
                except Unavailable:
                    raise
                except Exception:  # a bug or a storage fault must not cost the socket
                    log.exception("device message failed")
                    self._reject(conn, None, "internal error", text)
        except TooLarge as exc:
            reason = str(exc)
            self._reject(conn, None, reason, None)
        except Unavailable as exc:  # held past the bound: the device keeps its message
            reason = f"try again later: {exc.message}"
            log.warning("device socket ended: %s", reason)
            ws.close(TRY_AGAIN_LATER, "try again later")
        except ConnectionClosed as exc:
            reason = str(exc)
        finally:
            ws.close(1000, "bye")
            self._close(conn, reason)

    def _authenticate(self, ws: WebSocket, environ: dict[str, Any]) -> Connection:
        app_key = environ.get("HTTP_APPKEY", "")
        account = self.store.users.by_app_key(app_key) if app_key else None
        if account is None:
            raise Rejected("unknown app key")
        user, secret = account
        ids = [d.strip().lower() for d in environ.get("HTTP_DEVICEIDS", "").split(";") if d.strip()]
        if not ids or len(ids) > MAX_DEVICES_PER_CONNECTION:
            raise Rejected("deviceids header must name 1 to 256 devices")
        devices = {}
        for device_id in ids:
            device = self.store.devices.get(device_id) if DEVICE_ID.match(device_id) else None
            if device is None or device.user_id != user.id:
                raise Rejected(f"device {device_id[:24]} is not registered to this app key")
            if device.transport != "sinric":
                raise Rejected(
                    f"device {device_id} is reached over {device.transport}, not a socket"
                )
            devices[device_id] = device
        return Connection(
            ws=ws,
            user=user,
            secret=secret,
            devices=devices,
            platform=environ.get("HTTP_PLATFORM", "")[:32],
            sdk_version=environ.get("HTTP_SDKVERSION", "")[:32],
            remote=environ.get("REMOTE_ADDR", ""),
        )

    def _check_takeover(self, conn: Connection) -> None:
        """A live socket keeps its devices: a newcomer is refused while the old one answers.

        A device whose old socket is dead (a half-open TCP connection after a
        network change, a crashed board) takes its devices over at once: the
        old one fails to answer a ping within the grace.
        """
        if self.hub.answers(conn.devices, self.takeover_grace) or (
            self.bus.shared and self._held_elsewhere(conn)
        ):
            raise Rejected("device is connected on another live socket")

    def _held_elsewhere(self, conn: Connection) -> bool:
        """Whether another worker holds any of these devices on a socket that answers."""
        holders = {self.bus.holder(d) for d in conn.devices} - {None, self.bus.worker}
        ask = {"op": "alive", "transport": "sinric", "devices": list(conn.devices)}
        for worker in holders:
            try:
                answer = self.bus.call(
                    worker, {**ask, "grace": self.takeover_grace}, self.takeover_grace + 1.0
                )
            except (Unreachable, TimeoutError):
                continue
            if answer.get("alive"):
                return True
        return False

    def _open(self, conn: Connection) -> None:
        conn.ws.send(protocol.timestamp_message())
        already = {d for d in conn.devices if self.hub.online(d)}
        for old in self.hub.attach(conn):
            old.ws.close(1000, "replaced by a newer connection")
        for device_id in conn.devices.keys() - already:
            self.events.connectivity(conn.user, device_id, online=True)
        for device_id in conn.devices:
            self.store.messages.record(
                Entry(
                    "in",
                    "connection",
                    "online",
                    device_id,
                    conn.user.id,
                    detail=f"{conn.platform} {conn.sdk_version} from {conn.remote}".strip(),
                )
            )

    def _close(self, conn: Connection, reason: str) -> None:
        """The socket is gone: its devices are offline, told in the close's turn, so a
        fleet that drops at once is told over seconds while the webhooks keep their pace.
        A device back meanwhile (here or on another worker) said online already: no
        offline after it."""
        gone = self.hub.detach(conn)
        if not gone:
            return
        self.pace()
        for device_id in gone:
            if self._back(device_id):
                continue
            self.events.limiter.forget(device_id)
            self.events.connectivity(conn.user, device_id, online=False)
            self.store.messages.record(
                Entry("in", "connection", "offline", device_id, conn.user.id, detail=reason)
            )

    def _back(self, device_id: str) -> bool:
        if self.hub.online(device_id):
            return True
        if not self.bus.shared:
            return False
        try:
            return self.bus.holder(device_id) not in (None, self.bus.worker)
        except Unavailable:
            return False  # unknown: told offline (a later online corrects it)

    def on_message(self, conn: Connection, text: str) -> None:
        try:
            message = protocol.read(text, conn.secret)
            protocol.check_fresh(message, self.window)
        except protocol.ProtocolError as exc:
            self._reject(conn, None, str(exc), text)
            return
        device = conn.devices.get(message.device_id)
        if device is None:
            self._reject(conn, None, "device not on this connection", text)
        elif message.type == "response":
            if not self.hub.resolve(conn, message):
                self._unwanted(conn, device.id, message, text)
        elif message.type == "event":
            self._event(conn, device.id, message, text)
        else:
            self._reject(conn, device.id, "devices do not send requests", text)

    def _event(self, conn: Connection, device_id: str, message: protocol.Message, raw: str):
        """A signed event: each step that needs the store or the bus is held while that is
        away (the socket is not read meanwhile); past the bound the socket ends with 1013
        and the device keeps its event. Steps are held one by one: a guard that passed is
        not asked again."""
        current = when_available(lambda: self.store.devices.get(device_id))
        if current is None or current.user_id != conn.user.id:
            self._reject(conn, device_id, "device no longer registered", raw)
            return
        key = f"sinric:{device_id}:{message.replay_key}"
        stamped = protocol.created(message)
        if not when_available(lambda: self.bus.first_use(key, 2 * self.window, stamped=stamped)):
            self._reject(conn, device_id, "reused replyToken", raw)
            return
        when_available(lambda: self.events.handle(conn.user, current, _event(message)))

    def _unwanted(
        self, conn: Connection, device_id: str, message: protocol.Message, raw: str
    ) -> None:
        """A response nobody waits for: late (its journey hears how late) or replayed."""
        late = self.hub.waiters.late(message.reply_token, device_id)
        if late is None:
            self._reject(conn, device_id, "response nobody waits for (late or replayed)", raw)
            return
        self.store.messages.record(
            late_answer(
                device_id,
                conn.user.id,
                late.journey,
                late.after,
                late.waited,
                action=message.action,
                payload=raw,
            )
        )

    def _reject(
        self,
        conn: Connection | None,
        device_id: str | None,
        reason: str,
        raw: str | None,
        source: str | None = None,
    ) -> None:
        entry = rejection(device_id, conn.user.id if conn else None, reason, payload=raw)
        entry.source = source
        if self.store.messages.record(entry):  # an attacker's flood is sampled, not logged
            log.warning("dropped device message: %s", reason)


def _event(message: protocol.Message) -> DeviceEvent:
    """A verified Sinric event in the core's neutral terms."""
    cause = message.payload.cause
    return DeviceEvent(
        message.device_id,
        message.action,
        message.value,
        message.instance_id,
        cause.type if cause else "PHYSICAL_INTERACTION",
        message.text,
    )
