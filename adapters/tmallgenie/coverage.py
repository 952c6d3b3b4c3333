"""What Tmall Genie (AliGenie) does with each device type (the coverage page is made
from this).

Discovery lists the types `profiles.TYPES` names a device type for; properties
reach it by the cloud device report. Its scenes and automations are made in its
app; the skill protocol documents no starter a skill's device could offer.
"""

from __future__ import annotations

from adapters.tmallgenie.profiles import TYPES, profile
from bridge.plugin import coverage as cov

NO_TYPE = "AliGenie's device types have no {}"
NO_CONTROL = "AliGenie has no control directive for {}"
NO_TRIGGER = cov.no("the AliGenie skill protocol documents no automation starter for a skill")
WHY_NOT = {
    "lock": NO_CONTROL.format("locks"),
    "doorbell": NO_CONTROL.format("doorbells, and no doorbell event"),
    "scene": "a scene is a Tmall Genie app feature, not a skill's device",
    "energy_meter": NO_TYPE.format("energy meter (its properties have no power or energy)"),
    "smoke_sensor": NO_TYPE.format("smoke alarm property"),
    "co_sensor": NO_TYPE.format("carbon monoxide alarm property"),
    "leak_sensor": NO_TYPE.format("water leak property"),
    "garage_door": NO_TYPE.format("garage door"),
    "gate": NO_TYPE.format("gate (smart-gating is a door lock's category)"),
    "button": NO_TYPE.format("button press"),
}


def coverage(type_name: str) -> cov.Coverage | None:
    found = profile(type_name)
    if found is None:
        return cov.unlisted(type_name, WHY_NOT)
    controls = [a for a in found.actions if not a.startswith("Query")]
    props = ", ".join(p.name for p in found.props)
    return cov.fitted(
        type_name,
        cov.yes(TYPES[type_name]),
        cov.yes(", ".join(controls)) if controls else cov.no("reported only"),
        cov.yes(f"device report ({props})") if props else cov.no("no property"),
        NO_TRIGGER,
    )
