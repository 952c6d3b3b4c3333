"""A fleet of MQTT things in one process: paho clients on one selector loop.

    python bench/thing_fleet.py HOST PORT ZIP [ZIP ...]

Every thing connects with its own certificate (client id = thing name, the
will set), reports itself connected, and answers each delta at once with
the delta's clientToken. Prints `ready N` once all are connected.
"""

from __future__ import annotations

import json
import selectors
import sys
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bridge.thing_client import unpack
from bridge.transports.mqtt import nodelay, topics
from bridge.transports.mqtt.things import WILL_PAYLOAD


def thing(host: str, port: int, creds) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=creds.thing)
    client.tls_set(ca_certs=str(creds.ca), certfile=str(creds.cert), keyfile=str(creds.key))
    client.will_set(topics.WILL.format(thing=creds.thing), WILL_PAYLOAD, qos=1)
    update = topics.UPDATE.format(thing=creds.thing)

    def on_connect(c, userdata, flags, reason, properties) -> None:
        nodelay(c)
        c.subscribe(topics.DELTA.format(thing=creds.thing), qos=1)
        body = {"state": {"reported": {"connection_status": "connected", "powerState": "Off"}}}
        c.publish(update, json.dumps(body), qos=1)
        userdata["up"] += 1

    def on_message(c, userdata, msg) -> None:
        delta = json.loads(msg.payload)
        body = {"state": {"reported": delta["state"]}, "clientToken": delta.get("clientToken")}
        c.publish(update, json.dumps(body), qos=1)

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(host, port, keepalive=600)
    return client


def main() -> None:
    host, port, archives = sys.argv[1], int(sys.argv[2]), [Path(a) for a in sys.argv[3:]]
    state = {"up": 0}
    selector = selectors.DefaultSelector()
    clients = []
    with tempfile.TemporaryDirectory() as folder:
        found = [c for n, a in enumerate(archives) for c in unpack(a, Path(folder) / str(n))]
        for creds in found:
            client = thing(host, port, creds)
            client.user_data_set(state)
            selector.register(client.socket(), selectors.EVENT_READ, client)
            clients.append(client)
            client.loop_write()
    announced = False
    last_misc = time.monotonic()
    while True:
        for key, _ in selector.select(timeout=0.5):
            client = key.data
            client.loop_read(max_packets=100)
            # TLS may hold decrypted bytes that select() cannot see: read them too.
            while (sock := client.socket()) is not None and sock.pending():
                client.loop_read(max_packets=100)
            if client.want_write():
                client.loop_write()
        if time.monotonic() - last_misc > 5:
            last_misc = time.monotonic()
            for client in clients:
                client.loop_misc()
                if client.want_write():
                    client.loop_write()
        if not announced and state["up"] == len(clients):
            announced = True
            print(f"ready {len(clients)}", flush=True)


if __name__ == "__main__":
    main()
