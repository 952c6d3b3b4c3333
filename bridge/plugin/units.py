"""Units the platforms speak and the device vocabulary does not: colour as hue,
saturation and brightness (or a 24-bit number), temperatures in °F or kelvin.

The device vocabulary keeps colour as `{r, g, b}` (0-255) and temperatures in °C;
every adapter converts at its edge with these, so one rounding rule holds for all.
"""

from __future__ import annotations

import colorsys
from collections.abc import Mapping


def hsv_to_rgb(hue: float, saturation: float, value: float) -> dict[str, int]:
    """Hue in degrees (0-360, 360 is red again), saturation and value 0-1, to `{r, g, b}`."""
    r, g, b = colorsys.hsv_to_rgb(hue / 360 % 1.0, saturation, value)
    return {"r": round(r * 255), "g": round(g * 255), "b": round(b * 255)}


def rgb_to_hsv(rgb: Mapping[str, int]) -> tuple[float, float, float]:
    """`{r, g, b}` to (hue in degrees, saturation 0-1, value 0-1), unrounded."""
    h, s, v = colorsys.rgb_to_hsv(rgb["r"] / 255, rgb["g"] / 255, rgb["b"] / 255)
    return h * 360, s, v


def hsb(rgb: Mapping[str, int]) -> dict[str, float]:
    """`{r, g, b}` as `{hue, saturation, brightness}`, the shape voice platforms use (to 0.1
    degree and 4 decimals)."""
    hue, saturation, brightness = rgb_to_hsv(rgb)
    return {
        "hue": round(hue, 1),
        "saturation": round(saturation, 4),
        "brightness": round(brightness, 4),
    }


def rgb_from_int(number: int) -> dict[str, int]:
    """A 24-bit colour (0xRRGGBB, as some platforms send it) to `{r, g, b}`."""
    return {"r": number >> 16 & 255, "g": number >> 8 & 255, "b": number & 255}


def rgb_to_int(rgb: Mapping[str, int]) -> int:
    return (rgb["r"] << 16) | (rgb["g"] << 8) | rgb["b"]


SCALES = ("CELSIUS", "FAHRENHEIT", "KELVIN")


def to_celsius(value: float, scale: str, *, delta: bool = False) -> float:
    """A temperature (or, with `delta`, a difference of two) in °C, to 0.1 °C when
    converted. Raises ValueError for a scale not in SCALES."""
    if scale == "FAHRENHEIT":
        return round(value * 5 / 9 if delta else (value - 32) * 5 / 9, 1)
    if scale == "KELVIN":
        return round(value if delta else value - 273.15, 1)
    if scale != "CELSIUS":
        raise ValueError(f"scale is one of {', '.join(SCALES)}")
    return value


def rescale(value: float, source: tuple[float, float], target: tuple[float, float]) -> int:
    """`value` on the scale `source` (low, high) as the whole number it is on `target`:
    a platform's 0-1000 or 10-1000 steps, a white tone's 2200-7000 K on 0-1000."""
    (a, b), (c, d) = source, target
    return round(c + (value - a) * (d - c) / (b - a))
