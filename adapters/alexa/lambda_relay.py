"""AWS Lambda relay for an Alexa Smart Home skill: forwards each directive to the bridge.

Deploy this file alone (Python 3.11+, no dependencies) as the skill's Lambda
handler `lambda_relay.handler`, with environment variables BRIDGE_URL
(https://your-bridge.example) and BRIDGE_RELAY_SECRET (the same value as the
bridge's BRIDGE_ALEXA_RELAY_SECRET); BRIDGE_RELAY_TIMEOUT (seconds, default
7.5) bounds the wait. When the bridge cannot be reached or does not answer
in time, Alexa still gets a valid ErrorResponse within its 8 seconds:
BRIDGE_UNREACHABLE, or ENDPOINT_UNREACHABLE on a timeout, with the
directive's correlation token, never a Lambda error.
"""

import json
import os
import socket
import urllib.error
import urllib.request
import uuid


def handler(event, context=None):
    request = urllib.request.Request(
        os.environ["BRIDGE_URL"].rstrip("/") + "/voice/alexa",
        data=json.dumps(event).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Bridge-Relay-Secret": os.environ.get("BRIDGE_RELAY_SECRET", ""),
            "X-Bridge-Aws-Region": os.environ.get("AWS_REGION", ""),
        },
        method="POST",
    )
    timeout = float(os.environ.get("BRIDGE_RELAY_TIMEOUT", "7.5"))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            answer = json.loads(reply.read())
    except TimeoutError:
        return error(event, "ENDPOINT_UNREACHABLE", "the bridge did not answer in time")
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError | socket.timeout):
            return error(event, "ENDPOINT_UNREACHABLE", "the bridge did not answer in time")
        return error(event, "BRIDGE_UNREACHABLE", "the bridge cannot be reached")
    except (OSError, ValueError):
        return error(event, "BRIDGE_UNREACHABLE", "the bridge gave no usable answer")
    if not isinstance(answer, dict) or "event" not in answer:
        return error(event, "BRIDGE_UNREACHABLE", "the bridge gave no usable answer")
    return answer


def error(event, error_type, message):
    """An Alexa.ErrorResponse for the directive, built from what it carries."""
    directive = event.get("directive") if isinstance(event, dict) else None
    directive = directive if isinstance(directive, dict) else {}
    header = directive.get("header") if isinstance(directive.get("header"), dict) else {}
    endpoint = directive.get("endpoint") if isinstance(directive.get("endpoint"), dict) else {}
    reply_header = {
        "namespace": "Alexa",
        "name": "ErrorResponse",
        "messageId": str(uuid.uuid4()),
        "payloadVersion": "3",
    }
    if isinstance(header.get("correlationToken"), str):
        reply_header["correlationToken"] = header["correlationToken"]
    body = {"header": reply_header, "payload": {"type": error_type, "message": message}}
    if isinstance(endpoint.get("endpointId"), str):
        body["endpoint"] = {"endpointId": endpoint["endpointId"]}
    return {"event": body}
