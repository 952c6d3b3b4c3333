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
DELETE = PREFIX + "/delete"
DELETE_ACCEPTED = DELETE + "/accepted"
DELETE_REJECTED = DELETE + "/rejected"
BACKDATE = "tcxn/things/{thing}/shadow/backdate"
WILL = "tcxn/things/{thing}/shadow/update"
PRESENCE = "$aws/events/presence/+/+"
"""AWS IoT Core's lifecycle events: `.../connected/<clientId>`, `.../disconnected/<clientId>`."""
EMQX_PRESENCE = "$SYS/brokers/+/clients/+/+"
"""EMQX's client events: `$SYS/brokers/<node>/clients/<clientId>/connected|disconnected`."""

SUBSCRIPTIONS = [
    UPDATE.format(thing="+"),
    GET.format(thing="+"),
    DELETE.format(thing="+"),
    BACKDATE.format(thing="+"),
    WILL.format(thing="+"),
    PRESENCE,
    EMQX_PRESENCE,
]
"""What the bridge, as the shadow service, listens to (exact stubs, as AWS advises).
A thing's client id is its name; a broker that publishes presence (AWS IoT Core, EMQX)
tells the bridge when one connects and leaves, and Mosquitto, which does not, is heard
through the things' own messages and wills."""

INBOUND = re.compile(
    r"^(?:\$aws/things/(?P<a>[0-9a-f]{24})/shadow/(?P<aws>update|get|delete)"
    r"|tcxn/things/(?P<t>[0-9a-f]{24})/shadow/(?P<tcxn>update|backdate)"
    r"|\$aws/events/presence/(?P<p>connected|disconnected)/(?P<pt>[0-9a-f]{24})"
    r"|\$SYS/brokers/[^/]+/clients/(?P<et>[0-9a-f]{24})/(?P<e>connected|disconnected))$"
)


def inbound(topic: str) -> tuple[str, str] | None:
    """(thing, kind) of a topic the bridge serves: kind is update, get, delete, will,
    backdate, connected or disconnected (the broker's presence events)."""
    found = INBOUND.match(topic)
    if found is None:
        return None
    if found["a"]:
        return found["a"], found["aws"]
    if found["t"]:
        return found["t"], ("will" if found["tcxn"] == "update" else "backdate")
    if found["pt"]:
        return found["pt"], found["p"]
    return found["et"], found["e"]
