"""BRIDGE_TUYA_*: the cloud project, its products, the message service, the deadline."""

from __future__ import annotations

import msgspec

from bridge.plugin import PluginSettings


class TuyaSettings(PluginSettings, frozen=True):
    api_url: str = "https://openapi.tuyaus.com"
    """The region's OpenAPI base URL."""
    access_id: str = ""
    """The cloud project's Access ID."""
    access_secret: str = ""
    """The cloud project's Access Secret (calls are signed with it)."""
    product: dict[str, str] = msgspec.field(default_factory=dict)
    """The TuyaLink product id of each catalog type (`BRIDGE_TUYA_PRODUCT_LIGHT`); a type
    without one is not registered."""
    mq_url: str = ""
    """The Message Service (none: no consumer)."""
    mq_topic: str = "event"
    """`event-test` for Tuya's test channel."""
    mq_cipher: str = "ecb"
    """The cipher of a message that does not name its own (`em`)."""
    deadline: float = 8.0
    """Seconds a command from Tuya waits for the device."""
