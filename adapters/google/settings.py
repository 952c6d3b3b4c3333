"""BRIDGE_GOOGLE_*: HomeGraph's credentials and pace, the EXECUTE deadline, unlocking."""

from __future__ import annotations

from bridge.plugin import RelaySettings


class GoogleSettings(RelaySettings, frozen=True):
    service_account: str = ""
    """Path of the service account's JSON key (none: no Report State)."""
    homegraph_url: str = "https://homegraph.googleapis.com"
    """HomeGraph's base URL (the token endpoint is the key file's `token_uri`)."""
    quota: float = 6000.0
    """HomeGraph calls a minute for the whole deployment."""
    readback: float = 60.0
    """Devices a minute whose state is read back from HomeGraph (`devices.query`) to find
    a report it took and lost; its calls count against `quota`."""
    sync_interval: float = 10.0
    """Least seconds between two Request Syncs of one user."""
    deadline: float = 7.0
    """Seconds EXECUTE waits for a device before answering PENDING."""
    unlock_challenge: str = "ack"
    """`ack`, `pin` or `none`: what unlocking, and opening a garage door or a gate, asks
    for."""
    unlock_pin: str = ""
    """The PIN for `pin`."""
