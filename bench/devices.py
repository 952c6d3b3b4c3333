"""A fleet of Sinric-protocol devices on asyncio, in a process of its own.

    python bench/devices.py WS_URL APP_KEY APP_SECRET IDS_FILE

One socket per device, as real devices connect. Answers every request at
once; prints `ready N` when all are online.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bridge.transports.sinric import protocol

CONNECTING_AT_ONCE = 200


class Fleet:
    def __init__(self, url: str, app_key: str, secret: str, ids: list[str]) -> None:
        self.url, self.app_key, self.secret, self.ids = url, app_key, secret, ids
        self.gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
        self.online = 0
        self.all_online = asyncio.Event()

    async def device(self, device_id: str) -> None:
        headers = {
            "appkey": self.app_key,
            "deviceids": device_id,
            "platform": "bench",
            "SDKVersion": "0",
        }
        async with self.gate:
            ws = await websockets.connect(
                self.url,
                additional_headers=headers,
                ping_interval=None,
                compression=None,
                open_timeout=60,
            )
            await ws.recv()  # the timestamp message
        self.online += 1
        if self.online == len(self.ids):
            self.all_online.set()
        async for text in ws:
            message = protocol.parse(text)
            reply = protocol.response(message.payload, message.value)
            await ws.send(protocol.envelope(reply, self.secret))

    async def run(self) -> None:
        tasks = [asyncio.create_task(self.device(i)) for i in self.ids]
        await self.all_online.wait()
        print(f"ready {self.online}", flush=True)
        await asyncio.gather(*tasks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("app_key")
    parser.add_argument("app_secret")
    parser.add_argument("ids_file")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ids = Path(args.ids_file).read_text().split()
    asyncio.run(Fleet(args.url, args.app_key, args.app_secret, ids).run())


if __name__ == "__main__":
    main()
