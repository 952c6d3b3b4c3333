"""BRIDGE_TMALLGENIE_*: the open platform's gateway and app, the skill, the deadline."""

from __future__ import annotations

from bridge.plugin import PluginSettings


class GenieSettings(PluginSettings, frozen=True):
    gateway_url: str = "https://eco.taobao.com/router/rest"
    """The open platform's REST gateway."""
    app_key: str = ""
    """The TOP app's key."""
    app_secret: str = ""
    """The TOP app's secret (requests are signed with it)."""
    skill_id: str = ""
    """The skill id sent with every push."""
    deadline: float = 1.8
    """Seconds to wait for the device before answering "accepted"."""
    brand: str = "VoiceBridge"
    """The brand shown in discovery."""
    icon: str = "https://voice-bridge.invalid/icon.png"
    """The icon shown in discovery."""
