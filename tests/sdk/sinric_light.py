"""A light built with the public Sinric Pro Python SDK, unchanged.

Only the server address differs (`sdk_server`).
Each command is printed; after the first power command the light reports a
brightness change as a physical event, the way firmware would. Like most
firmware it registers only the absolute setters: the SDK itself then refuses
adjustBrightness and increase/decreaseColorTemperature.
"""

import asyncio
import os
import sys

from sdk_server import begin
from sinricpro import SinricPro, SinricProLight


async def main() -> None:
    light = SinricProLight(os.environ["BRIDGE_TEST_DEVICE"])
    sinric = SinricPro.get_instance()

    async def on_power(state: bool) -> bool:
        print(f"power {'On' if state else 'Off'}", flush=True)
        asyncio.get_running_loop().call_later(
            0.3, lambda: asyncio.ensure_future(light.send_brightness_event(77))
        )
        return True

    async def on_brightness(value: int) -> bool:
        print(f"brightness {value}", flush=True)
        return True

    async def on_color(r: int, g: int, b: int) -> bool:
        print(f"color {r} {g} {b}", flush=True)
        return True

    async def on_color_temperature(kelvin: int) -> bool:
        print(f"colorTemperature {kelvin}", flush=True)
        return True

    light.on_power_state(on_power)
    light.on_brightness(on_brightness)
    light.on_color(on_color)
    light.on_color_temperature(on_color_temperature)
    sinric.add(light)
    await begin(sinric)
    await asyncio.sleep(float(os.environ.get("BRIDGE_TEST_SECONDS", "30")))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
