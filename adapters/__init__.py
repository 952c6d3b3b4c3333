"""Voice platform adapters: one package per platform, loaded by entry point.

The plugin author's whole API is re-exported here.
"""

from adapters.base import (
    Adapter,
    AdapterContext,
    DeadLetter,
    LinkRevoked,
    RetryLater,
    VoiceReply,
    VoiceRequest,
)

__all__ = [
    "Adapter",
    "AdapterContext",
    "DeadLetter",
    "LinkRevoked",
    "RetryLater",
    "VoiceReply",
    "VoiceRequest",
]
