"""The shadow service's semantics, as AWS IoT documents them, without a broker."""

import json

import pytest

from bridge.transports.mqtt.shadow import (
    MAX_STATE_BYTES,
    Rejected,
    Shadow,
    apply,
    delete,
    get_accepted,
    parse_request,
    parse_update,
)


def update(body) -> bytes:
    return json.dumps(body).encode()


def test_desired_then_reported_versions_metadata_and_delta():
    first = apply(
        Shadow(),
        parse_update(update({"state": {"desired": {"powerState": "On"}}, "clientToken": "t1"})),
        100.0,
    )
    assert first.shadow.version == 1
    assert first.accepted["state"] == {"desired": {"powerState": "On"}}
    assert first.accepted["metadata"] == {"desired": {"powerState": {"timestamp": 100}}}
    assert first.accepted["clientToken"] == "t1"
    assert first.delta["state"] == {"powerState": "On"} and first.delta["clientToken"] == "t1"
    second = apply(
        first.shadow,
        parse_update(update({"state": {"reported": {"powerState": "On", "brightness": 5}}})),
        101.0,
    )
    assert second.shadow.version == 2 and second.delta is None
    assert second.documents["previous"]["version"] == 1
    assert second.documents["current"]["state"]["reported"] == {"powerState": "On", "brightness": 5}
    assert second.shadow.metadata["reported"]["brightness"] == {"timestamp": 101}
    got = get_accepted(second.shadow, 102.0, "g")
    assert got["version"] == 2 and "delta" not in got["state"] and got["clientToken"] == "g"


def test_null_deletes_a_key_and_desired_null_clears_desired():
    s = apply(
        Shadow(),
        parse_update(update({"state": {"desired": {"a": 1, "b": 2}, "reported": {"a": 0}}})),
        1.0,
    ).shadow
    assert s.delta() == {"a": 1, "b": 2}
    s = apply(s, parse_update(update({"state": {"desired": {"b": None}}})), 2.0).shadow
    assert s.desired == {"a": 1} and "b" not in s.metadata["desired"]
    s = apply(s, parse_update(update({"state": {"desired": None}})), 3.0).shadow
    assert s.desired == {} and s.delta() == {}


def test_nested_objects_merge_and_their_delta_is_nested():
    s = apply(
        Shadow(),
        parse_update(update({"state": {"reported": {"color": {"r": 1, "g": 2, "b": 3}}}})),
        1.0,
    ).shadow
    applied = apply(s, parse_update(update({"state": {"desired": {"color": {"r": 9}}}})), 2.0)
    assert applied.shadow.desired == {"color": {"r": 9}}
    assert applied.delta["state"] == {"color": {"r": 9}}


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", 400),
        (b'{"state": {"desired": {"a": 1}}, "state": {}}', 400),  # a duplicate key
        (b"[]", 400),
        (update({"clientToken": "t"}), 400),
        (update({"state": {"desired": 3}}), 400),
        (update({"state": {"other": {}}}), 400),
        (update({"state": {}, "clientToken": "x" * 65}), 400),
        (update({"state": {}, "version": "2"}), 400),
        (update({"state": {"reported": {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}}}), 400),
        (b"{" + b" " * (129 * 1024) + b"}", 413),
    ],
)
def test_malformed_updates_are_rejected_with_awss_codes(raw, code):
    with pytest.raises(Rejected) as caught:
        parse_update(raw)
    assert caught.value.code == code
    body = caught.value.body(5.0)
    assert body["code"] == code and body["timestamp"] == 5


def test_version_conflict_and_size_limit_change_nothing():
    s = apply(Shadow(), parse_update(update({"state": {"reported": {"a": 1}}})), 1.0).shadow
    with pytest.raises(Rejected) as conflict:
        apply(
            s,
            parse_update(
                update({"state": {"reported": {"a": 2}}, "version": 7, "clientToken": "c"})
            ),
            2.0,
        )
    assert conflict.value.code == 409 and conflict.value.body(2.0)["clientToken"] == "c"
    big = {"state": {"reported": {"blob": "x" * MAX_STATE_BYTES}}}
    with pytest.raises(Rejected) as full:
        apply(s, parse_update(update(big)), 3.0)
    assert full.value.code == 413
    assert s.reported == {"a": 1} and s.version == 1
    assert (
        apply(
            s, parse_update(update({"state": {"reported": {"a": 2}}, "version": 1})), 4.0
        ).shadow.version
        == 2
    )


def test_get_without_a_shadow_is_404_and_the_observation_time_is_kept():
    with pytest.raises(Rejected) as none:
        get_accepted(Shadow(), 1.0)
    assert none.value.code == 404
    parsed = parse_update(update({"state": {"reported": {"a": 1}}, "timestamp": 1700000000123}))
    assert parsed.observed_ms == 1700000000123


def test_delete_removes_the_document_keeps_the_version_and_a_second_is_404():
    """AWS: `/delete/accepted` carries the version and a timestamp; the next update goes on
    from that version; get and delete of no shadow are 404."""
    s = apply(Shadow(), parse_update(update({"state": {"reported": {"a": 1}}})), 1.0).shadow
    gone, accepted = delete(s, 2.0, "tok")
    assert accepted == {"version": 1, "timestamp": 2, "clientToken": "tok"}
    assert not gone.exists and gone.reported == {} and gone.version == 1
    for call in (lambda: delete(gone, 3.0), lambda: get_accepted(gone, 3.0)):
        with pytest.raises(Rejected) as none:
            call()
        assert none.value.code == 404
    again = apply(gone, parse_update(update({"state": {"reported": {"b": 2}}})), 4.0).shadow
    assert again.version == 2 and again.exists and again.reported == {"b": 2}
    assert Shadow.load((again.stored(), again.version)) == again


@pytest.mark.parametrize(
    "raw",
    [
        b'{"state":{"reported":{"x":18446744073709551616}},"clientToken":"t"}',
        b'{"state":{"reported":{"x":-9223372036854775809}}}',
        b'{"clientToken":-9223372036854775809}',
        b'{"state":{"reported":{"x":1e999}}}',
    ],
)
def test_numbers_beyond_64_bits_are_a_400_not_an_error(raw):
    with pytest.raises(Rejected) as caught:
        parse_request(raw)
    assert caught.value.code == 400


@pytest.mark.parametrize("token", [7, -9223372036854775809 + 1, ["t"], {"a": 1}, "x" * 65, True])
def test_a_client_token_that_is_not_one_is_refused_and_never_echoed(token):
    with pytest.raises(Rejected) as caught:
        parse_request(json.dumps({"clientToken": token}).encode(), empty=True)
    assert caught.value.code == 400 and "clientToken" not in caught.value.body(1.0)


def test_an_update_with_an_empty_state_is_answered_with_a_rejection():
    with pytest.raises(Rejected) as caught:
        parse_update(update({"state": {}, "clientToken": "t"}))
    assert caught.value.code == 400 and caught.value.body(1.0)["clientToken"] == "t"


def test_a_shadow_stored_before_reachability_was_kept_apart_reads_its_own_word():
    said = {"state": {"desired": {}, "reported": {"connection_status": "connected"}}}
    stored = ({**said, "metadata": {"desired": {}, "reported": {}}}, 3)
    loaded = Shadow.load(stored)
    assert loaded.connected and loaded.exists
