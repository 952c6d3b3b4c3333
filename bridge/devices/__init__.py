"""Send-and-wait for one user's device: the path every command takes.

Voice adapters, the admin endpoint and (later) the integrators' API all come
through here, so scoping, validation, history, shadow and reports happen
the same way whoever asked.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import gevent

from bridge import catalog, journeys
from bridge.households.access import Access
from bridge.model import (
    BridgeError,
    Command,
    Device,
    DeviceOffline,
    DeviceRefused,
    Exchange,
    Outcome,
    Reply,
    Result,
    Throttled,
    User,
)
from bridge.reports.delivery import Reporter
from bridge.reports.messages import LateResult, StateReport
from bridge.runtime.budgets import Budget
from bridge.runtime.metrics import Metrics
from bridge.store import Store
from bridge.store.messages import Entry, rejection
from bridge.transports.registry import Transports

APP_ORIGINS = {"api", "cli", "admin", "bridge"}
HISTORY_OUTCOME = {Outcome.ANSWERED: "ok", Outcome.REFUSED: "refused", Outcome.PENDING: "pending"}


class DeviceService:
    def __init__(
        self,
        store: Store,
        transports: Transports,
        reporter: Reporter,
        max_deadline: float,
        metrics: Metrics | None = None,
        worker: str = "",
        commands: Budget | None = None,
    ) -> None:
        self.store = store
        self.transports = transports
        self.reporter = reporter
        self.max_deadline = max_deadline
        self.metrics = metrics
        self.worker = worker
        """The worker's id when there are several (a request's `via` names it), else ""."""
        self.commands = commands
        """Commands a device takes a second, from every caller together."""
        self.access = Access(store)
        """Who reaches which device (households): asked by every lookup below."""

    def list(self, user: User) -> list[Device]:
        """Every device the person reaches (their own and their households')."""
        return self.access.devices(user)

    def get(self, user: User, device_id: str) -> Device:
        """A device the person reaches; any other is answered as missing."""
        return self.access.device(user, device_id)

    def online(self, device: Device) -> bool:
        return self.transports.online(device)

    def state(self, device: Device) -> dict[str, dict[str, Any]]:
        return self.store.shadow.get(device.id)

    def send_pending(self, user: User, command: Command, deadline: float) -> Result:
        """Wait at most `deadline` for the answer, but let the request run its full course.

        For platforms that give up sooner than devices answer: past the deadline
        this returns a PENDING result, and when the device does answer (or the
        bridge's own device timeout passes) the command's origin gets a "late"
        report with the outcome. Errors before the deadline raise as in `send`.
        """
        running = gevent.spawn(self._attempt, user, command)
        try:
            outcome = running.get(timeout=deadline)
        except gevent.Timeout:
            running.link_value(lambda done: self._late(user, command, done.value))
            return Result(command, Outcome.PENDING, {}, "pending", deadline * 1000)
        if isinstance(outcome, BridgeError):
            raise outcome
        return outcome

    def _attempt(self, user: User, command: Command) -> Result | BridgeError:
        """`send` for a greenlet: a core error is a value, not a greenlet that died."""
        try:
            return self.send(user, command, None)
        except BridgeError as exc:
            return exc

    def finished(self, user: User, command: Command, done: dict[str, Any] | BridgeError) -> None:
        """A command a transport accepted as pending has ended (the device's value, or why not).

        The state goes into the shadow and to the other platforms as for any
        answer; the platform that asked hears the outcome as a "late" report.
        """
        failed = isinstance(done, BridgeError)
        self.store.messages.record(  # the device answer of the journey, at last
            Entry(
                "in",
                "response",
                done.code if failed else "ok",
                command.device_id,
                user.id,
                command.action,
                origin=command.origin,
                detail=done.message if failed else None,
                journey=command.journey,
            )
        )
        if failed:
            self._late(user, command, done)
            return
        device = self.store.devices.get(command.device_id)
        if device is not None:
            self._apply(user, device, command, done, command.journey)
        self._late(user, command, Result(command, Outcome.ANSWERED, done, "", 0.0))

    def _late(self, user: User, command: Command, done: Result | BridgeError) -> None:
        if isinstance(done, Result):
            outcome, message, value = "ok", done.message, done.value
        else:
            outcome, message, value = done.code, str(done), {}
        late = LateResult(
            user_id=user.id,
            device_id=command.device_id,
            command=command.action,
            outcome=outcome,
            detail=message,
            value=value,
            instance_id=command.instance_id,
            reply_to=command.reply_to,
            origin=command.origin,
            properties=self.store.shadow.values(command.device_id),
            at=time.time(),
            journey=command.journey,
        )
        self.reporter.publish(user, late, only=command.origin)

    def send_many(
        self,
        user: User,
        commands: list[Command],
        deadline: float | None = None,
        pending: bool = False,
    ) -> list[Result | BridgeError]:
        """Several commands at once (one directive, several devices): a result or error each."""

        def one(command: Command) -> Result | BridgeError:
            try:
                if pending and deadline:
                    return self.send_pending(user, command, deadline)
                return self.send(user, command, deadline)
            except BridgeError as exc:
                return exc

        if len(commands) == 1:  # the usual case: no greenlet to spawn and join
            return [one(commands[0])]
        running = [gevent.spawn(one, command) for command in commands]
        gevent.joinall(running)
        return [done.get() for done in running]  # in the order asked, not of completion

    def send(self, user: User, command: Command, deadline: float | None = None) -> Result:
        """Deliver a command and wait for the answer, at most `deadline` seconds.

        Raises NoSuchDevice, InvalidCommand, DeviceOffline (at once),
        DeviceTimeout, DeviceDisconnected or DeviceRefused.
        """
        device = self.get(user, command.device_id)
        catalog.validate(device.type, command.action, command.value, command.instance_id)
        wait = min(deadline or self.max_deadline, self.max_deadline)
        rewrite = self._absolute(device, command)
        if rewrite is None:
            return self._send(user, device, command, wait)
        if rewrite.action is None:  # nothing to change; the device must still be there
            if not self.online(device):
                raise DeviceOffline()
            return Result(command, Outcome.ANSWERED, {}, "nothing to change", 0.0)
        started = time.monotonic()
        absolute = replace(command, action=rewrite.action, value=rewrite.value)
        result = self._send(user, device, absolute, wait)
        if rewrite.then is not None and result.outcome is Outcome.ANSWERED:
            action, value = rewrite.then
            left = max(0.0, wait - (time.monotonic() - started))
            self._send(user, device, replace(command, action=action, value=value), left)
        return result

    def spend(
        self,
        budget: Budget,
        key: str,
        user: User,
        scope: str,
        device_id: str | None = None,
        journey: str | None = None,
    ) -> None:
        """Take one from `budget` for `key`, or raise Throttled. The first refusal of a flood
        (of any in a minute, for a budget the workers share) is written, on the journey that
        met it ("20 directives a second for this account"); the others are only counted
        (the metrics)."""
        wait = budget.take(key)
        if not wait:
            return
        why = f"{budget} {scope}"
        first = budget.told(key)
        if first:
            self.store.messages.record(
                Entry("in", "event", "throttled", device_id, user.id, detail=why, journey=journey)
            )
        raise Throttled(f"throttled: {why}", wait, budget.rate, first)

    def _send(self, user: User, device: Device, command: Command, wait: float) -> Result:
        if self.commands is not None:
            journey = command.journey
            self.spend(self.commands, device.id, user, "for this device", device.id, journey)
        started = time.monotonic()
        # One history row per exchange: the request, its outcome and latency,
        # and the device's response beside it.
        journey = command.journey
        entry = Entry(  # the household's history (the owner's), naming a member who sent it
            "out",
            "request",
            "ok",
            device.id,
            device.user_id,
            command.action,
            origin=command.origin,
            journey=journey,
            member=user.id if user.id != device.user_id else None,
        )
        exchange = Exchange()
        props: dict[str, Any] = {}
        try:
            reply = self.transports.request(device, command, wait, exchange)
            if reply.outcome is Outcome.ANSWERED:
                # An answer whose value does not fit the capability ("brightness": "very
                # bright") is no success: the command is refused, and the value kept out.
                try:
                    props = catalog.state_from(
                        device.type, command.action, reply.value, command.instance_id
                    )
                except catalog.InvalidState as exc:
                    reply = Reply(Outcome.REFUSED, {}, f"its answer does not fit: {exc.message}")
        except BridgeError as exc:
            entry.outcome, entry.detail = exc.code, exc.message
            raise
        else:
            entry.outcome, entry.detail = HISTORY_OUTCOME[reply.outcome], reply.message
        finally:
            entry.payload, entry.response = exchange.sent, exchange.received
            worker = exchange.courier or self.worker  # the one that held the device
            entry.via = f"{device.transport} on {worker}" if worker else device.transport
            entry.latency_ms = (time.monotonic() - started) * 1000
            if not journeys.hold(entry):  # else written with the webhook's reply, one row
                self.store.messages.record(entry)
            if self.metrics:
                self.metrics.command(command.origin, entry.outcome, entry.latency_ms / 1000)
        if reply.outcome is Outcome.REFUSED:
            raise DeviceRefused(reply.message or "the device refused the command")
        if reply.outcome is Outcome.PENDING:
            return Result(command, Outcome.PENDING, {}, reply.message, entry.latency_ms, reply.ref)
        self._apply(user, device, command, reply.value, journey, props)
        return Result(command, Outcome.ANSWERED, reply.value, reply.message, entry.latency_ms)

    def _absolute(self, device: Device, command: Command) -> catalog.Rewrite | None:
        """A relative command made absolute from the shadow (catalog.absolute)."""
        return catalog.absolute(
            device.type,
            command.action,
            command.value,
            command.instance_id,
            lambda: self.store.shadow.values(device.id),
        )

    def _apply(
        self,
        user: User,
        device: Device,
        command: Command,
        value: dict,
        journey: str | None,
        props: dict[str, Any] | None = None,
    ) -> None:
        """The answer's state into the shadow; a change is reported to the other platforms.

        `props`: the state the value carries, checked already (else checked here: a late
        answer's value that does not fit is recorded and not applied)."""
        now = time.time()
        if props is None:
            try:
                props = catalog.state_from(device.type, command.action, value, command.instance_id)
            except catalog.InvalidState as exc:
                detail = f"answer not applied: {exc.message}"
                found = rejection(device.id, user.id, detail, action=command.action)
                found.journey = journey
                self.store.messages.record(found)
                return
        changed = self.store.shadow.update(device.id, props, command.instance_id, now)
        if changed:
            app = command.origin in APP_ORIGINS or command.origin.startswith("api:")
            cause = "APP_INTERACTION" if app else "VOICE_INTERACTION"
            self.reporter.publish(
                user,
                StateReport(
                    user_id=user.id,
                    device_id=device.id,
                    event=command.action,
                    value=value,
                    instance_id=command.instance_id,
                    cause=cause,
                    origin=command.origin,
                    properties=self.store.shadow.values(device.id),
                    at=now,
                    changed=tuple(changed),
                    journey=journey,
                ),
            )
