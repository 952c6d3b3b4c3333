"""A fleet of Sinric-protocol devices on asyncio, in a process of its own.

    python bench/devices.py WS_URL APP_KEY APP_SECRET IDS_FILE [--at-once N]

One socket per device, as real devices connect (at most N connecting at
once). Answers every request at once; a refused upgrade is tried again
after its Retry-After (or a second), as the SDKs do; prints `ready N` when
all are online, with the seconds that took.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from pathlib import Path

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bridge.transports.sinric import protocol

CONNECTING_AT_ONCE = 200


class Fleet:
    def __init__(self, url: str, app_key: str, secret: str, ids: list[str], at_once: int) -> None:
        self.url, self.app_key, self.secret, self.ids = url, app_key, secret, ids
        self.gate = asyncio.Semaphore(at_once)
        self.refused = 0
        self.online = 0
        self.all_online = asyncio.Event()

    async def device(self, device_id: str) -> None:
        headers = {
            "appkey": self.app_key,
            "deviceids": device_id,
            "platform": "bench",
            "SDKVersion": "0",
        }
        while True:
            try:
                async with self.gate:
                    ws = await websockets.connect(
                        self.url,
                        additional_headers=headers,
                        ping_interval=None,
                        compression=None,
                        open_timeout=60,
                    )
                    await ws.recv()  # the timestamp message
                break
            except InvalidStatus as exc:  # refused: come back when told
                self.refused += 1
                await asyncio.sleep(float(exc.response.headers.get("Retry-After", 1)))
            except (ConnectionClosed, OSError):  # closed at once (its old socket lives)
                self.refused += 1
                await asyncio.sleep(1)
        self.online += 1
        if self.online == len(self.ids):
            self.all_online.set()
        async for text in ws:
            message = protocol.parse(text)
            reply = protocol.response(message.payload, message.value)
            await ws.send(protocol.envelope(reply, self.secret))

    async def run(self) -> None:
        began = time.monotonic()
        tasks = [asyncio.create_task(self.device(i)) for i in self.ids]
        await self.all_online.wait()
        took = time.monotonic() - began
        print(f"ready {self.online} {took:.2f} {self.refused}", flush=True)
        await asyncio.gather(*tasks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("app_key")
    parser.add_argument("app_secret")
    parser.add_argument("ids_file")
    parser.add_argument("--at-once", type=int, default=CONNECTING_AT_ONCE)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ids = Path(args.ids_file).read_text().split()
    asyncio.run(Fleet(args.url, args.app_key, args.app_secret, ids, args.at_once).run())


if __name__ == "__main__":
    main()
