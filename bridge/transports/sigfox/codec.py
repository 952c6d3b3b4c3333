"""Sigfox payloads: the custom-payload grammar, decoded and encoded.

A layout is Sigfox's own `name:[byte]:type:size[:endianness]` list, e.g.
`temperature::int:16:little-endian humidity::uint:8`. As this bridge reads it:
- fields come in order from a bit cursor; `byte` (optional) moves the cursor
  to that byte first;
- `uint:N` / `int:N` (1 to 64 bits) read N bits, most significant first;
  `little-endian` (whole bytes only) reverses their byte order;
- `float:32` / `float:64` are IEEE 754, on whole bytes;
- `bool:B` is bit B (7 = the most significant) of the byte at the cursor;
  bools in a row share that byte, and the next other field starts after it;
- `char:N` is N bytes of ASCII.
Uplinks hold at most 12 bytes, downlinks 8 (padded with zero bytes).
"""

from __future__ import annotations

import re
import struct
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

UPLINK_BYTES = 12
DOWNLINK_BYTES = 8
FIELD = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9_.]{0,47}(?::[A-Za-z][A-Za-z0-9_.]{0,47})?)"
    r":(?P<byte>\d{0,2}):(?P<type>uint|int|float|bool|char):(?P<size>\d{1,2})"
    r"(?::(?P<endian>big-endian|little-endian))?$"
)


class LayoutError(ValueError):
    """A layout the grammar does not allow, or one that does not fit the frame."""


class PayloadError(ValueError):
    """Bytes that do not fit their layout (too short, too long, not ASCII)."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    size: int
    byte: int | None = None
    little: bool = False


def _field(token: str) -> Field:
    # A name may carry a catalog instance (`rangeValue:Blind.Lift`): split from the right.
    match = FIELD.match(token)
    if match is None:
        raise LayoutError(f"{token!r} is not name:[byte]:type:size[:endianness]")
    kind, size = match["type"], int(match["size"])
    little = match["endian"] == "little-endian"
    if kind in ("uint", "int") and not 1 <= size <= 64:
        raise LayoutError(f"{token}: {kind} takes 1 to 64 bits")
    if kind == "float" and size not in (32, 64):
        raise LayoutError(f"{token}: float takes 32 or 64 bits")
    if kind == "bool" and not 0 <= size <= 7:
        raise LayoutError(f"{token}: bool takes a bit index 0 to 7")
    if kind == "char" and not 1 <= size <= UPLINK_BYTES:
        raise LayoutError(f"{token}: char takes 1 to {UPLINK_BYTES} bytes")
    if little and (kind in ("bool", "char") or size % 8):
        raise LayoutError(f"{token}: little-endian needs whole bytes")
    return Field(match["name"], kind, size, int(match["byte"]) if match["byte"] else None, little)


@dataclass(frozen=True)
class Placed:
    field: Field
    bit: int  # where the field starts (a bool: the start of its byte)


class Codec(ABC):
    """Frames to field values and back. Layouts are one kind; odd devices bring their own
    (entry point group `bridge.sigfox_codecs`, a subclass made with no arguments;
    one instance serves every frame, so it keeps no state).
    Field names are the catalog type's property names, as in a layout."""

    @property
    @abstractmethod
    def names(self) -> list[str]:
        """The fields a frame carries."""

    @abstractmethod
    def decode(self, data: bytes) -> dict[str, Any]:
        """Raise PayloadError for bytes that do not fit."""

    @abstractmethod
    def encode(self, values: dict[str, Any], pad_to: int | None = None) -> bytes:
        """Raise PayloadError for values that do not fit."""


class Layout(Codec):
    """A parsed layout with every field placed; refuses one that exceeds `limit` bytes."""

    def __init__(self, text: str, limit: int = UPLINK_BYTES) -> None:
        tokens = text.split()
        if not tokens or len(tokens) > 48:
            raise LayoutError("a layout has 1 to 48 fields")
        self.text = " ".join(tokens)
        self.limit = limit
        self.placed: list[Placed] = []
        cursor, in_bools = 0, False
        for f in map(_field, tokens):
            if f.byte is not None:
                cursor, in_bools = f.byte * 8, False
            if f.type == "bool":
                if not in_bools and cursor % 8:
                    cursor += 8 - cursor % 8
                self.placed.append(Placed(f, cursor))
                in_bools = True
                continue
            if in_bools:
                cursor, in_bools = cursor + 8, False
            whole = f.type in ("float", "char") or f.little
            if whole and cursor % 8:
                raise LayoutError(f"{f.name}: {f.type} must start on a byte")
            self.placed.append(Placed(f, cursor))
            cursor += f.size * 8 if f.type == "char" else f.size
        end = cursor + (8 if in_bools else 0)
        self.bits = max([end] + [p.bit + _width(p.field) for p in self.placed])
        if self.bits > limit * 8:
            raise LayoutError(f"the layout needs {self.bits} bits; a frame holds {limit * 8}")
        names = [p.field.name for p in self.placed]
        if len(set(names)) != len(names):
            raise LayoutError("each field name appears once")

    @property
    def names(self) -> list[str]:
        return [p.field.name for p in self.placed]

    def decode(self, data: bytes) -> dict[str, Any]:
        if len(data) > self.limit:
            raise PayloadError(f"{len(data)} bytes; a frame holds {self.limit}")
        if len(data) * 8 < self.bits:
            raise PayloadError(f"{len(data)} bytes; the layout needs {(self.bits + 7) // 8}")
        number = int.from_bytes(data, "big") if data else 0
        total = len(data) * 8
        out: dict[str, Any] = {}
        for p in self.placed:
            f = p.field
            if f.type == "bool":
                byte = (number >> (total - p.bit - 8)) & 0xFF
                out[f.name] = bool(byte >> f.size & 1)
            elif f.type == "char":
                raw = data[p.bit // 8 : p.bit // 8 + f.size]
                try:
                    out[f.name] = raw.decode("ascii").rstrip("\x00")
                except UnicodeDecodeError:
                    raise PayloadError(f"{f.name} is not ASCII") from None
            elif f.type == "float":
                raw = data[p.bit // 8 : p.bit // 8 + f.size // 8]
                fmt = ("<" if f.little else ">") + ("f" if f.size == 32 else "d")
                out[f.name] = struct.unpack(fmt, raw)[0]
            else:
                value = (number >> (total - p.bit - f.size)) & ((1 << f.size) - 1)
                if f.little:
                    value = int.from_bytes(value.to_bytes(f.size // 8, "big"), "little")
                if f.type == "int" and value >> (f.size - 1):
                    value -= 1 << f.size
                out[f.name] = value
        return out

    def encode(self, values: dict[str, Any], pad_to: int | None = None) -> bytes:
        """Pack values (every field required) into bytes; zero-padded to `pad_to`."""
        size = pad_to if pad_to is not None else (self.bits + 7) // 8
        number = 0
        total = size * 8
        chunks: list[tuple[int, bytes]] = []
        for p in self.placed:
            f = p.field
            if f.name not in values:
                raise PayloadError(f"{f.name} is missing")
            v = values[f.name]
            if f.type == "bool":
                if v:
                    number |= 1 << (total - p.bit - 8 + f.size)
            elif f.type == "char":
                raw = str(v).encode("ascii", "replace")[: f.size].ljust(f.size, b"\x00")
                chunks.append((p.bit // 8, raw))
            elif f.type == "float":
                fmt = ("<" if f.little else ">") + ("f" if f.size == 32 else "d")
                chunks.append((p.bit // 8, struct.pack(fmt, float(v))))
            else:
                value = round(v)
                lo, hi = (
                    (-(1 << (f.size - 1)), (1 << (f.size - 1)) - 1)
                    if f.type == "int"
                    else (0, (1 << f.size) - 1)
                )
                if not lo <= value <= hi:
                    raise PayloadError(f"{f.name}={v} does not fit {f.type}:{f.size}")
                value &= (1 << f.size) - 1
                if f.little:
                    value = int.from_bytes(value.to_bytes(f.size // 8, "little"), "big")
                number |= value << (total - p.bit - f.size)
        out = bytearray(number.to_bytes(size, "big"))
        for start, raw in chunks:
            out[start : start + len(raw)] = raw
        return bytes(out)


def _width(f: Field) -> int:
    if f.type == "bool":
        return 8
    return f.size * 8 if f.type == "char" else f.size
