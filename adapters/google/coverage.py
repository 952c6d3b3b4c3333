"""What Google Home does with each device type (the coverage page is made from this).

SYNC lists the types `traits.SHAPES` has a shape for, and those are the ones
marked discovered here (a test holds the two together). Google Home's
automations start on the reported state of a device's traits, so a type whose
state reaches Google can start them.
"""

from __future__ import annotations

from bridge.plugin import coverage as cov

Coverage, NONE, absent, no, yes = cov.Coverage, cov.NONE, cov.absent, cov.no, cov.yes


def _controlled(traits: str) -> Coverage:
    return Coverage(
        yes(traits),
        yes(traits),
        yes(f"Report State ({traits})"),
        yes(f"automation starter ({traits} state)"),
    )


def _sensor(traits: str) -> Coverage:
    return Coverage(
        yes(traits), NONE, yes(f"Report State ({traits})"), yes(f"automation starter ({traits})")
    )


NO_METER = "Google's smart-home traits have no power or energy reading"
DOOR = "OpenClose (opening asks for a confirmation or the PIN)"

TABLE: dict[str, Coverage] = {
    "light": _controlled("LIGHT: OnOff, Brightness, ColorSetting"),
    "dimmer": _controlled("SWITCH: OnOff, Brightness"),
    "switch": _controlled("SWITCH: OnOff"),
    "plug": Coverage(
        yes("OUTLET: OnOff"),
        yes("OnOff"),
        yes(f"Report State (OnOff); power and energy not sent: {NO_METER}"),
        yes("automation starter (OnOff state)"),
    ),
    "energy_meter": absent("energy_meter", NO_METER),
    "thermostat": _controlled("THERMOSTAT: TemperatureSetting"),
    "air_conditioner": _controlled("AC_UNIT: OnOff, TemperatureSetting, FanSpeed"),
    "lock": _controlled("LOCK: LockUnlock (unlocking asks for a confirmation or the PIN)"),
    "blinds": _controlled("BLINDS: OpenClose"),
    "fan": _controlled("FAN: OnOff, FanSpeed (named speeds and percent)"),
    "temperature_sensor": _sensor("SENSOR: TemperatureControl, HumiditySetting"),
    "contact_sensor": _sensor("SENSOR: OpenClose"),
    "motion_sensor": _sensor("SENSOR: OccupancySensing"),
    "doorbell": Coverage(
        yes("DOORBELL: ObjectDetection"),
        NONE,
        yes("ObjectDetection notification"),
        yes("the notification (chime and announcement)"),
    ),
    "smoke_sensor": _sensor("SMOKE_DETECTOR: SensorState SmokeLevel"),
    "co_sensor": _sensor("CARBON_MONOXIDE_DETECTOR: SensorState CarbonMonoxideLevel"),
    "leak_sensor": _sensor("SENSOR: SensorState WaterLeak"),
    "garage_door": _controlled(f"GARAGE: {DOOR}"),
    "gate": _controlled(f"GATE: {DOOR}"),
    "button": absent("button", "Google's smart-home traits have no button press"),
    "scene": Coverage(yes("SCENE: Scene"), yes("Scene (activate, deactivate)"), NONE, NONE),
}


def coverage(type_name: str) -> cov.Coverage | None:
    return TABLE.get(type_name)
