"""What Tuya does with each device type (the coverage page is made from this).

A type is registered with Tuya when `functions.FUNCTIONS` gives it standard
function codes; Tuya sets the ones with a command and hears every one, and its
scenes ("tap-to-run" and automations) can start on any reported code.
"""

from __future__ import annotations

from adapters.tuya.functions import functions
from bridge.plugin import coverage as cov

NO_CATEGORY = "Tuya's standard instruction sets have no {}"
WHY_NOT = {
    "doorbell": NO_CATEGORY.format("doorbell press a cloud device can report"),
    "scene": "a scene is a Tuya app feature, not a device",
    "gate": NO_CATEGORY.format("gate category"),
}


def coverage(type_name: str) -> cov.Coverage | None:
    codes = functions(type_name)
    if not codes:
        return cov.unlisted(type_name, WHY_NOT)
    settable = ", ".join(f.code for f in codes if f.action)
    heard = ", ".join(f.code for f in codes)
    return cov.fitted(
        type_name,
        cov.yes("registered with its standard codes"),
        cov.yes(settable) if settable else cov.no("no settable code"),
        cov.yes(f"property report ({heard})"),
        cov.yes(f"scene condition ({heard})"),
    )
