"""Device types and their capabilities, in the device protocol's vocabulary.

The catalog is the single source of what a device can do: adapters build
discovery from it, the core validates commands with it, and the shadow
learns which response fields are state from it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.model import BridgeError, InvalidCommand, Unsupported


@dataclass(frozen=True)
class Field:
    """One key of an action's `value`, with the range or choices it accepts."""

    name: str
    kind: str = "int"  # int | number | choice | rgb
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = True
    unknown: float | None = None
    """What a device sends for "not measured" (Sinric's -1 humidity): not state, not wrong."""

    def check(self, value: Mapping[str, Any]) -> None:
        if self.name not in value:
            if self.required:
                raise InvalidCommand(f"value.{self.name} is required")
            return
        v = value[self.name]
        if self.kind == "choice":
            if v not in self.choices:
                raise InvalidCommand(f"value.{self.name} must be one of {', '.join(self.choices)}")
        elif self.kind == "rgb":
            if not isinstance(v, dict) or set(v) != {"r", "g", "b"}:
                raise InvalidCommand(f"value.{self.name} must be an object with r, g and b")
            for part in ("r", "g", "b"):
                _number(f"{self.name}.{part}", v[part], 0, 255, integer=True)
        else:
            _number(self.name, v, self.minimum, self.maximum, integer=self.kind == "int")


def _number(name: str, v: Any, lo: float | None, hi: float | None, *, integer: bool) -> None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise InvalidCommand(f"value.{name} must be a number")
    if integer and v != int(v):
        raise InvalidCommand(f"value.{name} must be a whole number")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise InvalidCommand(f"value.{name} must be between {lo:g} and {hi:g}", (lo, hi))


Step = Callable[[float, Mapping[str, Any], tuple[float, float]], float]
"""(current value, the relative command's value, the capability's range) -> the new value."""


@dataclass(frozen=True)
class Absolute:
    """The absolute sibling of a relative action, for when the shadow knows the current value.

    Many devices implement only the absolute setter (an official device SDK
    refuses increase/decreaseColorTemperature, and adjustBrightness
    unless firmware registers its own handler); the bridge knows the state.
    """

    action: str
    prop: str
    """The shadow property read, also the absolute action's value key."""
    step: Step
    start: Callable[[tuple[float, float]], float] | None = None
    """Where to count from when the shadow knows no value (given the range); None: the
    relative command goes to the device as asked."""
    from_off: bool = False
    """A device whose power is off counts from 0, as a dimmer does: a step above 0 sets
    the level and switches it on; a step that ends at 0 leaves it off, as it is."""


@dataclass(frozen=True)
class Rewrite:
    """What the core sends for a relative command it can make absolute."""

    action: str | None
    """None: nothing to send (an off light dimmed down stays off, its level kept)."""
    value: dict[str, Any]
    then: tuple[str, dict[str, Any]] | None = None
    """A second command once the first is answered (switching a dimmed-up light on)."""


POWER_ON = ("setPowerState", {"state": "On"})


@dataclass(frozen=True)
class Action:
    name: str
    fields: tuple[Field, ...] = ()
    absolute: Absolute | None = None

    def check(self, value: Mapping[str, Any]) -> None:
        for f in self.fields:
            f.check(value)


@dataclass(frozen=True)
class Capability:
    """A thing a device can do or report, as the device protocol names it.

    `state` maps shadow property names to the `value` key that carries them in
    a response or event. `sensor` puts the capability's events in the slow
    (sensor value) rate class.
    """

    name: str
    actions: tuple[Action, ...] = ()
    events: tuple[str, ...] = ()
    state: Mapping[str, str] = field(default_factory=dict)
    instance: str | None = None
    sensor: bool = False
    range: tuple[float, float] | None = None
    modes: tuple[str, ...] = ()
    reported: tuple[Field, ...] = ()
    """What a device may say for each `state` value key: checked before the shadow."""

    def action(self, name: str) -> Action | None:
        return _actions(self).get(name)

    @property
    def key(self) -> str:
        """One capability of a device (with its instance): what limits and queues count by."""
        return f"{self.name}:{self.instance or ''}"

    def named_state(self) -> dict[str, str]:
        """`state` by shadow name (`prop`, or `prop:instance`) to the value key."""
        return {shadow_name(p, self.instance): key for p, key in self.state.items()}

    def handles(self, action: str, instance: str | None) -> bool:
        names = {a.name for a in self.actions} | set(self.events)
        return action in names and (instance or None) == self.instance

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "actions": [a.name for a in self.actions],
            "events": list(self.events),
            "properties": list(self.state),
        }
        if self.instance:
            out["instance"] = self.instance
        if self.range:
            out["range"] = {"minimum": self.range[0], "maximum": self.range[1]}
        if self.modes:
            out["modes"] = list(self.modes)
        return out


def shadow_name(prop: str, instance: str | None) -> str:
    """A property's name in the shadow: `prop`, or `prop:instance` for an instance's."""
    return f"{prop}:{instance}" if instance else prop


ON_OFF = Field("state", "choice", choices=("On", "Off"))


def power() -> Capability:
    return Capability(
        "powerState",
        (Action("setPowerState", (Field("state", "choice", choices=("On", "Off")),)),),
        events=("setPowerState",),
        state={"powerState": "state"},
        reported=(ON_OFF,),
    )


def _clamped(lo: float, hi: float, value: float) -> int:
    return round(min(hi, max(lo, value)))


def _by_delta(key: str) -> Step:
    return lambda current, value, bounds: _clamped(*bounds, current + value[key])


KELVIN_STEPS = (2200, 2700, 4000, 5500, 7000)
"""The white tones voice platforms name, warm to cool (their documented table of kelvins)."""


def _kelvin_step(cooler: bool) -> Step:
    """The next named tone up (cooler) or down (warmer) within the light's range."""

    def step(current: float, value: Mapping[str, Any], bounds: tuple[float, float]) -> float:
        lo, hi = bounds
        tones = [k for k in KELVIN_STEPS if lo <= k <= hi]
        if cooler:
            return next((k for k in tones if k > current), hi)
        return next((k for k in reversed(tones) if k < current), lo)

    return step


def _middle(bounds: tuple[float, float]) -> float:
    """A white light that has not said its tone is taken to be in the middle of its range
    (4600 K on 2200-7000 K): "warmer" then gives 4000 K, "cooler" 5500 K."""
    return (bounds[0] + bounds[1]) / 2


def brightness() -> Capability:
    return Capability(
        "brightness",
        (
            Action("setBrightness", (Field("brightness", minimum=0, maximum=100),)),
            Action(
                "adjustBrightness",
                (Field("brightnessDelta", minimum=-100, maximum=100),),
                Absolute(
                    "setBrightness", "brightness", _by_delta("brightnessDelta"), from_off=True
                ),
            ),
        ),
        events=("setBrightness",),
        state={"brightness": "brightness"},
        range=(0, 100),
        reported=(Field("brightness", minimum=0, maximum=100),),
    )


def color() -> Capability:
    return Capability(
        "color",
        (Action("setColor", (Field("color", "rgb"),)),),
        events=("setColor",),
        state={"color": "color"},
        reported=(Field("color", "rgb"),),
    )


def color_temperature(lo: int = 2200, hi: int = 7000) -> Capability:
    value = Field("colorTemperature", minimum=lo, maximum=hi)
    delta = Field("colorTemperature", required=False)
    return Capability(
        "colorTemperature",
        (
            Action("setColorTemperature", (value,)),
            Action(
                "increaseColorTemperature",
                (delta,),
                Absolute(
                    "setColorTemperature",
                    "colorTemperature",
                    _kelvin_step(cooler=True),
                    start=_middle,
                ),
            ),
            Action(
                "decreaseColorTemperature",
                (delta,),
                Absolute(
                    "setColorTemperature",
                    "colorTemperature",
                    _kelvin_step(cooler=False),
                    start=_middle,
                ),
            ),
        ),
        events=("setColorTemperature",),
        state={"colorTemperature": "colorTemperature"},
        range=(lo, hi),
        reported=(value,),
    )


def target_temperature(lo: float, hi: float) -> Capability:
    return Capability(
        "targetTemperature",
        (
            Action("targetTemperature", (Field("temperature", "number", lo, hi),)),
            Action("adjustTargetTemperature", (Field("temperature", "number", -50, 50),)),
        ),
        events=("targetTemperature",),
        state={"targetTemperature": "temperature"},
        range=(lo, hi),
        reported=(Field("temperature", "number", lo, hi),),
    )


def thermostat_mode(modes: tuple[str, ...]) -> Capability:
    return Capability(
        "thermostatMode",
        (Action("setThermostatMode", (Field("thermostatMode", "choice", choices=modes),)),),
        events=("setThermostatMode",),
        state={"thermostatMode": "thermostatMode"},
        modes=modes,
        reported=(Field("thermostatMode", "choice", choices=modes),),
    )


def current_temperature() -> Capability:
    return Capability(
        "currentTemperature",
        events=("currentTemperature",),
        state={"temperature": "temperature", "humidity": "humidity"},
        sensor=True,
        reported=(
            Field("temperature", "number", -100, 150, required=False),
            Field("humidity", "number", 0, 100, required=False, unknown=-1),
        ),
    )


def lock() -> Capability:
    return Capability(
        "lockState",
        (Action("setLockState", (Field("state", "choice", choices=("LOCKED", "UNLOCKED")),)),),
        events=("setLockState",),
        state={"lockState": "state"},
        reported=(Field("state", "choice", choices=("LOCKED", "UNLOCKED", "JAMMED")),),
    )


def range_value(instance: str, lo: int, hi: int) -> Capability:
    return Capability(
        "rangeValue",
        (
            Action("setRangeValue", (Field("rangeValue", minimum=lo, maximum=hi),)),
            Action(
                "adjustRangeValue", (Field("rangeValueDelta", minimum=lo - hi, maximum=hi - lo),)
            ),
        ),
        events=("setRangeValue",),
        state={"rangeValue": "rangeValue"},
        instance=instance,
        range=(lo, hi),
        reported=(Field("rangeValue", minimum=lo, maximum=hi),),
    )


def mode(instance: str | None, modes: tuple[str, ...]) -> Capability:
    """A named setting; a door's (Sinric's DoorController) has no instance."""
    return Capability(
        "mode",
        (Action("setMode", (Field("mode", "choice", choices=modes),)),),
        events=("setMode",),
        state={"mode": "mode"},
        instance=instance,
        modes=modes,
        reported=(Field("mode", "choice", choices=modes),),
    )


def sensor_state(name: str, event: str, prop: str, states: tuple[str, ...]) -> Capability:
    return Capability(
        name,
        events=(event,),
        state={prop: "state"},
        reported=(Field("state", "choice", choices=states),),
    )


def percentage() -> Capability:
    """A level in percent (a fan's speed, as people say "set the fan to 40%")."""
    level = Field("percentage", minimum=0, maximum=100)
    return Capability(
        "percentage",
        (
            Action("setPercentage", (level,)),
            Action(  # Sinric's adjustPercentage carries its delta as `percentage`
                "adjustPercentage",
                (Field("percentage", minimum=-100, maximum=100),),
                Absolute("setPercentage", "percentage", _by_delta("percentage"), from_off=True),
            ),
        ),
        events=("setPercentage",),
        state={"percentage": "percentage"},
        range=(0, 100),
        reported=(level,),
    )


METERED = "powerUsage"
"""The capability whose events are meter readings (kept as a series, `store.readings`)."""


def power_usage() -> Capability:
    """What a meter or a plug measures, in Sinric's PowerSensor `powerUsage` event: power
    now (W) and the energy used since `startTime`, the previous event (`wattHours`: an
    interval, not a running total). The history keeps the series; sums come from it."""
    return Capability(
        METERED,
        events=(METERED,),
        state={"power": "power", "wattHours": "wattHours"},
        sensor=True,
        reported=(
            Field("power", "number", -1_000_000, 1_000_000, required=False),
            Field("wattHours", "number", 0, 1e9, required=False),
            Field("startTime", "number", 0, 1e11, required=False),
        ),
    )


ALARM = ("detected", "clear")
"""What a safety sensor says: an alarm state, never a reading."""


def alarm(name: str) -> Capability:
    """A smoke, carbon monoxide or leak sensor's state (event `set<Name>`, value `state`)."""
    return sensor_state(name, _alarm_event(name), name, ALARM)


def _alarm_event(name: str) -> str:
    return "set" + name[0].upper() + name[1:]


ALARMS = ("smokeState", "carbonMonoxideState", "leakState")
ALARM_EVENTS = frozenset(_alarm_event(n) for n in ALARMS)


def raises_alarm(event: str, value: Mapping[str, Any]) -> bool:
    """Whether an event is an alarm going off: a change no later one may stand in for (a
    smoke alarm that cleared a second later must still have been heard going off)."""
    return event in ALARM_EVENTS and value.get("state") == ALARM[0]


BUTTON_PRESSES = ("singlePress", "doublePress", "longPress")


def button() -> Capability:
    """Presses, as Sinric's SmartButton sends them: events to start routines, no state."""
    return Capability(
        "smartButton",
        events=("setSmartButtonState",),
        reported=(Field("state", "choice", choices=BUTTON_PRESSES),),
    )


DOOR_MOVES = ("Open", "Close", "Stop")


def door() -> tuple[Capability, ...]:
    """A garage door or a gate: moved by `setMode` as Sinric's GarageDoor is (no instance),
    and where it is, 0 (closed) to 100 (open), when its controller knows."""
    return (mode(None, DOOR_MOVES), range_value("Door.Position", 0, 100))


def scene() -> Capability:
    """A scene runs on "On" (activate) and may be undone on "Off"; it keeps no state."""
    return Capability(
        "scene",
        (Action("setPowerState", (Field("state", "choice", choices=("On", "Off")),)),),
    )


THERMOSTAT_MODES = ("AUTO", "COOL", "HEAT", "ECO", "OFF")


@dataclass(frozen=True)
class DeviceType:
    name: str
    label: str
    capabilities: tuple[Capability, ...]

    def capability_for(self, action: str, instance: str | None) -> Capability | None:
        """Looked up on every command and event: an index built once, never grown by callers."""
        return _INDEX.get((self.name, action, instance or None))

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.capabilities]


@functools.cache
def _actions_by_id(capability_id: int, actions: tuple[Action, ...]) -> dict[str, Action]:
    return {a.name: a for a in actions}


def _actions(cap: Capability) -> dict[str, Action]:
    """A capability's actions by name (capabilities are fixed, so this is remembered)."""
    return _actions_by_id(id(cap), cap.actions)


TYPES: dict[str, DeviceType] = {
    t.name: t
    for t in (
        DeviceType("light", "Light", (power(), brightness(), color(), color_temperature())),
        DeviceType("dimmer", "Dimmable switch", (power(), brightness())),
        DeviceType("switch", "Switch", (power(),)),
        DeviceType("plug", "Smart plug", (power(), power_usage())),
        DeviceType("energy_meter", "Energy meter", (power_usage(),)),
        DeviceType(
            "thermostat",
            "Thermostat",
            (
                power(),
                target_temperature(5, 35),
                thermostat_mode(THERMOSTAT_MODES),
                current_temperature(),
            ),
        ),
        DeviceType(
            "air_conditioner",
            "Air conditioner",
            (
                power(),
                target_temperature(16, 30),
                thermostat_mode(("AUTO", "COOL", "HEAT", "ECO")),
                current_temperature(),
                range_value("Fan.Speed", 1, 5),
            ),
        ),
        DeviceType("lock", "Lock", (lock(),)),
        DeviceType(
            "blinds",
            "Blinds",
            (range_value("Blind.Lift", 0, 100), mode("Blind.Movement", ("Open", "Close", "Stop"))),
        ),
        DeviceType("fan", "Fan", (power(), range_value("Fan.Speed", 1, 5), percentage())),
        DeviceType("temperature_sensor", "Temperature sensor", (current_temperature(),)),
        DeviceType(
            "contact_sensor",
            "Contact sensor",
            (sensor_state("contactState", "setContactState", "contactState", ("open", "closed")),),
        ),
        DeviceType(
            "motion_sensor",
            "Motion sensor",
            (sensor_state("motion", "motion", "motion", ("detected", "notDetected")),),
        ),
        DeviceType("doorbell", "Doorbell", (Capability("doorbell", events=("DoorbellPress",)),)),
        DeviceType("smoke_sensor", "Smoke sensor", (alarm(ALARMS[0]),)),
        DeviceType("co_sensor", "Carbon monoxide sensor", (alarm(ALARMS[1]),)),
        DeviceType("leak_sensor", "Water leak sensor", (alarm(ALARMS[2]),)),
        DeviceType("garage_door", "Garage door", door()),
        DeviceType("gate", "Gate", door()),
        DeviceType("button", "Button", (button(),)),
        DeviceType("scene", "Scene", (scene(),)),
    )
}


_INDEX: dict[tuple[str, str, str | None], Capability] = {}
for _type in TYPES.values():
    for _cap in _type.capabilities:
        for _name in [a.name for a in _cap.actions] + list(_cap.events):
            _INDEX.setdefault((_type.name, _name, _cap.instance), _cap)


def device_type(name: str) -> DeviceType:
    try:
        return TYPES[name]
    except KeyError:
        raise InvalidCommand(
            f"unknown device type {name!r}; known: {', '.join(sorted(TYPES))}"
        ) from None


def validate(type_name: str, action: str, value: Any, instance: str | None) -> Capability:
    """Check a command against the device's capabilities; return the capability."""
    if not isinstance(value, dict):
        raise InvalidCommand("value must be a JSON object")
    cap = device_type(type_name).capability_for(action, instance)
    spec = cap.action(action) if cap else None
    if cap is None or spec is None:
        where = f" (instance {instance})" if instance else ""
        instances = sorted(
            c.instance
            for c in device_type(type_name).capabilities
            if c.instance and c.action(action) is not None
        )
        hint = f"; it takes an instance: {', '.join(instances)}" if instances else ""
        raise Unsupported(f"a {type_name} does not support {action}{where}{hint}")
    spec.check(value)
    return cap


def absolute(
    type_name: str,
    action: str,
    value: Mapping[str, Any],
    instance: str | None,
    shadow: Callable[[], Mapping[str, Any]],
) -> Rewrite | None:
    """The absolute command for a relative one, counted from what the shadow holds.

    None when the action is not relative, or when the shadow does not know the
    value and the capability names no starting point: the relative command then
    goes to the device as asked. `shadow` is called only for a relative action
    (the values, by shadow name).
    """
    kind = TYPES.get(type_name)
    cap = kind.capability_for(action, instance) if kind else None
    spec = cap.action(action) if cap else None
    if kind is None or cap is None or spec is None or spec.absolute is None or cap.range is None:
        return None
    rule = spec.absolute
    values = shadow()
    current = values.get(shadow_name(rule.prop, instance))
    switched = kind.capability_for(POWER_ON[0], None) is not None
    off = rule.from_off and switched and values.get("powerState") == "Off"
    if off:
        current = cap.range[0]
    elif isinstance(current, bool) or not isinstance(current, int | float):
        if rule.start is None:
            return None
        current = rule.start(cap.range)
    level = rule.step(current, value, cap.range)
    if not off:
        return Rewrite(rule.action, {rule.prop: level})
    if level <= cap.range[0]:
        return Rewrite(None, {})
    return Rewrite(rule.action, {rule.prop: level}, then=POWER_ON)


def shadow_names(instance: str | None, props: Mapping) -> dict:
    """A command's state by shadow name (`prop`, or `prop:instance`): what a thing is asked."""
    return {shadow_name(p, instance): v for p, v in props.items()}


def value_from(type_name: str, action: str, instance: str | None, named: Mapping) -> dict:
    """The action's value as a device would answer it, from state by shadow name."""
    cap = TYPES[type_name].capability_for(action, instance) if type_name in TYPES else None
    if cap is None:
        return {}
    return {key: named[n] for n, key in cap.named_state().items() if n in named}


def events_from(type_name: str, named: Mapping[str, Any]) -> list[tuple[str, dict, str | None]]:
    """State by shadow name as the events a device would send: (action, value, instance)."""
    out = []
    for cap in TYPES[type_name].capabilities if type_name in TYPES else ():
        if not cap.events:
            continue
        value = {key: named[n] for n, key in cap.named_state().items() if n in named}
        if value:
            out.append((cap.events[0], value, cap.instance))
    return out


class InvalidState(BridgeError):
    """A device said a value that does not fit its capability: recorded, never shadow state."""

    code = "invalid_value"


def state_from(type_name: str, action: str, value: Any, instance: str | None) -> dict[str, Any]:
    """The shadow properties a response or event value carries, each checked.

    Raises InvalidState when a value the capability keeps as state does not
    fit it (a colour that is a word, a brightness that is a list): one bad
    device must not poison what every platform reads back.
    """
    cap = TYPES[type_name].capability_for(action, instance) if type_name in TYPES else None
    if cap is None or not isinstance(value, dict):
        return {}
    unknown = set()
    for spec in cap.reported:
        if spec.name in value:
            if spec.unknown is not None and value[spec.name] == spec.unknown:
                unknown.add(spec.name)
                continue
            try:
                spec.check(value)
            except InvalidCommand as exc:
                raise InvalidState(f"{action}: {exc.message}") from None
    return {
        prop: value[key] for prop, key in cap.state.items() if key in value and key not in unknown
    }
