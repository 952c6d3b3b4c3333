"""The kit's units: one rounding rule for every platform's colours and temperatures."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.plugin import units

RGB = st.fixed_dictionaries({k: st.integers(0, 255) for k in "rgb"})


@pytest.mark.parametrize(
    ("hue", "saturation", "value", "rgb"),
    [
        (0, 1, 1, (255, 0, 0)),
        (360, 1, 1, (255, 0, 0)),  # a full turn is red again
        (120, 1, 1, (0, 255, 0)),
        (240, 1, 0.5, (0, 0, 128)),
        (0, 0, 1, (255, 255, 255)),
    ],
)
def test_hue_saturation_and_value_become_rgb(hue, saturation, value, rgb):
    assert units.hsv_to_rgb(hue, saturation, value) == dict(zip("rgb", rgb, strict=True))


@given(RGB)
def test_a_colour_survives_hsb_and_back(rgb):
    hsb = units.hsb(rgb)
    assert 0 <= hsb["hue"] <= 360 and 0 <= hsb["saturation"] <= 1 and 0 <= hsb["brightness"] <= 1
    back = units.hsv_to_rgb(hsb["hue"], hsb["saturation"], hsb["brightness"])
    assert all(abs(back[k] - rgb[k]) <= 1 for k in "rgb")


@given(RGB)
def test_24_bit_colours_round_trip_exactly(rgb):
    assert units.rgb_from_int(units.rgb_to_int(rgb)) == rgb
    assert units.rgb_to_int({"r": 255, "g": 0, "b": 1}) == 0xFF0001


@pytest.mark.parametrize(
    ("value", "scale", "delta", "celsius"),
    [
        (72, "FAHRENHEIT", False, 22.2),
        (9, "FAHRENHEIT", True, 5.0),
        (295.15, "KELVIN", False, 22.0),
        (3, "KELVIN", True, 3),
        (21.5, "CELSIUS", False, 21.5),
    ],
)
def test_temperatures_become_celsius(value, scale, delta, celsius):
    assert units.to_celsius(value, scale, delta=delta) == celsius


def test_an_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="CELSIUS"):
        units.to_celsius(20, "RANKINE")


def test_rescale_maps_a_platforms_steps_both_ways():
    assert units.rescale(2200, (2200, 7000), (0, 1000)) == 0
    assert units.rescale(7000, (2200, 7000), (0, 1000)) == 1000
    assert units.rescale(500, (0, 1000), (2200, 7000)) == 4600
    assert units.rescale(0.5, (0, 1), (0, 1000)) == 500
    assert units.rescale(37, (0, 100), (0, 1000)) == 370
