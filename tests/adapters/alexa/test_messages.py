"""Alexa's envelopes: the time of a sample and the message ids every reply carries."""

import datetime
import uuid

from hypothesis import given
from hypothesis import strategies as st

from adapters.alexa import messages


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False))
def test_time_of_sample_is_utc_with_milliseconds_as_datetime_writes_it(at):
    moment = datetime.datetime.fromtimestamp(at, datetime.UTC)
    expected = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    assert messages.time_of_sample(at) == expected


def test_message_ids_are_version_4_uuids_and_differ():
    ids = {messages.message_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(uuid.UUID(i).version == 4 for i in ids)
