"""What XiaoDu (DuerOS) does with each device type (the coverage page is made from this).

Discovery lists the types `attributes.TYPES` names an appliance type for; the
rest have no appliance type in DuerOS's list (it has no sensors, alarms, garage
doors or buttons). Attributes reach DuerOS by the ChangeReport handshake. The
skill protocol documents no routine a device's change could start.
"""

from __future__ import annotations

from adapters.xiaodu.attributes import TYPES, profile
from bridge.plugin import coverage as cov

NO_TYPE = "DuerOS's appliance types have no {}"
NO_TRIGGER = cov.no("the DuerOS skill protocol documents no routines a device's change starts")
WHY_NOT = {
    "temperature_sensor": NO_TYPE.format("temperature sensor"),
    "contact_sensor": NO_TYPE.format("contact sensor"),
    "motion_sensor": NO_TYPE.format("motion sensor"),
    "energy_meter": NO_TYPE.format("energy meter"),
    "smoke_sensor": NO_TYPE.format("smoke alarm"),
    "co_sensor": NO_TYPE.format("carbon monoxide alarm"),
    "leak_sensor": NO_TYPE.format("water leak sensor"),
    "garage_door": NO_TYPE.format("garage door"),
    "gate": NO_TYPE.format("gate"),
    "button": NO_TYPE.format("button"),
}


def coverage(type_name: str) -> cov.Coverage | None:
    found = profile(type_name)
    if found is None:
        return cov.unlisted(type_name, WHY_NOT)
    attributes = ", ".join(a.name for a in found.attributes)
    return cov.fitted(
        type_name,
        cov.yes(TYPES[type_name]),
        cov.yes(", ".join(a for a in found.actions if not a.startswith("get"))),
        cov.yes(f"ChangeReport ({attributes})") if attributes else cov.no("no attribute"),
        NO_TRIGGER,
    )
