"""Commands for a device held by another worker: their form on the bus, both ways.

The requester keeps the history, the metrics and the deadline; the holder
only runs its transport's `request` and answers with the Reply (or the core
error) and what went over the wire. The holder waits the whole deadline, as
one worker would; the requester waits a little longer (`HOP_GRACE`), so the
holder's own answer (a timeout too) is what it hears, and only a holder that
died is the requester's timeout.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from bridge.model import BridgeError, Command, DeviceOffline, Outcome
from bridge.plugin import Exchange, Reply

HOP_GRACE = 0.25
"""Seconds past the deadline the requester waits for the holder's answer to arrive."""


def _errors(base: type[BridgeError] = BridgeError) -> dict[str, type[BridgeError]]:
    found = {base.code: base}
    for sub in base.__subclasses__():
        found.update(_errors(sub))
    return found


ERRORS = _errors()


def request(device_id: str, command: Command, deadline: float) -> dict[str, Any]:
    """The call to the worker holding the device; the command takes its journey along, so a
    late answer there is recorded against it."""
    return {
        "op": "request",
        "device": device_id,
        "command": asdict(command),
        "deadline": deadline,
    }


COMMAND_FIELDS = tuple(field.name for field in fields(Command))


def command_of(message: dict[str, Any]) -> Command:
    """The Command a requester sent: the fields this worker's Command has. A newer worker
    (in a rolling upgrade) may send more; they are left out, not a refused command."""
    sent = message.get("command")
    if not isinstance(sent, dict):
        raise ValueError("no command")
    return Command(**{name: sent[name] for name in COMMAND_FIELDS if name in sent})


def answer(reply: Reply | None, error: BridgeError | None, exchange: Exchange) -> dict[str, Any]:
    body: dict[str, Any] = {"sent": exchange.sent, "received": exchange.received}
    if error is not None:
        body["error"] = {"code": error.code, "message": error.message}
    elif reply is not None:
        body["reply"] = {
            "outcome": reply.outcome.value,
            "value": reply.value,
            "message": reply.message,
            "ref": reply.ref,
        }
    return body


def reply_of(body: dict[str, Any], exchange: Exchange) -> Reply:
    """The holder's answer as this worker's Reply, or the core error it carried, raised."""
    exchange.sent, exchange.received = body.get("sent"), body.get("received")
    error = body.get("error")
    if isinstance(error, dict):
        cls = ERRORS.get(str(error.get("code")), BridgeError)
        raise cls(str(error.get("message") or ""))
    reply = body.get("reply")
    if not isinstance(reply, dict):
        raise DeviceOffline("the worker holding the device could not serve it")
    return Reply(
        Outcome(reply["outcome"]),
        reply.get("value") or {},
        reply.get("message") or "",
        reply.get("ref"),
    )
