"""The device socket, fuzzed: garbage and forged frames, and signed payloads of any shape."""

from __future__ import annotations

import json
import time

import websocket
from fuzz_harness import PROFILE, Watch, fingerprint, garbage, mutated
from hypothesis import given
from hypothesis import strategies as st

from bridge import catalog
from bridge.transports.sinric import protocol


class Socket:
    """One device connection that reconnects when the bridge closes it (1009, 1008)."""

    def __init__(self, server, account, device) -> None:
        self.url, self.account, self.device = f"ws://127.0.0.1:{server.port}/", account, device
        self.closes = 0
        self.ws = self._open()

    def _open(self) -> websocket.WebSocket:
        ws = websocket.create_connection(
            self.url,
            header={"appkey": self.account.app_key, "deviceids": self.device.id},
            timeout=10,
        )
        assert "timestamp" in json.loads(ws.recv())
        return ws

    def send_and_settle(self, text: str) -> None:
        """Send, then ping: the pong comes once the bridge has handled the frame."""
        try:
            self.ws.send(text)
            self.ws.ping(b"settle")
            while True:
                opcode, data = self.ws.recv_data(control_frame=True)
                if opcode == websocket.ABNF.OPCODE_PONG and data == b"settle":
                    return
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    raise websocket.WebSocketConnectionClosedException()
        except (websocket.WebSocketException, OSError):
            self.closes += 1
            self.ws.close()
            self.ws = self._open()


def shadow_is_valid(store, device) -> bool:
    """Every stored value fits its capability, as the catalog checks a device's values."""
    dtype = catalog.TYPES[device.type]
    for name, sample in store.shadow.get(device.id).items():
        prop, _, instance = name.partition(":")
        for cap in dtype.capabilities:
            key = cap.state.get(prop)
            if key is None or (cap.instance or "") != instance:
                continue
            for spec in cap.reported:
                if spec.name == key:
                    try:
                        spec.check({key: sample["value"]})
                    except Exception:
                        return False
    return True


def test_device_socket_fuzz(server, store, account, light):
    sock = Socket(server, account, light)
    seed = protocol.event(light.id, "setBrightness", {"brightness": 40})
    valid = protocol.envelope(seed, account.secret)

    def sign(payload: object) -> str:
        """Signed with the account's secret, as its own device would (fresh createdAt)."""
        if not isinstance(payload, dict):
            return json.dumps(payload)
        try:
            return protocol.envelope({**payload, "createdAt": int(time.time())}, account.secret)
        except TypeError:  # a number no JSON encoder of the device's would write
            return json.dumps({"payload": payload, "signature": {"HMAC": "x"}})

    signed = mutated(seed).map(sign)
    forged = st.one_of(
        garbage.map(lambda b: b.decode("utf-8", "replace")),
        mutated(json.loads(valid)).map(json.dumps),
        st.tuples(st.integers(0, len(valid)), st.text(max_size=20)).map(
            lambda cut: valid[: cut[0]] + cut[1] + valid[cut[0] :]
        ),
    )
    watch = Watch("device socket", server, store)
    # The genuine message goes first: every copy of it after that is a replay, whatever
    # bytes are inserted around its signed payload.
    sock.send_and_settle(valid)
    previous = ["signed"]

    @PROFILE
    @given(frame=st.tuples(st.just("forged"), forged) | st.tuples(st.just("signed"), signed))
    def run(frame: tuple[str, str]) -> None:
        kind, text = frame
        if previous[0] == "signed":
            time.sleep(0.1)  # what the last signed frame changed is written behind (50 ms)
        previous[0] = kind
        before = fingerprint(store)
        sock.send_and_settle(text)
        unchanged = kind == "signed" or fingerprint(store) == before
        watch.check(200, unchanged, kind == "forged", before, frame)

    run()
    time.sleep(0.2)  # the server writes shadow behind, every 50 ms
    assert shadow_is_valid(store, light)
    watch.finish()
