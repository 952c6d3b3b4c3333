"""Tuya's message stream, fuzzed through the live consumer: random frames, payloads and
sealed notices. Each is refused (recorded, acked when it has an id) or ignored; none
changes state or logs an unhandled exception, and the consumer goes on consuming.
Frames are handled concurrently: each input is waited for by its own ack or refusal."""

from __future__ import annotations

import base64
import json

from click.testing import CliRunner
from fuzz_harness import PROFILE, Watch, fingerprint
from hypothesis import given
from hypothesis import strategies as st
from servers import eventually

from bridge.cli import main

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
NOTICE = st.fixed_dictionaries(
    {
        "bizCode": st.sampled_from(["propertySet", "actionExecute", "online", "x"]),
        "bizData": st.one_of(
            JSONISH,
            st.fixed_dictionaries(
                {"devId": st.text(max_size=70), "msgId": st.text(max_size=70), "data": JSONISH}
            ),
        ),
    }
)
INPUTS = st.one_of(
    st.tuples(st.just("frame"), st.text(max_size=300)),
    st.tuples(st.just("payload"), st.binary(max_size=300)),
    st.tuples(st.just("sealed"), NOTICE),
    st.tuples(st.just("unsigned"), NOTICE),
)


def test_the_tuya_stream_refuses_what_it_does_not_take(
    server, server_env, store, account, connect, tuya, tuya_mq
):
    light = store.devices.create(account.user.id, "light", "Fuzz light")
    connect(account, [light])
    result = CliRunner().invoke(main, ["tuya", "link", account.user.name], env=server_env)
    assert result.exit_code == 0, result.output
    # The link's own follow-up (the server tells Tuya the light is online) is done first.
    tuya_id = tuya.by_bridge_id(light.id)["id"]
    assert tuya.wait_for(tuya.presence, lambda p: p == (tuya_id, "online"))
    eventually(
        lambda: (
            not [
                r
                for r in store.db["outbox"].rows_where("adapter = 'tuya'")
                if r["device_id"] == light.id and r["delivered_at"] is None
            ]
        )
    )
    watch = Watch("tuya stream", server, store)

    def frame_refusals() -> list:
        return [
            r
            for r in store.messages.query(kind="rejection", limit=1000)
            if (r["detail"] or "").startswith("Tuya message refused")
        ]

    @PROFILE
    @given(given_input=INPUTS)
    def run(given_input) -> None:
        kind, value = given_input
        before = fingerprint(store)
        if kind == "frame":  # no id to ack: its rejection is what shows it was handled
            refused = len(frame_refusals())
            tuya_mq.send_frame(value)
            eventually(lambda: len(frame_refusals()) > refused)
        else:  # every message with an id is acked, refused or not
            if kind == "payload":
                sent = tuya_mq.send_raw(base64.b64encode(value).decode())
            else:
                sent = tuya_mq.publish(value, signed=kind == "sealed")
            assert tuya_mq.wait_acked(sent), "not acked: the consumer failed or stopped"
        watch.check(200, True, True, before, json.dumps([kind, repr(value)]))

    run()
    watch.finish()
