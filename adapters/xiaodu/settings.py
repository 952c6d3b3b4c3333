"""BRIDGE_XIAODU_*: the skill, where reports go and how they are signed, the deadline."""

from __future__ import annotations

from bridge.plugin import PluginSettings


class XiaoDuSettings(PluginSettings, frozen=True):
    bot_id: str = ""
    """The skill id (botId) sent with every report."""
    report_url: str = "https://xiaodu.baidu.com/saiya/smarthome"
    """Base of `changereport` and `devicesync`."""
    deadline: float = 7.0
    """Seconds to wait for the device."""
    attribute_interval: float = 60.0
    """Least seconds between two reports of one attribute."""
    private_key: str = ""
    """Sign pushes with this RSA key (headers `timestamp`, `signature`)."""
    stage: str = "release"
    """The stage named in a signed push."""
    verify_signature: bool = False
    """Verify DuerOS's `signaturecerturl`/`signature` when present."""
