"""One skeleton for the adapters of webhook platforms (as Home Assistant's `smart_home`).

The platform's body parses into its Directive model; a registry keyed by the
platform's own names picks the handler; one catch site turns a platform error
or a core error into the platform's error reply, which the Directive builds
(copying its correlation token, request or message id by itself). The
skeleton records the directive's name on the journey: an adapter writes
translation, never dispatch.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Hashable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from bridge.model import BridgeError
from bridge.plugin.adapter import Adapter, VoiceReply, VoiceRequest

if TYPE_CHECKING:
    from bridge.journeys import Journey

H = TypeVar("H", bound=Callable[..., Any])
D = TypeVar("D", bound="Directive")


class PlatformError(Exception):
    """An error the platform understands, with the wire code its reply carries.

    Subclass it once per wire code (the code a class attribute) or give the
    code to one class by name (`code`, a constant of the platform's); handlers
    raise it and never build error JSON.
    """

    code: str = ""

    def __init__(self, message: str = "", code: str | None = None, **details: Any) -> None:
        super().__init__(message or code or self.code)
        if code is not None:
            self.code = code
        self.message = message
        self.details = details


class Directive:
    """A platform's directive, parsed: what picks its handler, and how to answer it.

    Subclasses carry the request's journey (a `journey` field that `parse` fills from
    `request.journey`): handlers pass it to `authenticate` and its id to each Command.
    A subclass may be a msgspec Struct (the fastest to build on the hot path) or a
    dataclass; it implements `key` and `error`."""

    __slots__ = ()

    journey: Journey | None
    """The request's journey (`request.journey`)."""

    @property
    def journey_id(self) -> str | None:
        """The journey's id, for each Command the directive makes."""
        return self.journey.id if self.journey is not None else None

    @property
    def key(self) -> Hashable:
        """The registry key: the platform's own names (a namespace and a name, an intent)."""
        raise NotImplementedError

    @property
    def journey_name(self) -> str:
        """What the journey shows as this directive's name."""
        return str(self.key)

    def error(self, exc: PlatformError) -> VoiceReply:
        """The platform's error reply to this directive (its tokens and ids copied)."""
        raise NotImplementedError


class Registry(Generic[H]):
    """Handlers by key; a key registered twice is a programming error, found at import."""

    def __init__(self) -> None:
        self._handlers: dict[Hashable, H] = {}

    def register(self, *keys: Hashable) -> Callable[[H], H]:
        """Decorate a handler of each of `keys`."""

        def decorate(handler: H) -> H:
            for key in keys:
                if key in self._handlers:
                    raise ValueError(f"a handler for {key!r} is registered already")
                self._handlers[key] = handler
            return handler

        return decorate

    def get(self, key: Hashable) -> H | None:
        """The handler of `key`, or None."""
        return self._handlers.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._handlers

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._handlers)

    def __len__(self) -> int:
        return len(self._handlers)


class WebhookAdapter(Adapter, Generic[D]):
    """An adapter of a platform that calls the bridge's webhook with directives.

    Subclasses set `handlers` (a Registry of `handler(adapter, directive, request)`
    returning the VoiceReply) and implement `parse`, `unparsed`, `unsupported` and
    `from_core`; `admit` and `verify` are optional checks.
    """

    handlers: ClassVar[Registry]
    """The platform's handlers, by the platform's own names."""

    # -- do not override below: the one path of every directive ------------

    def handle(self, request: VoiceRequest) -> VoiceReply:
        refused = self.admit(request)
        if refused is not None:
            return refused
        try:
            directive = self.parse(request)
        except PlatformError as exc:
            self.context.log.info("malformed directive: %s", exc)
            return self.unparsed(request, exc)
        if request.journey is not None:
            request.journey.named(directive.journey_name)
        handler = self.handlers.get(directive.key)
        try:
            self.verify(directive, request)
            if handler is None:
                raise self.unsupported(directive)
            return handler(self, directive, request)
        except PlatformError as exc:
            return directive.error(exc)
        except BridgeError as exc:
            return directive.error(self.from_core(exc, directive))

    # -- what a platform fills in ------------------------------------------

    def admit(self, request: VoiceRequest) -> VoiceReply | None:
        """A refusal before the body is read (a relay's secret missing), or None."""
        return None

    @abstractmethod
    def parse(self, request: VoiceRequest) -> D:
        """The body as the platform's Directive; raise a PlatformError when it is not one."""

    @abstractmethod
    def unparsed(self, request: VoiceRequest, exc: PlatformError) -> VoiceReply:
        """The error reply to a body that is no directive (echoing what it can salvage)."""

    def verify(self, directive: D, request: VoiceRequest) -> None:
        """Checks that need the parsed directive (a signature): raise a PlatformError."""
        return None

    @abstractmethod
    def unsupported(self, directive: D) -> PlatformError:
        """The error for a directive no handler is registered for."""

    @abstractmethod
    def from_core(self, exc: BridgeError, directive: D) -> PlatformError:
        """The platform's error for a core error (one table per platform)."""
