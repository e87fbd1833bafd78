"""The trading application service: the async shell around the synchronous core.

It runs one core command at a time (no await inside one), waits until the command's events are
durable (by sequence), starts execution after the reply, rolls the trading day at midnight UTC,
and keeps the submit latency figures. Servicers hand it commands (`itirp.core.commands`); it
raises `itirp.errors`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from itirp.app.deadman import DeadMansSwitch
from itirp.app.sink import StoreSink
from itirp.app.throttles import Throttles
from itirp.core.commands import (
    Actor,
    AmendOrder,
    CancelOrder,
    RecordMark,
    ReleaseOrder,
    SetKillSwitch,
    SetRestriction,
    SetTradingState,
    SubmitOrder,
    UpdateRiskLimits,
)
from itirp.core.mass_cancel import CancelAll, requested_cancel
from itirp.core.matching import INTERNAL_VENUE
from itirp.core.queries import TradingQueries
from itirp.core.recorder import Committed
from itirp.core.sequencer import Sequencer
from itirp.core.sessions import CloseSession, OpenSession
from itirp.domain.accounts import Scope
from itirp.domain.controls import Restriction, TradingMode
from itirp.domain.instruments import Mark
from itirp.domain.orders import Order, OrderStatus
from itirp.domain.risk import InstrumentLimits, RiskLimits
from itirp.errors import FailedPrecondition, ItirpError, Reason
from itirp.execution.executor import Executor
from itirp.observability.latency import LatencyHistogram
from itirp.observability.logging import emit_many
from itirp.store import StoredEvent, StoreError

__all__ = ["TradingService"]

log = logging.getLogger("itirp.orders")

T = TypeVar("T")
Limits = RiskLimits | InstrumentLimits


class TradingService:
    def __init__(
        self,
        core: Sequencer,
        executor: Executor,
        sink: StoreSink,
        *,
        clock: Callable[[], float],
        read_only: bool = False,
        prices: Callable[[str], Mark | None] | None = None,
        reconcile_timeout: float = 10.0,
        throttles: Throttles | None = None,
        gate: Callable[[], StoreError | None] | None = None,
    ) -> None:
        self._core = core
        # a refusal of this node's before the store's own: a node taking over the log appends, but
        # takes no command before its executions are reconciled (`itirp.app.node.Node.gate`)
        self._gate = gate
        #: The market data feed's latest price of a symbol (not yet recorded), if there is a feed.
        self.prices = prices
        self.queries: TradingQueries = core.queries
        self.executor = executor
        self.sink = sink
        self._clock = clock
        self._read_only = read_only
        self._reconcile_timeout = reconcile_timeout
        self.submit_latency = LatencyHistogram()
        self._day_task: asyncio.Task[None] | None = None
        #: Message rates per trader and per session (None: unlimited).
        self.throttles = throttles
        #: SetCancelAllAfter's timers, per user.
        self.deadman = DeadMansSwitch(self.cancel_all, clock=clock)

    @property
    def core(self) -> Sequencer:
        """The sequencer itself (tools and tests; servicers ask `queries`)."""
        return self._core

    @property
    def venue(self) -> str:
        return self._core.venue

    def _now_us(self) -> int:
        return int(self._clock() * 1_000_000)

    def _writable(self) -> None:
        """A command is refused before it looks at anything when nothing can be recorded: the
        server is read-only (FAILED_PRECONDITION), or the event log failed (its `StoreError`:
        UNAVAILABLE, whatever the request; the process must be restarted)."""
        if self._read_only:
            raise FailedPrecondition(
                "the server is read-only (started for investigation): nothing can be recorded", reason=Reason.READ_ONLY
            )
        refusal = self.sink.refusal()
        if refusal is None and self._gate is not None:
            refusal = self._gate()
        if refusal is not None:
            raise refusal

    async def _durable(self, committed: Committed | None) -> None:
        if committed is not None and committed.events:
            await self.sink.durable(committed.last_sequence)

    async def settled_state(self) -> None:
        """Read barrier: wait until every event behind the current state is durable (a group commit
        at most; nothing when idle). Reads call it so that no one sees what could still be lost."""
        await self.sink.durable(self.queries.last_applied)

    @asynccontextmanager
    async def refusals_durable(self) -> AsyncIterator[None]:
        """A command refused on the state (ALREADY_EXISTS naming an order, "order X is CANCELLED",
        NOT_FOUND...) is answered only once that state is durable: a refusal reveals as much as
        an acceptance does, and a crash must not take back what an answer has shown."""
        try:
            yield
        except ItirpError:
            await self.settled_state()
            raise

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """After replay: reconcile the orders that were (or may be) at the venue with its status,
        send those approved but never sent, start the venue's own loop and reconciliation."""
        if self._read_only:
            return
        executor = self.executor
        approved, at_venue = self._core.execution.recovery_plan(executor.venue_name)
        executor.start()
        if at_venue:
            await executor.reconcile(at_venue, timeout=self._reconcile_timeout)
            log.info("orders at the venue reconciled after the restart", extra={"orders": len(at_venue)})
        for order_id in approved:
            if self.venue == INTERNAL_VENUE:
                await self._durable(self._core.orders.accept(order_id, self._now_us()))
            else:
                executor.execute(order_id)
        self._day_task = asyncio.create_task(self._roll_days(), name="itirp-trading-day")

    async def stop(self, grace: float) -> None:
        if self._day_task is not None:
            self._day_task.cancel()
        await self.deadman.stop()
        await self.executor.drain(grace)

    async def _roll_days(self) -> None:
        while True:
            await asyncio.sleep(30)
            await self._durable(self._core.orders.roll_day(self._now_us()))

    @staticmethod
    def log_order_events(events: list[StoredEvent]) -> None:
        """Commit listener: one structured log line per order state change, once it is durable
        (queued as one block per committed batch)."""
        emit_many(
            log,
            (
                (
                    ev.event_type,
                    {
                        "order_id": ev.order_id,
                        "correlation_id": ev.correlation_id,
                        "user_id": ev.user_id,
                        "symbol": ev.symbol,
                        "sequence": ev.sequence,
                    },
                )
                for ev in events
                if ev.order_id
            ),
        )

    # ------------------------------------------------------------------ commands

    async def submit(self, command: SubmitOrder) -> Order:
        started = self._clock()
        self._writable()
        if self.throttles is not None:
            self.throttles.check("new", command.actor.username, command.session_id)
        now_us = self._now_us()
        if self.prices is not None:
            # the price this decision uses is recorded first, in the same step (nothing in between)
            quote = self.prices(command.symbol)
            if quote is not None:
                self._core.reference.record_mark(
                    RecordMark(mark=quote, correlation_id=command.actor.correlation_id), now_us
                )
        try:  # refusals_durable, inline: this is every order's path
            order, committed = self._core.orders.submit(command, now_us)
        except ItirpError:
            await self.settled_state()
            raise
        await self._durable(committed)
        if order.status is OrderStatus.APPROVED:
            self.executor.execute(order.order_id)
        self.submit_latency.record(self._clock() - started)
        return order

    async def cancel(self, command: CancelOrder, *, session_id: str = "") -> Order:
        """Cancelled, or PENDING_CANCEL while the external venue is asked. `session_id`: the
        order-entry session it came on (its throttle counts it too)."""
        self._writable()
        if self.throttles is not None:
            self.throttles.check("cancel", command.actor.username, session_id)
        async with self.refusals_durable():
            order, committed = self._core.orders.cancel(command, self._now_us())
        if committed is None:  # a repeat of a pending cancel: answered once what it shows is durable
            await self.settled_state()
        await self._durable(committed)
        if order.status is OrderStatus.PENDING_CANCEL:
            self.executor.cancel(order.order_id)
        return order

    async def amend(self, command: AmendOrder, *, session_id: str = "") -> tuple[Order, bool]:
        """(the amended order, whether it kept its place in the queue)."""
        self._writable()
        if self.throttles is not None:
            self.throttles.check("amend", command.actor.username, session_id)
        async with self.refusals_durable():
            order, priority_kept, committed = self._core.orders.amend(command, self._now_us())
        await self._durable(committed)
        return order, priority_kept

    async def cancel_all(self, command: CancelAll) -> tuple[list[Order], list[Order]]:
        """Mass cancel (`itirp.core.mass_cancel`): (cancelled at once, PENDING_CANCEL while their
        external venue is asked), once durable. Not throttled: it only takes risk away."""
        return await self._mass_cancel(lambda: command)

    async def request_cancel_all(
        self, actor: Actor, scope: Scope | None, *, symbol: str = "", reason: str = ""
    ) -> tuple[list[Order], list[Order]]:
        """CancelAllOrders: the mass cancel `actor` may ask for in `scope` (None: their own
        orders, or the firm's for a risk manager; see `requested_cancel`)."""
        return await self._mass_cancel(
            lambda: requested_cancel(self._core.state, actor, scope, symbol=symbol, reason=reason)
        )

    async def _mass_cancel(self, command: Callable[[], CancelAll]) -> tuple[list[Order], list[Order]]:
        """Run the mass cancel `command()` names (decided in the same step), then ask the venue."""

        def step(now_us: int) -> tuple[tuple[list[Order], list[Order]], Committed | None]:
            cancelled, pending, committed = self._core.orders.cancel_all(command(), now_us)
            return (cancelled, pending), committed

        cancelled, pending = await self.run(step)
        self.cancel_at_venue(pending)
        return cancelled, pending

    async def open_session(self, command: OpenSession) -> str:
        """Record an order-entry session's start; its id."""
        return await self.run(lambda now_us: self._core.sessions.open(command, now_us))

    async def close_session(self, command: CloseSession) -> tuple[list[Order], list[Order]]:
        """Record a session's end, with the cancel of its working orders when it was cut and asked
        for that: (cancelled at once, PENDING_CANCEL at their venue)."""

        def step(now_us: int) -> tuple[tuple[list[Order], list[Order]], Committed | None]:
            cancelled, pending, committed = self._core.sessions.close(command, now_us)
            return (cancelled, pending), committed

        cancelled, pending = await self.run(step)
        self.cancel_at_venue(pending)
        if self.throttles is not None:
            self.throttles.forget_session(command.session_id)
        return cancelled, pending

    def cancel_at_venue(self, pending: list[Order]) -> None:
        """Ask the external venue to cancel orders now PENDING_CANCEL."""
        for order in pending:
            self.executor.cancel(order.order_id)

    async def run(self, step: Callable[[int], tuple[T, Committed | None]]) -> T:
        """One core command (`step(now_us)` -> (result, events)) the way every command runs: refused
        at once when nothing can be recorded, a refusal answered once the state it names is
        durable, the result once its events are."""
        self._writable()
        try:  # refusals_durable, inline
            result, committed = step(self._now_us())
        except ItirpError:
            await self.settled_state()
            raise
        await self._durable(committed)
        return result

    async def update_limits(self, command: UpdateRiskLimits) -> tuple[Limits, Limits]:
        def step(now_us: int) -> tuple[tuple[Limits, Limits], Committed]:
            old, new, committed = self._core.controls.update_limits(command, now_us)
            return (old, new), committed

        return await self.run(step)

    async def set_kill_switch(self, command: SetKillSwitch) -> tuple[bool, list[str]]:
        """(whether the switch changed, the orders a mass cancel cancelled or asked the venue to).

        Turned on with `cancel_working`: the switch, then the mass cancel of every working order in
        its scope, in the same step (no order of the scope can be entered in between)."""

        def step(now_us: int) -> tuple[tuple[bool, list[Order], list[Order]], Committed | None]:
            committed = self._core.controls.set_kill_switch(command, now_us)
            if committed is None or not (command.enabled and command.cancel_working):
                return (committed is not None, [], []), committed
            mass = CancelAll(
                actor=command.actor,
                scope=command.scope,
                reason=f"kill switch: {command.reason.strip()}",
                trigger="kill_switch",
            )
            cancelled, pending, cancels = self._core.orders.cancel_all(mass, now_us)
            return (True, cancelled, pending), cancels or committed

        changed, cancelled, pending = await self.run(step)
        self.cancel_at_venue(pending)
        return changed, [o.order_id for o in (*cancelled, *pending)]

    async def set_trading_state(self, command: SetTradingState) -> TradingMode:
        """Returns the state before."""
        return await self.run(lambda now_us: self._core.controls.set_trading_state(command, now_us))

    async def set_restriction(self, command: SetRestriction) -> Restriction:
        """Returns the restriction before."""
        return await self.run(lambda now_us: self._core.controls.set_restriction(command, now_us))

    async def release(self, command: ReleaseOrder) -> Order:
        """Release a rejected order; sent to the venue when approved (as a new order would be)."""
        order = await self.run(lambda now_us: self._core.orders.release(command, now_us))
        if order.status is OrderStatus.APPROVED:
            self.executor.execute(order.order_id)
        return order
