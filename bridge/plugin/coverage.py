"""What each platform does with each device type: decided cell by cell, never implied.

An adapter answers `coverage(type)` for every catalog type with four cells:
whether the platform lists the device (`discovered`), can command it
(`controllable`), hears its changes (`reported`), and lets its changes start
the user's routines (`trigger`). A cell is supported (with what carries it on
the platform), or not (with the platform's reason). Where the type itself has
nothing of the kind (a sensor has no command) the cell is "none" and nobody
decides it. The docs' coverage page is made from these answers, and a test
fails when a type is added without them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bridge import catalog

ASPECTS = ("discovered", "controllable", "reported", "trigger")


@dataclass(frozen=True)
class Cell:
    supported: bool
    how: str
    """Supported: what carries it (an interface, a trait, a code); not: the reason."""


def yes(how: str) -> Cell:
    return Cell(True, how)


def no(why: str) -> Cell:
    return Cell(False, why)


NONE = Cell(False, "")
"""The type has nothing of the kind: no command to control, no state or event to hear."""


@dataclass(frozen=True)
class Coverage:
    discovered: Cell
    controllable: Cell
    reported: Cell
    trigger: Cell

    def cells(self) -> tuple[Cell, Cell, Cell, Cell]:
        return (self.discovered, self.controllable, self.reported, self.trigger)


def absent(type_name: str, why: str) -> Coverage:
    """A type the platform does not list at all: every cell the type has says why."""
    cell = no(why)
    return fitted(type_name, cell, cell, cell, cell)


def unlisted(type_name: str, reasons: Mapping[str, str]) -> Coverage | None:
    """A type the platform does not list, for the reason `reasons` gives it; None (not
    decided) when it gives none."""
    why = reasons.get(type_name)
    return absent(type_name, why) if why else None


def fitted(
    type_name: str, discovered: Cell, controllable: Cell, reported: Cell, trigger: Cell
) -> Coverage:
    """The cells as given, but "none" where the type has nothing of the kind (an adapter
    that derives its answers from its own tables says each once, for every type)."""
    given = (discovered, controllable, reported, trigger)
    return Coverage(
        *[c if has else NONE for c, has in zip(given, applies(type_name).values(), strict=True)]
    )


def applies(type_name: str) -> dict[str, bool]:
    """Which aspects the type has at all: a command to control, state or events to hear."""
    caps = catalog.TYPES[type_name].capabilities
    heard = any(c.events or c.state for c in caps)
    return {
        "discovered": True,
        "controllable": any(c.actions for c in caps),
        "reported": heard,
        "trigger": heard,
    }


def decided(type_name: str, coverage: Coverage | None) -> list[str]:
    """What is left undecided for a type: aspects it has whose cell says nothing, and
    cells given for aspects it does not have. Empty when every cell is decided."""
    if coverage is None:
        return list(ASPECTS)
    wrong = []
    for aspect, cell in zip(ASPECTS, coverage.cells(), strict=True):
        if applies(type_name)[aspect] != (cell != NONE) or (cell != NONE and not cell.how):
            wrong.append(aspect)
    return wrong
