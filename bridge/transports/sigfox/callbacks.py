"""What Sigfox's cloud posts: the callback bodies as typed models.

Sigfox fills a body template by text substitution, so a value may arrive
as a JSON number, a JSON string or (GET, form) a query string: numbers and
booleans are read from strings too. Field limits follow Sigfox's variables:
a device id of at most 8 hex digits, `data` of at most 12 bytes (24 hex).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

Hex8 = Annotated[str, msgspec.Meta(min_length=1, max_length=8, pattern=r"^[0-9A-Fa-f]+$")]
Data = Annotated[str, msgspec.Meta(max_length=24, pattern=r"^([0-9A-Fa-f]{2})*$")]
Epoch = Annotated[int, msgspec.Meta(ge=0, le=2**40)]
Seq = Annotated[int, msgspec.Meta(ge=0, le=2**31)]
Short = Annotated[str, msgspec.Meta(max_length=256)]


class Uplink(msgspec.Struct, forbid_unknown_fields=False):
    """DATA/UPLINK and DATA/BIDIR (with `ack`)."""

    device: Hex8
    time: Epoch
    data: Data = ""
    seqNumber: Seq = 0
    ack: bool = False
    deviceTypeId: Short = ""
    duplicate: bool = False


class Acknowledge(msgspec.Struct, forbid_unknown_fields=False):
    """SERVICE/ACKNOWLEDGE: what became of the downlink handed to the network."""

    device: Hex8
    time: Epoch = 0
    infoCode: Annotated[int, msgspec.Meta(ge=0, le=99)] = 0
    infoMessage: Short = ""
    downlinkAck: bool = False


class Status(msgspec.Struct, forbid_unknown_fields=False):
    """SERVICE/STATUS: an out-of-band frame's battery (V) and temperature (degC)."""

    device: Hex8
    time: Epoch = 0
    temp: Annotated[float, msgspec.Meta(ge=-100, le=150)] | None = None
    batt: Annotated[float, msgspec.Meta(ge=0, le=10)] | None = None
    seqNumber: Seq = 0


class Error(msgspec.Struct, forbid_unknown_fields=False):
    """ERROR: severity ERROR is the device's keep-alive breached (nothing heard for too
    long); WARN is a network event (a base station down) that says nothing of the device.

    `time` is a number in Sigfox's documentation and templates; a template that quotes
    it sends a string."""

    device: Hex8
    time: Epoch | Short = 0
    info: Short = ""
    severity: Short = "ERROR"

    @property
    def keep_alive_breached(self) -> bool:
        return self.severity.strip().upper() == "ERROR"


KINDS: dict[str, type[msgspec.Struct]] = {
    "uplink": Uplink,
    "bidir": Uplink,
    "ack": Acknowledge,
    "status": Status,
    "error": Error,
}

INFO_CODES = {
    0: "ACKED",
    1: "NO_ANSWER",
    2: "INVALID_PAYLOAD",
    3: "OVERRUN_ERROR",
    4: "NETWORK_ERROR",
    5: "PENDING",
    6: "NO_DOWNLINK_CONTRACT",
    7: "TOO_MANY_REQUESTS",
    8: "INVALID_CONFIGURATION",
}
