"""The typed boundary on the hot path: msgspec (what the bridge uses) against pydantic v2.

    python bench/boundary.py [--rounds 5] [--n 20000]

Times, per message, the two parses every command pays: the Alexa directive
a webhook receives and the signed device response it waits for. Each is
parsed (a) as before the boundary, orjson into dicts; (b) the bridge's way,
jiter (duplicate keys refused) and msgspec models; (c) pydantic v2 models
from JSON; (d) jiter and then pydantic. Rounds alternate; medians print with
ratios to (a) from the same run. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
import pydantic
from pydantic import BaseModel, ConfigDict, Field

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from adapters.alexa.directive import Directive  # noqa: E402
from bridge import boundary, protocol  # noqa: E402

SECRET = "s" * 73
DIRECTIVE = orjson.dumps(
    {
        "directive": {
            "header": {
                "namespace": "Alexa.BrightnessController",
                "name": "SetBrightness",
                "payloadVersion": "3",
                "messageId": "1bd5d003-31b9-476f-ad03-71d471922820",
                "correlationToken": "dFMb0z+PgpgdDmluhJ1LddFvSqZ/jCc8ptlAKulUj90jSqg==",
            },
            "endpoint": {
                "scope": {"type": "BearerToken", "token": "access-token-from-skill"},
                "endpointId": "0a1b2c3d4e5f60718293a4b5",
                "cookie": {},
            },
            "payload": {"brightness": 75},
        }
    }
)
RESPONSE = protocol.envelope(
    protocol.response(
        protocol.request("0a1b2c3d4e5f60718293a4b5", "setBrightness", {"brightness": 75}),
        {"brightness": 75},
    ),
    SECRET,
)

Text = Annotated[str, Field(max_length=256)]
Num = Annotated[float, Field(ge=-1e9, le=1e9, allow_inf_nan=False)]


class PScope(BaseModel):
    type: Text = ""
    token: Annotated[str, Field(max_length=2048)] | None = None


class PHeader(BaseModel):
    namespace: Text
    name: Text
    payloadVersion: Text
    messageId: Text = ""
    correlationToken: Annotated[str, Field(max_length=2048)] | None = None
    instance: Text | None = None


class PEndpoint(BaseModel):
    endpointId: Text | None = None
    scope: PScope | None = None


class PPayload(BaseModel):
    brightness: Num | None = None
    brightnessDelta: Num | None = None
    percentage: Num | None = None
    colorTemperatureInKelvin: Num | None = None
    rangeValue: Num | None = None
    mode: Text | None = None
    scope: PScope | None = None


class PBody(BaseModel):
    header: PHeader
    endpoint: PEndpoint | None = None
    payload: PPayload = PPayload()


class PEnvelope(BaseModel):
    directive: PBody


class PDevicePayload(BaseModel):
    type: Literal["request", "response", "event"]
    deviceId: Annotated[str, Field(max_length=128)]
    action: Annotated[str, Field(max_length=128)]
    createdAt: Annotated[float, Field(ge=0, le=1e14)]
    replyToken: Annotated[str, Field(max_length=128)] = ""
    value: dict[str, Any] = {}
    clientId: Annotated[str, Field(max_length=128)] = ""
    message: Annotated[str, Field(max_length=1024)] = ""
    success: bool | None = None


class PSignature(BaseModel):
    HMAC: Annotated[str, Field(min_length=1, max_length=128)]


class PDeviceEnvelope(BaseModel):
    model_config = ConfigDict(extra="forbid")
    header: dict[str, Any] = {}
    payload: dict[str, Any]
    signature: PSignature


def dicts_directive() -> Any:
    doc = orjson.loads(DIRECTIVE)
    header = doc["directive"]["header"]
    return header["namespace"], doc["directive"]["payload"].get("brightness")


def msgspec_directive() -> Any:
    return Directive.from_doc(boundary.loads(DIRECTIVE))


def pydantic_directive() -> Any:
    return PEnvelope.model_validate_json(DIRECTIVE)


def jiter_pydantic_directive() -> Any:
    return PEnvelope.model_validate(boundary.loads(DIRECTIVE))


def dicts_response() -> Any:
    doc = orjson.loads(RESPONSE)
    sliced = protocol.signed_text(RESPONSE)
    protocol._same(protocol.hmac_b64(SECRET, sliced), doc["signature"]["HMAC"])
    return doc["payload"]


def msgspec_response() -> Any:
    return protocol.read(RESPONSE, SECRET)


def pydantic_response() -> Any:
    envelope = PDeviceEnvelope.model_validate_json(RESPONSE)
    sliced = protocol.signed_text(RESPONSE)
    protocol._same(protocol.hmac_b64(SECRET, sliced), envelope.signature.HMAC)
    return PDevicePayload.model_validate_json(sliced)


def jiter_pydantic_response() -> Any:
    doc = boundary.loads(RESPONSE)
    envelope = PDeviceEnvelope.model_validate(doc)
    sliced = protocol.signed_text(RESPONSE)
    protocol._same(protocol.hmac_b64(SECRET, sliced), envelope.signature.HMAC)
    signed = boundary.loads(sliced)
    return PDevicePayload.model_validate(signed)


CASES = {
    "Alexa directive": {
        "orjson dicts (before)": dicts_directive,
        "jiter + msgspec (bridge)": msgspec_directive,
        "pydantic from JSON": pydantic_directive,
        "jiter + pydantic": jiter_pydantic_directive,
    },
    "device response": {
        "orjson dicts (before)": dicts_response,
        "jiter + msgspec (bridge)": msgspec_response,
        "pydantic from JSON": pydantic_response,
        "jiter + pydantic": jiter_pydantic_response,
    },
}


def per_call_us(fn: Any, n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=20000)
    args = parser.parse_args()
    print(f"pydantic {pydantic.VERSION}; {args.rounds} alternating rounds of {args.n} parses")
    for case, ways in CASES.items():
        for fn in ways.values():
            fn()  # warm up, and fail loudly if a way cannot parse the sample
        samples: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, fn in ways.items():
                samples[name].append(per_call_us(fn, args.n))
        base = statistics.median(samples["orjson dicts (before)"])
        print(f"\n{case} ({len(DIRECTIVE if case.startswith('Alexa') else RESPONSE)} bytes)")
        for name, values in samples.items():
            median = statistics.median(values)
            print(f"  {name:<26} {median:7.2f} us   {median / base:5.2f}x the dict parse")


if __name__ == "__main__":
    main()
