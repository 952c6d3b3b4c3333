"""The shadow service's inbound topics, fuzzed on the real broker: garbage and mutated updates."""

from __future__ import annotations

import json
import threading
import time
import uuid

from fuzz_harness import PROFILE, Watch, fingerprint, garbage, mutated
from hypothesis import given
from hypothesis import strategies as st

from bridge.transports.mqtt import topics
from bridge.transports.mqtt.tables import ThingShadows

from .test_things import raw_client


def test_thing_topics_fuzz(server, fleet, account, store):
    [creds] = fleet.make(account)
    thing = creds.thing
    client = raw_client(fleet.broker, creds)
    answers: dict[str, dict] = {}
    arrived = threading.Condition()

    def on_message(c, userdata, msg) -> None:
        body = json.loads(msg.payload)
        with arrived:
            answers[body.get("clientToken") or ""] = {"topic": msg.topic, **body}
            arrived.notify_all()

    client.on_message = on_message
    client.subscribe(
        [
            (topics.GET_ACCEPTED.format(thing=thing), 1),
            (topics.GET_REJECTED.format(thing=thing), 1),
            (topics.UPDATE_REJECTED.format(thing=thing), 1),
        ]
    )

    def settle() -> int:
        """A get with a fresh token: its answer comes after everything sent before it.

        Returns the shadow's version, as the service holds it (its writes to the
        database come behind).
        """
        token = uuid.uuid4().hex
        client.publish(topics.GET.format(thing=thing), json.dumps({"clientToken": token}), qos=1)
        with arrived:
            assert arrived.wait_for(lambda: token in answers, timeout=10), "no answer to get"
        return answers[token]["version"]

    seed = {"state": {"reported": {"powerState": "On", "brightness": 40}}, "clientToken": "x"}
    client.publish(topics.UPDATE.format(thing=thing), json.dumps(seed), qos=1)
    version = [settle()]
    watch = Watch("mqtt thing topics", server, store)
    where = st.sampled_from([topics.UPDATE, topics.BACKDATE, topics.WILL, topics.GET]).map(
        lambda t: t.format(thing=thing)
    )

    @PROFILE
    @given(
        topic=where,
        payload=garbage.map(lambda b: ("garbage", b))
        | mutated(seed).map(lambda d: ("mutated", json.dumps(d).encode())),
    )
    def run(topic: str, payload: tuple[str, bytes]) -> None:
        kind, raw = payload
        time.sleep(0.1)  # what the last input changed is written behind (50 ms)
        before = fingerprint(store)
        client.publish(topic, raw, qos=1)
        now = settle()
        refused = kind == "garbage"
        kept = not refused or now == version[0]
        version[0] = now
        watch.check(200, kept, refused, before, (topic, raw))

    run()
    time.sleep(0.1)
    shadow, stored = store.repository(ThingShadows).get(thing)
    assert stored == version[0] and isinstance(shadow["state"]["reported"], dict)
    watch.finish()
    client.loop_stop()
    client.disconnect()
