"""The bridge assembled: one object per process holding the core's services."""

from __future__ import annotations

import atexit
import functools
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from typing import Any

import requests

from bridge import journeys
from bridge.bus import open_bus
from bridge.bus.facts import Facts
from bridge.devices import DeviceService
from bridge.devices.events import EventIntake
from bridge.devices.limits import EventLimiter
from bridge.households.service import Households
from bridge.http import webhooks
from bridge.http.live import Notifier, Streams
from bridge.journeys import explain
from bridge.model import Device, Throttled, User
from bridge.plugin import Adapter, AdapterContext, TransportContext
from bridge.plugin import settings as plugin_settings
from bridge.reports.accuracy import Accuracy
from bridge.reports.alerts import SINK, AlertChecker, AlertWebhook
from bridge.reports.delivery import Reporter, announce
from bridge.runtime.budgets import Budgets
from bridge.runtime.loops import (
    AccuracyCheck,
    AlertCheck,
    Checkpoints,
    Housekeeping,
    ReportDelivery,
    StoreSync,
)
from bridge.runtime.metrics import Metrics
from bridge.runtime.service import Supervisor
from bridge.runtime.streams import Stream
from bridge.store import Store
from bridge.store.messages import Entry, rejection
from bridge.store.secrets import Vault, derive_key
from bridge.transports.registry import Transports
from bridge.transports.waiters import Waiters
from config.settings import Settings

log = logging.getLogger(__name__)


class Bridge:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bus = open_bus(
            settings.redis_url, prefix=settings.redis_prefix, hold_ttl=settings.hold_ttl
        )
        self.store = Store(settings.database, Vault(settings.secret_key))
        self.store.messages.sampler.kept = settings.refusals_kept
        self.store.plugin_tables()  # every plugin's migrations before the first request
        if self.bus.shared:
            self.store.share(self.bus)
        self.adapters: dict[str, Adapter] = {}
        self.metrics = Metrics(lambda: self.transports.connected(), self.store.outbox.pending)
        self.budgets = Budgets(self.bus)
        self.metrics.budgets(self.budgets)
        self.metrics.refusals(self.store.messages.sampler)
        self.reporter = Reporter(
            self.store,
            lambda: self.adapters,
            settings.report_retry_base,
            settings.report_max_attempts,
            self.metrics,
            settings.report_retry_max,
            self.bus,
        )
        self.events = EventIntake(
            self.store,
            self.reporter,
            EventLimiter(self.bus, settings.state_event_interval, settings.sensor_event_interval),
        )
        self.waiters = Waiters()
        context = TransportContext(
            name="",
            settings=None,
            bridge=settings.for_plugins(),
            log=logging.getLogger("bridge.transports"),
            store=self.store,
            events=self.events,
            waiters=self.waiters,
            bus=self.bus,
            budgets=self.budgets,
        )
        self.transports = Transports.load(context, settings.plugin_settings)
        self.devices = DeviceService(
            self.store,
            self.transports,
            self.reporter,
            settings.device_timeout,
            self.metrics,
            self.bus.worker if self.bus.shared else "",  # one worker: the transport says it all
            self.budgets.budget(
                "device commands", settings.command_rate, settings.command_burst, "commands", True
            ),
        )
        self.reporter.audience = self.devices.access.audience  # households hear their devices
        self.households = Households(
            self.store,
            lambda user_id, device_id, change: announce(
                self.store, user_id, device_id, change, personal=True
            ),
        )
        for transport in self.transports.by_name.values():
            transport.context.finished = self.devices.finished
        self.http = requests.Session()
        self._pseudonym_key = derive_key(settings.secret_key, "platform-pseudonyms")
        self.api_budget = self.budgets.budget(
            "api requests", settings.api_rate, settings.api_burst, shared=True
        )
        self.directives = self.budgets.budget(
            "directives", settings.directive_rate, settings.directive_burst, "directives", True
        )
        for name, cls in webhooks.discover(settings.adapters).items():
            adapter = self.adapters[name] = cls(self._context(name, cls))
            links = self.store.links(name)
            links.takes_reports = adapter.takes_reports
            links.decide()  # links the CLI wrote, or written before links said so
        self.alerts = AlertChecker(
            self.store,
            self.devices.online,
            lambda: self.adapters,
            self.reporter,
            settings.alert_offline_after,
            settings.alert_dead_letters,
            send=bool(settings.alert_webhook_url),
            accuracy_after=settings.accuracy_alert_after,
        )
        if settings.alert_webhook_url:
            self.reporter.sinks[SINK] = AlertWebhook(
                settings.alert_webhook_url, settings.alert_webhook_secret, self.http
            )
        self.metrics.accuracy(self.store.beliefs.latest)
        self.accuracy = Accuracy(
            self.store,
            lambda: self.adapters,
            self.reporter.reporting,
            settings.accuracy_grace,
            settings.accuracy_every,
            wake=self.reporter.wake.set,
            repaired=self.metrics.repaired,
        )
        self.notifier = Notifier()
        self.streams = Streams(
            self.notifier,
            self.history,
            self.bus,
            settings.streams_per_account,
            settings.streams_per_worker,
        )
        self.bus.subscribe("history", lambda notice: self.notifier.notify(notice["users"]))
        self._started = False
        self.supervisor = Supervisor(
            [
                *self.bus.services(),
                StoreSync(self.store, self.bus, self.notifier),
                Checkpoints(self.store),
                ReportDelivery(self.reporter),
                Housekeeping(self.store, settings.history_days, self.households.expire),
                AlertCheck(self.alerts, self.bus, settings.alert_interval),
                AccuracyCheck(self.accuracy, self.bus),
            ]
        )
        for plugin in [*self.transports.by_name.values(), *self.adapters.values()]:
            self.supervisor.services += plugin.services()
        self.metrics.services(self.supervisor.services)

    def _context(self, name: str, cls: type[Adapter]) -> AdapterContext:
        def device(user: User, device_id: str) -> Device:
            return self.devices.get(user, device_id)

        return AdapterContext(
            name=name,
            settings=plugin_settings.load(cls.settings_model, name, self.settings.plugin_settings),
            bridge=self.settings.for_plugins(),
            authenticate=functools.partial(self._authenticate, adapter=name),
            devices=self.devices.list,
            device=device,
            state=self.devices.state,
            online=self.devices.online,
            send=self.devices.send,
            send_pending=self.devices.send_pending,
            send_many=self.devices.send_many,
            http=self.http,
            log=logging.getLogger(f"adapters.{name}"),
            budgets=self.budgets,
            links=self.store.links(name),
            unlink=functools.partial(self.unlink, adapter=name),
            facts=Facts(self.bus, name),
            report_later=functools.partial(self.reporter.publish, only=name),
            stream=lambda url, headers, handle: Stream(name, url, headers, handle, self.bus),
            user=self.store.users.by_id,
            handled=functools.partial(self.store.handled.seen, name),
            mark_handled=functools.partial(self.store.handled.mark, name),
            rejected=self._rejected,
            received=functools.partial(self._received, adapter=name),
            pseudonym=functools.partial(self._pseudonym, adapter=name),
            held=functools.partial(self._held, adapter=name),
        )

    def _held(self, user: User, device: Device, values: Mapping[str, Any], adapter: str) -> None:
        """A platform read these values: it holds them (written behind, on its query's path)."""
        held = self.reporter.mirrored(adapter, device.type)
        told = {n: v for n, v in values.items() if n in held}
        if told:
            self.store.beliefs.told(
                adapter, user.id, device.id, told, time.time(), source="read", behind=True
            )

    def history(self, user_id: int, **query: Any) -> list[dict[str, Any]]:
        """A person's history page (`messages.page`): their account's rows, and the
        commands they sent to their households' devices (rows of the owners' history)."""
        belongs = self.store.households.belongs(user_id)
        return self.store.messages.page(user_id, sent_too=belongs, **query)

    def journey(self, user_id: int, journey: str, device_ids: list[str] | None = None) -> dict:
        """A journey's hops in order and the sentence that explains it, from the user's
        history (only of `device_ids` and of no device, when given: an API key's scope)."""
        rows = self.history(user_id, journey=journey, limit=500, device_ids=device_ids)
        rows.reverse()
        platforms = {
            name: explain.Platform(adapter.title or name, getattr(adapter, "deadline", None))
            for name, adapter in self.adapters.items()
        }
        return explain.journey(
            journey,
            rows,
            self.store.outbox.of_journey(user_id, journey),
            platforms,
            self.store.messages.connection_before,
        )

    def _authenticate(
        self, token: str | None, journey: journeys.Journey | None = None, *, adapter: str
    ) -> User:
        """The token's user (for this adapter only); the journey being served is theirs."""
        user = self.store.tokens.resolve(token, adapter=adapter)
        if journey is not None:
            journey.served(user.id)
        key, journey_id = f"{adapter}:{user.id}", journey.id if journey is not None else None
        try:
            self.devices.spend(self.directives, key, user, "for this account", journey=journey_id)
        except Throttled as exc:
            if journey is not None and not exc.first:
                journey.counted = True  # its webhook row is not written: it is counted
            raise
        return user

    def _pseudonym(self, user: User, adapter: str) -> str:
        """HMAC of the user's id under a key derived from the secret key: stable, opaque."""
        digest = hmac.new(self._pseudonym_key, f"{adapter}:{user.id}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]

    def _rejected(
        self, detail: str, device_id: str | None = None, user_id: int | None = None, payload=None
    ) -> None:
        self.store.messages.record(rejection(device_id, user_id, detail, payload=payload))

    def _received(
        self,
        detail: str,
        device_id: str,
        user_id: int,
        action: str,
        payload: Any,
        journey: str | None = None,
        *,
        adapter: str,
    ) -> None:
        entry = Entry(
            "in", "webhook", "ok", device_id, user_id, action, origin=adapter, detail=detail
        )
        entry.payload, entry.journey = payload, journey
        self.store.messages.record(entry)

    def unlink(self, access_token: str, adapter: str) -> None:
        """Revoke the OAuth grant behind an access token (a platform said the user unlinked).

        Only a token issued for that platform: no platform ends another's link.
        """
        row = self.store.tokens.lookup(access_token, adapter)
        if row is None:
            return
        if row["grant_id"]:
            self.store.revoke_grant(row["grant_id"])
        else:
            self.store.tokens.forget([row["token_hash"]])

    def start_background(self) -> None:
        """Start the server process's services: the bus, the plugins, then the core's
        loops under the supervisor (stopped in reverse at exit)."""
        if self._started:
            return
        self._started = True
        self.store.serve()
        atexit.register(self.store.writer.flush)
        self.bus.start()
        atexit.register(self.bus.stop)
        self.supervisor.start()
        atexit.register(self.supervisor.stop, self.settings.graceful_timeout)
        for plugin in [*self.transports.by_name.values(), *self.adapters.values()]:
            plugin.start()
            atexit.register(plugin.stop)
