import pytest
from fakes.tuya import FakeTuya


@pytest.fixture
def fake_tuya():
    fake = FakeTuya()
    yield fake
    fake.close()
