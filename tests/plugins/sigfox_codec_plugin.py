"""A Sigfox codec plugin for an odd device: its power bit is inverted (0 means On)."""

from __future__ import annotations

from typing import Any

from bridge.transports.sigfox.codec import Codec, PayloadError


class InvertedPlug(Codec):
    @property
    def names(self) -> list[str]:
        return ["powerState"]

    def decode(self, data: bytes) -> dict[str, Any]:
        if len(data) != 1:
            raise PayloadError("this plug sends one byte")
        return {"powerState": not data[0] & 1}

    def encode(self, values: dict[str, Any], pad_to: int | None = None) -> bytes:
        raw = bytes([0 if values["powerState"] else 1])
        return raw.ljust(pad_to or 1, b"\0")
