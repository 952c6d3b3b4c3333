"""Home Graph read back: what Google holds of a device, where it differs from the device.

Home Graph's `devices.query` answers with the state Google keeps, in the
names Report State used. Each key that differs from what the bridge would
report now is traced to the shadow properties it is made from (a key a
property's absence changes is that property's), so that the state-accuracy
check can count and repair the right pairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.google import traits


def held_apart(type_name: str, shadow: traits.Shadow, held: Mapping[str, Any]) -> dict[str, Any]:
    """What Google holds of each shadow property whose keys differ from the device's state
    now, by shadow name (the key's value, or {key: value} for several keys)."""
    expected = traits.states(type_name, shadow)
    differing = {k for k, v in expected.items() if held.get(k) != v}
    if not differing:
        return {}
    out: dict[str, Any] = {}
    for name in sorted(traits.reported(type_name) & set(shadow)):
        without = traits.states(type_name, {n: e for n, e in shadow.items() if n != name})
        keys = sorted(k for k in differing if expected.get(k) != without.get(k))
        if keys:
            out[name] = held.get(keys[0]) if len(keys) == 1 else {k: held.get(k) for k in keys}
    return out
