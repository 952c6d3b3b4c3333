"""A garage door and a power meter built with the public Sinric Pro Python SDK, unchanged.

The door prints each mode it is asked for and answers it; the meter sends one
reading as soon as it is connected (voltage and current; the SDK works out the
power and, from the second reading on, the energy since the one before).
"""

import asyncio
import os
import sys

from sdk_server import begin
from sinricpro import SinricPro, SinricProGarageDoor, SinricProPowerSensor


async def main() -> None:
    door = SinricProGarageDoor(os.environ["BRIDGE_TEST_DOOR"])
    meter = SinricProPowerSensor(os.environ["BRIDGE_TEST_METER"])
    sinric = SinricPro.get_instance()

    async def on_mode(mode: str, instance: str) -> bool:
        print(f"mode {mode} instance {instance!r}", flush=True)
        return True

    door.on_mode_state(on_mode)
    sinric.add(door)
    sinric.add(meter)
    await begin(sinric)
    while not sinric.is_connected():
        await asyncio.sleep(0.1)
    sent = await meter.send_power_sensor_event(voltage=230.0, current=0.5)
    print(f"reading sent {sent}", flush=True)
    await asyncio.sleep(float(os.environ.get("BRIDGE_TEST_SECONDS", "30")))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
