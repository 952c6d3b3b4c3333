"""The topics of the AWS IoT device shadow, and the MIC conventions beside them."""

from __future__ import annotations

import re

PREFIX = "$aws/things/{thing}/shadow"
UPDATE = PREFIX + "/update"
UPDATE_ACCEPTED = UPDATE + "/accepted"
UPDATE_REJECTED = UPDATE + "/rejected"
DELTA = UPDATE + "/delta"
DOCUMENTS = UPDATE + "/documents"
GET = PREFIX + "/get"
GET_ACCEPTED = GET + "/accepted"
GET_REJECTED = GET + "/rejected"
BACKDATE = "tcxn/things/{thing}/shadow/backdate"
WILL = "tcxn/things/{thing}/shadow/update"

SUBSCRIPTIONS = [
    UPDATE.format(thing="+"),
    GET.format(thing="+"),
    BACKDATE.format(thing="+"),
    WILL.format(thing="+"),
]
"""What the bridge, as the shadow service, listens to (exact stubs, as AWS advises)."""

INBOUND = re.compile(
    r"^(?:\$aws/things/(?P<a>[0-9a-f]{24})/shadow/(?P<aws>update|get)"
    r"|tcxn/things/(?P<t>[0-9a-f]{24})/shadow/(?P<tcxn>update|backdate))$"
)


def inbound(topic: str) -> tuple[str, str] | None:
    """(thing, kind) of a topic the bridge serves: kind is update, get, will or backdate."""
    found = INBOUND.match(topic)
    if found is None:
        return None
    if found["a"]:
        return found["a"], found["aws"]
    return found["t"], ("will" if found["tcxn"] == "update" else "backdate")
