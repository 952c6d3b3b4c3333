"""The custom-payload grammar: every type and endianness round-trips; bad layouts are refused."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.transports.sigfox.codec import DOWNLINK_BYTES, Layout, LayoutError, PayloadError


@pytest.mark.parametrize(
    ("layout", "values", "hex_"),
    [
        ("t::int:16:little-endian h::uint:8", {"t": -5, "h": 40}, "fbff28"),
        ("t::int:16:big-endian h::uint:8", {"t": -5, "h": 40}, "fffb28"),
        ("t::int:16 h::uint:8", {"t": 258, "h": 255}, "0102ff"),
        ("a::uint:4 b::uint:4 c::int:8", {"a": 1, "b": 15, "c": -1}, "1fff"),
        ("on::bool:7 off::bool:0 n::uint:8", {"on": True, "off": True, "n": 7}, "8107"),
        ("f::float:32", {"f": 1.5}, "3fc00000"),
        ("f::float:32:little-endian", {"f": 1.5}, "0000c03f"),
        ("d::float:64", {"d": -2.0}, "c000000000000000"),
        ("s::char:3 n::uint:8", {"s": "ab", "n": 1}, "61620001"),
        ("n:2:uint:8", {"n": 9}, "000009"),
        ("rangeValue:Blind.Lift::uint:8", {"rangeValue:Blind.Lift": 50}, "32"),
    ],
)
def test_every_type_packs_as_sigfox_packs_and_comes_back(layout, values, hex_):
    parsed = Layout(layout)
    assert parsed.encode(values).hex() == hex_
    assert parsed.decode(bytes.fromhex(hex_)) == values


@given(
    st.integers(-(2**15), 2**15 - 1),
    st.integers(0, 2**24 - 1),
    st.booleans(),
    st.sampled_from(["big-endian", "little-endian"]),
)
def test_round_trip_for_any_value(t, n, flag, endian):
    layout = Layout(f"t::int:16:{endian} n::uint:24:{endian} on::bool:3")
    values = {"t": t, "n": n, "on": flag}
    assert layout.decode(layout.encode(values)) == values


def test_a_downlink_is_padded_to_eight_bytes():
    layout = Layout("powerState::bool:0", DOWNLINK_BYTES)
    assert layout.encode({"powerState": True}, pad_to=DOWNLINK_BYTES).hex() == "0100000000000000"


@pytest.mark.parametrize(
    "layout",
    [
        "",
        "temperature",
        "t::int:0",
        "t::int:65",
        "t::float:16",
        "t::bool:8",
        "t::char:13",
        "t::uint:12:little-endian",
        "a::uint:4 f::float:32",  # a float must start on a byte
        "a::uint:64 b::uint:64",  # 16 bytes: more than an uplink holds
        "a::uint:8 a::uint:8",
        "t::word:8",
        "9t::uint:8",
    ],
)
def test_bad_layouts_are_refused(layout):
    with pytest.raises(LayoutError):
        Layout(layout)


def test_a_downlink_layout_over_eight_bytes_is_refused():
    with pytest.raises(LayoutError):
        Layout("a::uint:64 b::uint:8", DOWNLINK_BYTES)


@pytest.mark.parametrize("data", [b"", b"\x01", bytes(13)])
def test_bytes_that_do_not_fit_are_refused(data):
    with pytest.raises(PayloadError):
        Layout("t::int:16 h::uint:8").decode(data)


def test_values_that_do_not_fit_are_refused():
    with pytest.raises(PayloadError):
        Layout("h::uint:8").encode({"h": 256})
    with pytest.raises(PayloadError):
        Layout("h::uint:8").encode({})
