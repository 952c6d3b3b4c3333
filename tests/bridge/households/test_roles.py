"""What each role reaches: the table every entry point's check reads."""

import pytest

from bridge.households.roles import GUEST, MEMBER, OWNER, RISKY_TYPES, reaches


@pytest.mark.parametrize(
    ("role", "device_type", "named", "expected"),
    [
        (OWNER, "lock", (), True),
        (MEMBER, "lock", (), True),
        (MEMBER, "light", ("other",), True),  # a member's reach is the household's
        (GUEST, "light", (), True),  # a guest with nothing named: the safe devices
        (GUEST, "lock", (), False),  # never a lock unless named
        (GUEST, "lock", ("d1",), True),  # named explicitly
        (GUEST, "light", ("other",), False),  # named others: only those
        (GUEST, None, (), False),  # a deleted device (type unknown) counts as risky
    ],
)
def test_reach_by_role(role, device_type, named, expected):
    assert reaches(role, "d1", device_type, named) is expected


def test_only_the_owner_manages_and_a_guest_adds_nothing():
    assert OWNER.manages_members and not MEMBER.manages_members and not GUEST.manages_members
    assert MEMBER.adds_devices and not GUEST.adds_devices
    assert GUEST.may_expire and not MEMBER.may_expire
    assert "lock" in RISKY_TYPES
