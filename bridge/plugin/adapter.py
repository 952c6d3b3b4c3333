"""The adapter contract: what the core gives a voice adapter, and what it must do.

An adapter is translation: a platform's directive to a Command, device state
to the platform's properties, core errors to the platform's error reply, a
state change to a proactive report. It never sees sockets, SQL or threads;
everything it needs comes through its AdapterContext.
"""

from __future__ import annotations

import hmac
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import orjson
import requests

from bridge import catalog
from bridge.model import BridgeError, Command, Device, Result, User
from bridge.plugin.base import Plugin, PluginContext
from bridge.plugin.coverage import Coverage
from bridge.plugin.settings import PluginSettings
from bridge.reports.messages import DeadLetter, Message, RetryLater, Sink

if TYPE_CHECKING:
    from bridge.bus.facts import Facts
    from bridge.journeys import Journey
    from bridge.runtime.service import Service
    from bridge.store.links import PlatformLinks

RELAY_HEADER = "X-Bridge-Relay-Secret"
"""The header a proxy of the owner's in front of a webhook proves itself with."""
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class VoiceRequest:
    """One webhook call, as the platform sent it."""

    body: bytes
    """The body exactly as received."""
    headers: Mapping[str, str]
    """The HTTP headers (case-insensitive)."""
    remote_addr: str | None = None
    """The caller's address, as the proxy in front reports it."""
    journey: Journey | None = None
    """The journey the call begins (its webhook hop says the directive and the account):
    pass it to `context.authenticate` and its id to each Command."""

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not."""
        return orjson.loads(self.body)


@dataclass(frozen=True)
class VoiceReply:
    """What the webhook answers: a JSON body in the platform's own format."""

    body: Any
    """The JSON body."""
    status: int = 200
    """The HTTP status."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra HTTP headers."""

    def encoded(self) -> tuple[int, list[tuple[str, str]], bytes]:
        """The reply as status, headers and JSON body."""
        body = orjson.dumps(self.body, option=orjson.OPT_NON_STR_KEYS)
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            *dict(self.headers).items(),
        ]
        return self.status, headers, body


class RelaySettings(PluginSettings, frozen=True):
    """The settings of an adapter whose webhook may sit behind the owner's relay."""

    relay_secret: str = ""
    """A secret a proxy of the owner's in front of the webhook sends in
    `X-Bridge-Relay-Secret`; calls without it are refused (empty: no relay)."""


@dataclass(kw_only=True)
class AdapterContext(PluginContext):
    """The core's services, scoped so that an adapter only reaches a user's own devices."""

    authenticate: Callable[..., User]
    """(token, journey=None): the token's user, or MissingToken / InvalidToken /
    ExpiredToken; the journey's webhook hop is then the user's."""
    devices: Callable[[User], list[Device]]
    """A user's devices (only theirs)."""
    device: Callable[[User, str], Device]
    """One of the user's devices; another's id is NoSuchDevice, as a missing one."""
    state: Callable[[Device], dict[str, dict[str, Any]]]
    """The device's shadow: each property's value and when it was sampled."""
    online: Callable[[Device], bool]
    """Whether a command could reach the device now."""
    send: Callable[[User, Command, float | None], Result]
    """(user, command, deadline): deliver and wait; raises DeviceOffline at once, DeviceTimeout,
    DeviceRefused or InvalidCommand."""
    send_pending: Callable[[User, Command, float], Result]
    """Wait up to the deadline; past it, a PENDING result and later a "late" report."""
    send_many: Callable[..., list[Result | BridgeError]]
    """(user, commands, deadline, pending=False): several devices at once."""
    http: requests.Session
    """A shared HTTP session for the platform's APIs."""
    links: PlatformLinks
    """This adapter's per-user link data (tokens, region), encrypted at rest."""
    unlink: Callable[[str], None]
    """Revoke the account link (the whole OAuth grant) an access token belongs to."""
    facts: Facts
    """Small per-user or per-device facts (pacing, a waiting directive), shared by every
    worker: never keep such a fact in the adapter's own memory."""
    report_later: Callable[[User, Message], None]
    """Queue a report for this adapter alone, through the outbox (from any process: the
    server delivers it with the usual retries). Committed when this returns."""
    stream: Callable[[str, Mapping[str, str], Callable[[str], list[str]]], Service]
    """(url, headers, handle): a WebSocket the core keeps open to a push platform, one per
    deployment; `handle(frame)` returns the frames to send back. It is a Service: return
    it from the adapter's `services()` and the supervisor runs it."""
    user: Callable[[int], User | None]
    """An account by id (a push platform's message names a device, not a token); its
    devices still come only through `device(user, id)`."""
    handled: Callable[[str], bool]
    """Whether a platform's message was handled already (see `mark_handled`)."""
    mark_handled: Callable[[str, float], None]
    """(key, ttl): a platform's message this adapter handled, kept on disk for `ttl`
    seconds; `handled(key)` says whether it was (a redelivery after a restart)."""
    rejected: Callable[..., None]
    """(detail, device_id=None, user_id=None, payload=None): record a message the
    adapter refused (malformed, unsigned) in the history."""
    received: Callable[..., None]
    """(detail, device_id, user_id, action, payload, journey=None): record a push platform's
    message the adapter took (what arrived, in what shape) in the history, on its journey."""
    pseudonym: Callable[[User], str]
    """A stable opaque id for the user on this platform (never their name): the same on
    every worker and after an unlink, different for each adapter."""
    held: Callable[[User, Device, Mapping[str, Any]], None]
    """(user, device, values by shadow name): the platform now holds these values, having
    read them (a state query's answer), for the state-accuracy check; see `learns_by_asking`."""

    def relayed(self, request: VoiceRequest) -> bool:
        """Whether the call carries the adapter's `relay_secret` (a RelaySettings field) in
        `X-Bridge-Relay-Secret`, compared in constant time; True when no secret is set."""
        secret = getattr(self.settings, "relay_secret", "")
        sent = request.headers.get(RELAY_HEADER, "")
        return not secret or hmac.compare_digest(sent.encode(), secret.encode())

    def render_each(self, items: Iterable[T], render: Callable[[T], R | None]) -> list[R]:
        """Render each item (a device in a discovery answer), leaving out any that fails.

        One device whose stored state cannot be rendered must not fail the
        answer for the whole account; it is logged and left out.
        """
        out = []
        for item in items:
            try:
                rendered = render(item)
            except Exception:
                self.log.exception("left %r out of an answer: it could not be rendered", item)
                continue
            if rendered is not None:
                out.append(rendered)
        return out

    def reported_device(self, user: User, device_id: str) -> Device:
        """The device a queued report is about; gone since, the report is a dead letter."""
        try:
            return self.device(user, device_id)
        except BridgeError:
            raise DeadLetter("the device no longer exists") from None

    def push(self, service: str, url: str, **kw: Any) -> dict[str, Any]:
        """POST a report to a platform; its JSON answer, or the report outcome to raise.

        Unreachable, throttled (429) or failing (5xx) means RetryLater; an
        answer that is not a JSON object means DeadLetter. What the object
        itself says is the adapter's to judge.
        """
        return json_answer(service, lambda: self.http.post(url, timeout=10, **kw))


def json_answer(service: str, call: Callable[[], requests.Response]) -> dict[str, Any]:
    """A platform's JSON object answer to `call()`; RetryLater when it is unreachable,
    throttled (429) or failing (5xx), DeadLetter when the answer is not a JSON object."""
    try:
        reply = call()
    except requests.RequestException as exc:
        raise RetryLater(f"{service} unreachable: {exc}") from exc
    if reply.status_code >= 500 or reply.status_code == 429:
        raise RetryLater(f"{service} answered HTTP {reply.status_code}")
    try:
        body = reply.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise DeadLetter(f"{service} answered HTTP {reply.status_code} without a JSON object")
    return body


class Adapter(Plugin, Sink):
    """Base class of every voice adapter; mounted at `/voice/<name>`. Its reports arrive
    through the Sink methods it implements."""

    context: AdapterContext
    """What the core lends this adapter."""
    aka: ClassVar[tuple[str, ...]] = ()
    """Other names of the platform (its maker, its protocol), which the core never uses."""
    targets: ClassVar[dict[str, float]] = {}
    """The platform's published quality targets, shown against the bridge's own figures:
    `success` (a ratio of commands), `p90_ms`, `answer_ms` (its hard deadline), `report_s`
    (from a change to its report)."""

    @abstractmethod
    def handle(self, request: VoiceRequest) -> VoiceReply:
        """Answer one directive, errors included, in the platform's format."""

    def internal_error(self) -> VoiceReply:
        """The platform's reply for a failure nobody foresaw (the core's last resort)."""
        return VoiceReply({"error": "internal error"}, status=500)

    def refuse(self, reason: str, status: int = 400) -> VoiceReply:
        """The platform's reply to a request refused before `handle` (broken body, wrong type).

        `status` is the HTTP status the bridge would use; platforms that want
        their errors inside a 200 envelope override it.
        """
        return VoiceReply({"error": "bad_request", "message": reason}, status=status)

    def reply_error(self, reply: VoiceReply) -> str | None:
        """The platform error a reply of this adapter carries (an error type, a code), for
        the journey of the directive; None when it says success. Must not raise.

        By default, a refusal's `error` (the body `refuse` makes); the HTTP status
        is beside it in the hop already."""
        body = reply.body if isinstance(reply.body, dict) else {}
        return str(body["error"]) if reply.status >= 400 and body.get("error") else None

    def reports_enabled(self) -> bool:
        """Whether this deployment sends the platform any report (its credentials are set);
        asked once, at start."""
        return True

    @classmethod
    def coverage(cls, type_name: str) -> Coverage | None:
        """What the platform does with a device type, cell by cell (`bridge.plugin.coverage`):
        every catalog type must have an answer; None is "not decided" and fails the docs."""
        return None

    @classmethod
    def mirrors(cls, type_name: str) -> frozenset[str]:
        """The shadow names a platform holds of a device of this type (what the state-accuracy
        check compares): by default every property of the type, where reports reach it."""
        found = cls.coverage(type_name)
        if found is None or not found.reported.supported or type_name not in catalog.TYPES:
            return frozenset()
        return frozenset(
            name for cap in catalog.TYPES[type_name].capabilities for name in cap.named_state()
        )

    def read_back(self, user: User, devices: list[Device]) -> dict[str, dict[str, Any]]:
        """What the platform holds where it differs from the device, asked of the platform
        itself, by device and shadow name; {} for a platform that cannot be read back.
        Raises RetryLater when it cannot be asked now."""
        return {}

    def read_back_rate(self) -> float:
        """Devices a minute `read_back` may ask about (within the platform's quota); 0: none."""
        return 0.0

    learns_by_asking: ClassVar[bool] = False
    """The platform takes a report as a cue and then reads the state itself: what
    it holds is what it last read (`context.held`), not what a report it took said; a read
    that never came counts as drift, and is repaired."""

    def takes_reports(self, link: dict[str, Any]) -> bool:
        """Whether a user's link, by its data, takes reports. The core stores the answer with
        the link (who hears a device is data: one query per change, no question to every
        adapter); links written before, or by the CLI, are decided when the server starts."""
        return False
