"""Virtual devices: apply commands to their own state, answer, emit events."""

from __future__ import annotations

import json
import random
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bridge import catalog
from bridge.client import DeviceClient, Refused
from bridge.model import BridgeError, Device
from bridge.store import Store

ADJUST = {
    "adjustBrightness": ("brightness", "brightnessDelta", "brightness"),
    "adjustRangeValue": ("rangeValue", "rangeValueDelta", "rangeValue"),
    "adjustTargetTemperature": ("targetTemperature", "temperature", "temperature"),
    "increaseColorTemperature": ("colorTemperature", None, "colorTemperature"),
    "decreaseColorTemperature": ("colorTemperature", None, "colorTemperature"),
}
COLOR_TEMPERATURE_STEP = 500


class VirtualDevice:
    """One device's state, changed only the way the catalog allows."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.type = catalog.TYPES[device.type]
        self.state: dict[str, Any] = {}
        self.lock = threading.Lock()
        self.metered_at = 0  # when a meter last read (its next reading's `startTime`)

    def apply(self, action: str, value: dict[str, Any], instance: str | None) -> dict[str, Any]:
        cap = self.type.capability_for(action, instance)
        if cap is None or cap.action(action) is None:
            raise Refused(f'Device did not handle "{action}"')
        try:
            cap.action(action).check(value)  # type: ignore[union-attr]
        except catalog.InvalidCommand as exc:
            raise Refused(exc.message) from None
        with self.lock:
            new = self._adjusted(action, value, cap) if action in ADJUST else dict(value)
            self.state.update(catalog.state_from(self.device.type, action, new, instance))
        return new

    def _adjusted(self, action: str, value: dict, cap: catalog.Capability) -> dict[str, Any]:
        prop, delta_key, out_key = ADJUST[action]
        lo, hi = cap.range or (0, 100)
        current = self.state.get(prop, lo)
        if delta_key is None:
            step = COLOR_TEMPERATURE_STEP
            delta = step if action.startswith("increase") else -step
        else:
            delta = value.get(delta_key, 0)
        return {out_key: max(lo, min(hi, current + delta))}

    def random_event(self) -> tuple[str, dict[str, Any], str | None, str] | None:
        """(action, value, instance, cause) of a plausible physical change."""
        names = {c.name: c for c in self.type.capabilities}
        if "powerState" in names:
            state = "Off" if self.state.get("powerState") == "On" else "On"
            self.state["powerState"] = state
            return "setPowerState", {"state": state}, None, "PHYSICAL_INTERACTION"
        if "currentTemperature" in names:
            value = {"temperature": round(random.uniform(18, 24), 1), "humidity": -1}
            return "currentTemperature", value, None, "PERIODIC_POLL"
        if "contactState" in names:
            return "setContactState", {"state": random.choice(["open", "closed"])}, None, "ALERT"
        if "motion" in names:
            return "motion", {"state": random.choice(["detected", "notDetected"])}, None, "ALERT"
        if "doorbell" in names:
            return "DoorbellPress", {"state": "pressed"}, None, "ALERT"
        if "powerUsage" in names:
            return "powerUsage", self._metered(), None, "PERIODIC_POLL"
        for alarm in catalog.ALARMS:
            if alarm in names:
                event = names[alarm].events[0]
                return event, {"state": random.choice(catalog.ALARM)}, None, "ALERT"
        if "smartButton" in names:
            press = random.choice(catalog.BUTTON_PRESSES)
            return "setSmartButtonState", {"state": press}, None, "PHYSICAL_INTERACTION"
        if "mode" in names and names["mode"].instance is None:  # a garage door or a gate
            moved = "Close" if self.state.get("mode") == "Open" else "Open"
            self.state["mode"] = moved
            return "setMode", {"mode": moved}, None, "PHYSICAL_INTERACTION"
        return None

    def _metered(self) -> dict[str, Any]:
        """A reading as Sinric's PowerSensor sends it: the power now, and the energy used
        since the last reading at the power then (`wattHours` covers `startTime` to now)."""
        now = int(time.time())
        start = self.metered_at or now
        before = float(self.state.get("power", 0.0))
        power = round(random.uniform(40, 2000), 1)
        self.metered_at, self.state["power"] = now, power
        hours = (now - start) / 3600
        return {"startTime": start, "power": power, "wattHours": round(before * hours, 3)}


def attach(
    client: DeviceClient, devices: list[Device], delay: float = 0.0
) -> dict[str, VirtualDevice]:
    """Register handlers on a client for every action of the given devices."""
    virtual = {d.id: VirtualDevice(d) for d in devices}

    def handle(device_id: str, value: dict[str, Any], instance: str | None, action: str) -> dict:
        if delay:
            time.sleep(delay)
        return virtual[device_id].apply(action, value, instance)

    actions = {
        a.name for d in devices for c in catalog.TYPES[d.type].capabilities for a in c.actions
    }
    for action in actions:
        client.on(action, lambda d, v, i, a=action: handle(d, v, i, a))
    return virtual


def run(
    url: str,
    app_key: str,
    app_secret: str,
    devices: list[Device],
    *,
    delay: float = 0.0,
    event_every: float = 0.0,
    say: Callable[[str], None] = lambda line: print(line, flush=True),
) -> None:
    """Serve until interrupted, saying one line per connection change, command and event."""
    client = DeviceClient(url, app_key, app_secret, [d.id for d in devices], platform="simulator")
    virtual = attach(client, devices, delay)
    names = {d.id: d.name for d in devices}
    for action, handler in list(client.handlers.items()):
        client.handlers[action] = _told(handler, action, names, say)
    client.start()
    online = False
    said: str | None = None
    next_event = time.monotonic() + event_every
    try:
        while True:
            if online:
                time.sleep(0.2)
            else:  # said at once: a command may follow the connection within milliseconds
                client.connected.wait(0.2)
            if client.connected.is_set() != online:
                online = not online
                say(f"{'connected' if online else 'disconnected'}: {len(devices)} devices")
                said = None
            if not online and client.ended and client.ended[1] != said:
                said = client.ended[1]
                say(f"not connected: {said}{_hint(said)}; trying again")
            if event_every and online and time.monotonic() >= next_event:
                next_event = time.monotonic() + event_every
                device = random.choice(list(virtual.values()))
                event = device.random_event()
                if event:
                    action, value, instance, cause = event
                    client.send_event(
                        device.device.id, action, value, cause=cause, instance_id=instance
                    )
                    say(f"event   {device.device.name}: {action} {json.dumps(value)}")
    except KeyboardInterrupt:
        pass
    finally:
        client.stop()


def _state_teller(name: str, say: Callable[[str], None]) -> Callable[[bool, str], None]:
    """Say a thing's connection changes, each reason once (a broker that is away is
    tried again and again: one line, not one a retry)."""
    last: list[str] = []

    def tell(connected: bool, why: str) -> None:
        line = f"thing {name} connected" if connected else f"thing {name} not connected: {why}"
        if last != [line]:
            last[:] = [line]
            say(line)

    return tell


def _hint(why: str) -> str:
    """What a person can do about a refusal they are likely to meet."""
    if "another live socket" in why:
        return " (is another `bridge simulate` of this account running? stop it first)"
    if "Connection refused" in why:
        return " (is the server running? `make run`, or set BRIDGE_URL)"
    return ""


def _told(handler: Callable, action: str, names: dict[str, str], say: Callable[[str], None]):
    def told(device_id: str, value: dict, instance: str | None) -> Any:
        say(f"command {names.get(device_id, device_id)}: {action} {json.dumps(value)}")
        return handler(device_id, value, instance)

    return told


def run_things(
    broker_url: str,
    archive: Path,
    store: Store,
    *,
    say: Callable[[str], None] = lambda line: print(line, flush=True),
) -> Callable[[], None]:
    """Start the things of a batch zip as virtual devices; return what stops them.

    Each applies a delta the way its catalog type allows and reports it.
    """
    from bridge.thing_client import Refused as ThingRefused
    from bridge.thing_client import ThingClient, unpack

    url = urlsplit(broker_url)
    folder = Path(tempfile.mkdtemp(prefix="things-"))
    clients = []
    for creds in unpack(archive, folder):
        device = store.devices.get(creds.thing)
        if device is None:
            say(f"skipped {creds.thing}: not a device here")
            continue

        def handler(delta: dict[str, Any], device: Device = device) -> dict[str, Any]:
            for action, value, instance in catalog.events_from(device.type, delta):
                try:
                    catalog.validate(device.type, action, value, instance)
                except BridgeError as exc:
                    raise ThingRefused(exc.message) from None
            say(f"{device.name}: {delta}")
            return dict(delta)

        client = ThingClient(url.hostname or "127.0.0.1", url.port or 8883, creds, handler)
        client.on_state = _state_teller(device.name, say)
        say(f"thing {device.name} ({creds.thing}) connecting to {url.hostname}:{url.port}")
        clients.append(client.start())

    def stop() -> None:
        for client in clients:
            client.stop()

    return stop
