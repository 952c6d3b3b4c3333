"""Fixtures of the core's tests."""

import pytest
import websocket


@pytest.fixture
def raw(server):
    """Open a bare WebSocket with Sinric's connect headers."""
    opened = []

    def open_socket(app_key: str, device_ids: list[str], path: str = "/"):
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{server.port}{path}",
            header={
                "appkey": app_key,
                "deviceids": ";".join(device_ids),
                "platform": "test",
                "SDKVersion": "0.0.1",
            },
            timeout=5,
        )
        opened.append(ws)
        return ws

    yield open_socket
    for ws in opened:
        ws.close()
