"""Journey ids, and the one row a webhook and the request it made share."""

import io
import os

import gevent
import pytest

from bridge import journeys
from bridge.http.webhooks import Webhooks
from bridge.plugin import Adapter, VoiceReply, VoiceRequest
from bridge.store.messages import Entry


def _request(journey: str | None) -> Entry:
    return Entry("out", "request", "ok", "d1", 1, "setPowerState", journey=journey)


def test_ids_grow_and_never_repeat():
    made = [journeys.new() for _ in range(20_000)]  # many within one millisecond
    assert len(set(made)) == len(made)
    assert made == sorted(made)  # the index takes each at its right edge
    assert len({len(i) for i in made}) == 1


def test_a_forked_worker_draws_a_tag_of_its_own():
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        os.write(write, journeys.new().encode())
        os._exit(0)
    os.waitpid(child, 0)
    theirs = os.read(read, 64).decode()
    assert theirs[-6:] != journeys.new()[-6:]


@pytest.fixture
def served():
    """A webhook being served."""
    journey = journeys.begin()
    yield journey
    journey.close()


def test_the_first_request_rides_the_webhooks_row(served):
    first, second = _request(served.id), _request(served.id)
    assert journeys.hold(first) and first.at > 0  # it keeps the time of its answer
    assert not journeys.hold(second)  # written on its own
    assert served.close() is first and served.close() is None


def test_nothing_is_held_after_the_reply_or_for_another_journey(served):
    assert not journeys.hold(_request("another"))
    served.close()
    assert not journeys.hold(_request(served.id))  # a pending command's late end


def test_a_request_holds_by_the_id_it_carries_in_any_greenlet(served):
    entry = _request(served.id)
    spawned = gevent.spawn(journeys.hold, entry)  # nothing rides the greenlet: the id does
    assert spawned.get(timeout=1) is True and served.close() is entry
    # an id no webhook here is serving (a command forwarded from another worker) holds nothing
    assert not journeys.hold(_request("abc"))


def test_no_journey_no_hold():
    assert not journeys.hold(_request(None))


class _Commanding(Adapter):
    """Makes one device request per call (its row held), then replies or is killed."""

    name = "commanding"

    def __init__(self, killed: bool = False) -> None:
        self.killed = killed

    def handle(self, request: VoiceRequest) -> VoiceReply:
        request.journey.named("TurnOn")
        assert journeys.hold(_request(request.journey.id))
        if self.killed:
            raise gevent.GreenletExit
        return VoiceReply({"error": "busy"}, status=503)


def _call(webhooks: Webhooks) -> None:
    environ = {
        "PATH_INFO": "/voice/commanding",
        "REQUEST_METHOD": "POST",
        "wsgi.input": io.BytesIO(b"{}"),
    }
    webhooks(environ, lambda status, headers: None)


@pytest.mark.parametrize("killed", [False, True])
def test_the_webhook_writes_the_row_it_holds(killed):
    recorded: list[Entry] = []
    webhooks = Webhooks(lambda e, s: [], {"commanding": _Commanding(killed)}, recorded.append)
    if killed:
        with pytest.raises(gevent.GreenletExit):
            _call(webhooks)
    else:
        _call(webhooks)
    [row] = recorded  # one row: the request, with the webhook's hop on it
    assert row.kind == "request" and row.journey
    if killed:  # no reply went out: the request alone
        assert row.reply is None
    else:
        assert (row.directive, row.reply) == ("TurnOn", "HTTP 503 busy")
        assert row.received_at <= row.at and row.served_ms >= 0
    assert not journeys.hold(_request(row.journey))  # closed, killed or not


def test_a_hop_is_worded_once_for_the_console_and_the_cli():
    from bridge.journeys.explain import shown

    hop = {
        "at": 1.0,
        "hop": "device request sent",
        "platform": "alexa",
        "device_id": "d1",
        "action": "setPowerState",
        "outcome": "ok",
        "detail": None,
        "via": "sinric",
        "member": 7,
        "after_ms": None,
    }
    one = shown(hop, {"d1": "Hall light"}, {7: "ben"})
    assert (one["after"], one["who"], one["what"]) == (
        "start",
        "Hall light",
        "setPowerState via sinric by ben",
    )
    assert shown({**hop, "after_ms": 12.4, "device_id": None, "member": None}, {})["who"] == "alexa"
