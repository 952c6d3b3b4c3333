"""BRIDGE_ALEXA_*: the skill's messaging credentials, endpoints and deadlines."""

from __future__ import annotations

from bridge.plugin import RelaySettings


class AlexaSettings(RelaySettings, frozen=True):
    client_id: str = ""
    """The skill's messaging client id (Send Alexa Events)."""
    client_secret: str = ""
    """The skill's messaging client secret."""
    lwa_url: str = "https://api.amazon.com/auth/o2/token"
    """Login with Amazon's token endpoint."""
    gateway_url: str = ""
    """Overrides the user's regional Event Gateway URL."""
    deadline: float = 7.0
    """Seconds to wait for the device before answering unreachable."""
    deferred_types: tuple[str, ...] = ("lock",)
    """Device types whose socket devices may take longer than the deadline (a
    DeferredResponse, then the Response when the device answers)."""
    deferral: float = 300.0
    """`estimatedDeferralInSeconds` of a DeferredResponse."""
