"""What Alexa does with each device type (the coverage page is made from this).

Discovery lists a type only when `discovered` is supported here; the
interfaces themselves come from `capabilities`. Alexa starts routines on
contact sensors, motion sensors and doorbell presses: those interfaces are the
ones with routine triggers, and announcements for the doorbell.
"""

from __future__ import annotations

from bridge.plugin import coverage as cov

Coverage, NONE, absent, no, yes = cov.Coverage, cov.NONE, cov.absent, cov.no, cov.yes

NOT_A_TRIGGER = no(
    "not among the interfaces Amazon documents as routine triggers (contact, motion, doorbell)"
)
NO_INTERFACE = "Amazon's Smart Home message schema has no {} interface"


def _controlled(interfaces: str) -> Coverage:
    return Coverage(
        yes(interfaces), yes(interfaces), yes(f"ChangeReport ({interfaces})"), NOT_A_TRIGGER
    )


def _sensor(interface: str, trigger: bool) -> Coverage:
    heard = yes(f"ChangeReport ({interface})")
    return Coverage(
        yes(interface),
        NONE,
        heard,
        yes(f"routine trigger ({interface})") if trigger else NOT_A_TRIGGER,
    )


THERMOSTAT = "PowerController, ThermostatController, TemperatureSensor"
DOOR = "ModeController GarageDoor.Position (Up, Down), voice PIN for opening"
ENERGY_MISSING = no(
    "the power and energy readings are not sent: Alexa.DeviceUsage.Meter is not in"
    " Amazon's published message schema the bridge is checked against"
)

TABLE: dict[str, Coverage] = {
    "light": _controlled(
        "PowerController, BrightnessController, ColorController, ColorTemperatureController"
    ),
    "dimmer": _controlled("PowerController, BrightnessController"),
    "switch": _controlled("PowerController"),
    "plug": Coverage(
        yes("PowerController"),
        yes("PowerController"),
        yes(
            "ChangeReport (PowerController);"
            " power and energy not sent (Alexa.DeviceUsage.Meter is not in Amazon's published"
            " schema)"
        ),
        NOT_A_TRIGGER,
    ),
    "energy_meter": Coverage(ENERGY_MISSING, NONE, ENERGY_MISSING, ENERGY_MISSING),
    "thermostat": _controlled(THERMOSTAT),
    "air_conditioner": _controlled(f"{THERMOSTAT}, RangeController Fan.Speed"),
    "lock": _controlled("LockController (unlocking asks for the voice PIN)"),
    "blinds": _controlled("RangeController Blind.Lift, ModeController Blind.Movement"),
    "fan": _controlled("PowerController, RangeController Fan.Speed, PercentageController"),
    "temperature_sensor": _sensor("TemperatureSensor", trigger=False),
    "contact_sensor": _sensor("ContactSensor", trigger=True),
    "motion_sensor": _sensor("MotionSensor", trigger=True),
    "doorbell": _sensor("DoorbellEventSource", trigger=True),
    "smoke_sensor": absent("smoke_sensor", NO_INTERFACE.format("smoke alarm")),
    "co_sensor": absent("co_sensor", NO_INTERFACE.format("carbon monoxide alarm")),
    "leak_sensor": absent("leak_sensor", NO_INTERFACE.format("water leak")),
    "garage_door": _controlled(DOOR),
    "gate": _controlled(DOOR),
    "button": absent("button", NO_INTERFACE.format("button press")),
    "scene": Coverage(
        yes("SceneController"), yes("SceneController Activate, Deactivate"), NONE, NONE
    ),
}


def coverage(type_name: str) -> cov.Coverage | None:
    return TABLE.get(type_name)


def listed(type_name: str) -> bool:
    found = TABLE.get(type_name)
    return found is not None and found.discovered.supported
