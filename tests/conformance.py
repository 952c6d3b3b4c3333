"""The external conformance set (Amazon's published schema and samples), when it is there.

The project's own tests pass on a plain clone: their golden files live in
tests/golden. Amazon's schema is not ours to ship, so events are checked
against it when BRIDGE_CONFORMANCE_DIR (default ../shared/conformance beside
the repository) exists; CI requires it (tests/test_conformance.py and .ci/run).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = Path(os.environ.get("BRIDGE_CONFORMANCE_DIR") or ROOT.parent / "shared" / "conformance")
ALEXA_SCHEMA = DIRECTORY / "alexa" / "alexa_smart_home_message_schema.json"


def alexa_schema() -> dict | None:
    """Amazon's Smart Home message schema, or None without the conformance set."""
    return json.loads(ALEXA_SCHEMA.read_text()) if ALEXA_SCHEMA.exists() else None
