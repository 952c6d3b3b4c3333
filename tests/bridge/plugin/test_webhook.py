"""The webhook skeleton: one path for every directive, one catch site, the journey's name."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest

from bridge import journeys
from bridge.plugin import (
    Directive,
    NoSuchDevice,
    PlatformError,
    Registry,
    VoiceReply,
    VoiceRequest,
    WebhookAdapter,
)

HANDLERS: Registry = Registry()


class Refused(PlatformError):
    code = "REFUSED"


@dataclass(frozen=True)
class Asked(Directive):
    name: str
    id: str

    @property
    def key(self) -> str:
        return self.name

    def error(self, exc: PlatformError) -> VoiceReply:
        return VoiceReply({"id": self.id, "error": exc.code, "message": exc.message})


class Context:
    """What the skeleton reads of an adapter's context: the log."""

    log = logging.getLogger("tests.webhook")


class Toy(WebhookAdapter[Asked]):
    name = "toy"
    handlers = HANDLERS

    def parse(self, request: VoiceRequest) -> Asked:
        name, _, id_ = request.body.decode().partition(":")
        if not id_:
            raise Refused("no id")
        return Asked(name, id_)

    def unparsed(self, request: VoiceRequest, exc: PlatformError) -> VoiceReply:
        return VoiceReply({"error": exc.code, "message": exc.message}, status=400)

    def unsupported(self, directive: Asked) -> PlatformError:
        return Refused(f"{directive.name} is not supported")

    def from_core(self, exc, directive: Asked) -> PlatformError:
        return PlatformError(exc.message, code="CORE_" + exc.code.upper())

    @HANDLERS.register("hello", "hi")
    def _hello(self, d: Asked, request: VoiceRequest) -> VoiceReply:
        return VoiceReply({"id": d.id, "said": d.name})

    @HANDLERS.register("find")
    def _find(self, d: Asked, request: VoiceRequest) -> VoiceReply:
        raise NoSuchDevice(f"no device {d.id}")

    @HANDLERS.register("refuse")
    def _refuse(self, d: Asked, request: VoiceRequest) -> VoiceReply:
        raise Refused("not now", reason="busy")


@pytest.fixture
def toy() -> Toy:
    return Toy(Context())


def ask(toy: Toy, body: str, journey=None) -> VoiceReply:
    return toy.handle(VoiceRequest(body.encode(), {}, journey=journey))


def test_the_registry_picks_the_handler_by_the_platforms_name(toy):
    assert ask(toy, "hello:1").body == {"id": "1", "said": "hello"}
    assert ask(toy, "hi:2").body == {"id": "2", "said": "hi"}
    assert set(HANDLERS) == {"hello", "hi", "find", "refuse"} and len(HANDLERS) == 4


def test_one_catch_site_answers_in_the_platforms_format(toy):
    assert ask(toy, "nothing:3").body == {
        "id": "3",
        "error": "REFUSED",
        "message": "nothing is not supported",
    }
    assert ask(toy, "find:4").body["error"] == "CORE_NO_SUCH_DEVICE"
    refused = ask(toy, "refuse:5")
    assert refused.body == {"id": "5", "error": "REFUSED", "message": "not now"}
    broken = ask(toy, "no id here")
    assert (broken.status, broken.body["error"]) == (400, "REFUSED")


def test_a_key_registered_twice_fails_at_import():
    registry: Registry = Registry()
    registry.register("a")(lambda *a: None)
    with pytest.raises(ValueError, match="registered already"):
        registry.register("b", "a")(lambda *a: None)


def test_the_skeleton_names_the_directive_on_the_journey_it_is_given(toy):
    journey = journeys.begin()
    try:
        ask(toy, "hello:6", journey)
        assert journey.directive == "hello"
    finally:
        journey.close()
