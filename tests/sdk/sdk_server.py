"""What the SDK scripts here share: the public SDK pointed at the test server.

Only the server address differs from a real device's code: the host goes in
`server_url` as the SDK documents, and the SDK's fixed port 443 is pointed at
the test server's port (BRIDGE_TEST_PORT).
"""

import os

import sinricpro.core.websocket_client as websocket_client
from sinricpro import SinricPro, SinricProConfig

websocket_client.SINRICPRO_SERVER_SSL_PORT = int(os.environ["BRIDGE_TEST_PORT"])


async def begin(sinric: SinricPro) -> None:
    """Connect with the account's keys (BRIDGE_TEST_APP_KEY, _SECRET), then say so."""
    await sinric.begin(
        SinricProConfig(
            app_key=os.environ["BRIDGE_TEST_APP_KEY"],
            app_secret=os.environ["BRIDGE_TEST_APP_SECRET"],
            server_url="127.0.0.1",
            local_control=False,
            mdns=False,
        )
    )
    print("started", flush=True)
