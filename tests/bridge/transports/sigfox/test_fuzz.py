"""Sigfox's callback endpoints, fuzzed: mutated callbacks, random JSON and raw bytes."""

from __future__ import annotations

import time

import requests
from fuzz_harness import PROFILE, Watch, bodies, fingerprint
from hypothesis import given
from hypothesis import strategies as st


def test_sigfox_callbacks_fuzz(server, store, plug):
    kinds = ["uplink", "bidir", "ack", "status", "error", "nothing"]
    seeds = [
        {"device": plug.sigfox_id, "time": 1700000000, "data": "01", "seqNumber": 5, "ack": True},
        {"device": plug.sigfox_id, "time": 1700000000, "infoCode": 0},
        {"device": plug.sigfox_id, "temp": "21.5", "batt": "3.3"},
        {"device": plug.sigfox_id, "info": "No message", "severity": "ERROR"},
    ]
    watch = Watch("sigfox callbacks", server, store)
    base = plug.callbacks["uplink"].rsplit("/", 1)[0]

    @PROFILE
    @given(
        kind=st.sampled_from(kinds),
        body=bodies(*seeds),
        secret=st.sampled_from([plug.secret, "wrong", ""]),
        as_form=st.booleans(),
    )
    def run(kind: str, body: bytes, secret: str, as_form: bool) -> None:
        time.sleep(0.06)  # what the last accepted input changed is written behind (50 ms)
        before = fingerprint(store)
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        headers["Content-Type"] = (
            "application/x-www-form-urlencoded" if as_form else "application/json"
        )
        reply = requests.post(f"{base}/{kind}", data=body, headers=headers, timeout=10)
        ok = reply.status_code in (200, 204)
        in_format = ok or reply.headers.get("Content-Type") == "application/problem+json"
        watch.check(reply.status_code, in_format, not ok, before, (kind, body, secret))

    run()
    watch.finish()
