"""AWS Lambda relay for an Alexa Smart Home skill: forwards each directive to the bridge.

Deploy this file alone (Python 3.11+, no dependencies) as the skill's Lambda
handler `lambda_relay.handler`, with environment variables BRIDGE_URL
(https://your-bridge.example) and BRIDGE_RELAY_SECRET (the same value as the
bridge's BRIDGE_ALEXA_RELAY_SECRET).
"""

import json
import os
import urllib.request


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
    with urllib.request.urlopen(request, timeout=7.5) as reply:
        return json.loads(reply.read())
