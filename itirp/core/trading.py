"""The trading core: the sequencer. One writer, one command at a time, no await inside a command.

Each command validates against the current state, mints its events, hands them to the event sink
(the store's `append`, which assigns sequence numbers synchronously), applies those same stored
events to the state, and returns the awaitable that resolves once they are durable. The risk check
and the reservation it makes happen inside one synchronous call, so two concurrent orders can
never both pass a limit only one of them fits.

State is the fold of events (`apply`): on restart the same function replays the log, so the live
path and recovery cannot disagree. Pure: no I/O, no asyncio, no gRPC; the clock is the caller's
(`now_us` arguments) and ids come from the injected journal.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from google.protobuf.message import Message

from itirp.core.journal import Journal
from itirp.domain.money import format_money
from itirp.domain.orders import NewOrder, Order, OrderStatus, Side, Trigger
from itirp.domain.risk import LIMIT_AMOUNTS, RiskEngine, RiskLimits, Violation, ViolationDetail
from itirp.errors import AlreadyExists, FailedPrecondition, NotFound
from itirp.events import decode_payload, timestamp_from_us
from itirp.execution.breaker import BreakerState, CircuitBreaker, Transition
from itirp.execution.venue import Fill
from itirp.store import NewEvent, StoredEvent
from itirp.v1 import common_pb2, events_pb2, risk_pb2

__all__ = ["SIDE_PROTO", "Committed", "TradingCore", "limits_proto", "trading_day_of", "violations_message"]

#: What the event sink returns: the stored events at once, durability later.
Sink = Callable[[Sequence[NewEvent]], Any]


class Committed:
    """The outcome of a command: the stored events (sequence assigned) and their durability."""

    __slots__ = ("durable", "events")

    def __init__(self, events: list[StoredEvent], durable: Awaitable[list[StoredEvent]]) -> None:
        self.events = events
        self.durable = durable

    def __await__(self):  # type: ignore[no-untyped-def]
        return self.durable.__await__()  # type: ignore[attr-defined]


def trading_day_of(timestamp_us: int) -> str:
    return datetime.fromtimestamp(timestamp_us / 1_000_000, UTC).date().isoformat()


_VIOLATION_PROTO = {v: common_pb2.ViolationType.Value(f"VIOLATION_TYPE_{v.value}") for v in Violation}
_VIOLATION_FROM_PROTO = {number: v for v, number in _VIOLATION_PROTO.items()}
#: Side <-> its protobuf enum value (the servicers use the same table).
SIDE_PROTO = {Side.BUY: common_pb2.SIDE_BUY, Side.SELL: common_pb2.SIDE_SELL}
_SIDE_FROM_PROTO = {number: side for side, number in SIDE_PROTO.items()}
_BREAKER_EVENT = {
    BreakerState.OPEN: events_pb2.CircuitBreakerOpened,
    BreakerState.HALF_OPEN: events_pb2.CircuitBreakerHalfOpened,
    BreakerState.CLOSED: events_pb2.CircuitBreakerClosed,
}


def _violation_proto(v: ViolationDetail) -> common_pb2.RiskViolation:
    return common_pb2.RiskViolation(
        type=_VIOLATION_PROTO[v.violation],
        limit=format_money(v.limit) if v.limit is not None else "",
        projected=format_money(v.projected) if v.projected is not None else "",
        message=v.message,
    )


def limits_proto(limits: RiskLimits, updated_us: int, updated_by: str) -> risk_pb2.RiskLimits:
    msg = risk_pb2.RiskLimits(
        max_position_size=format_money(limits.max_position_size),
        max_daily_volume=format_money(limits.max_daily_volume),
        max_net_exposure=format_money(limits.max_net_exposure),
        max_gross_exposure=format_money(limits.max_gross_exposure),
        kill_switch_enabled=limits.kill_switch_enabled,
        updated_by=updated_by,
    )
    if updated_us:
        msg.updated_at.CopyFrom(timestamp_from_us(updated_us))
    return msg


def violations_message(violations: Sequence[common_pb2.RiskViolation]) -> str:
    names = ", ".join(common_pb2.ViolationType.Name(v.type).removeprefix("VIOLATION_TYPE_") for v in violations)
    return f"Risk violations: {names}"


class TradingCore:
    def __init__(self, journal: Journal, sink: Sink, *, breaker: CircuitBreaker | None = None) -> None:
        self._journal = journal
        self._sink = sink
        self.risk = RiskEngine()
        self.breaker = breaker or CircuitBreaker()
        self.orders: dict[str, Order] = {}
        self.order_list: list[Order] = []  # creation order
        self.orders_by_user: dict[str, list[Order]] = {}
        self.client_order_ids: dict[tuple[str, str], str] = {}
        self.status_counts: Counter[OrderStatus] = Counter()
        self.trading_day = ""
        self.limits_updated_us = 0
        self.limits_updated_by = ""
        self.kill_switch_reason = ""
        self.kill_switch_by = ""
        self.realized_pnl = Decimal(0)
        #: Sequence of the last event applied (live events are applied before they are durable).
        self.last_applied = 0

    # ------------------------------------------------------------------ emitting

    def _emit(self, items: list[tuple[Message, dict[str, str]]], now_us: int) -> Committed:
        new = [self._journal.new(payload, timestamp_us=now_us, **envelope) for payload, envelope in items]
        pending = self._sink(new)
        stored: list[StoredEvent] = pending.events
        for event, (payload, _) in zip(stored, items):
            self.apply(event, payload)
        return Committed(stored, pending)

    def _order_envelope(self, order: Order, correlation_id: str, causation_id: str) -> dict[str, str]:
        return {
            "correlation_id": correlation_id,
            "causation_id": causation_id,
            "order_id": order.order_id,
            "user_id": order.user_id,
            "symbol": order.symbol,
        }

    # ------------------------------------------------------------------ commands

    def roll_day(self, now_us: int, *, correlation_id: str = "", causation_id: str = "") -> Committed | None:
        """Start a new trading day (UTC) when the clock has passed midnight: DAILY_VOLUME_RESET."""
        today = trading_day_of(now_us)
        if not self.trading_day or today == self.trading_day:
            return None
        payload = events_pb2.DailyVolumeReset(
            previous_trading_day=self.trading_day,
            previous_volume=format_money(self.risk.metrics().executed_volume),
            trading_day=today,
        )
        return self._emit([(payload, {"correlation_id": correlation_id or self._journal.new_id()})], now_us)

    def submit(
        self,
        order: NewOrder,
        *,
        user_id: str,
        username: str,
        correlation_id: str,
        causation_id: str,
        now_us: int,
    ) -> tuple[Order, Committed]:
        if order.client_order_id:
            existing = self.client_order_ids.get((user_id, order.client_order_id))
            if existing is not None:
                raise AlreadyExists(
                    f"client_order_id {order.client_order_id!r} was already used for order {existing}"
                )
        self.roll_day(now_us, correlation_id=correlation_id, causation_id=causation_id)
        order_id = self._journal.new_id()
        envelope = {
            "correlation_id": correlation_id,
            "causation_id": causation_id,
            "order_id": order_id,
            "user_id": user_id,
            "symbol": order.symbol,
        }
        created = events_pb2.OrderCreated(
            client_order_id=order.client_order_id,
            username=username,
            symbol=order.symbol,
            side=SIDE_PROTO[order.side],
            quantity=order.quantity,
            price=str(order.price),
            strategy=order.strategy,
        )
        violations = self.risk.check(
            symbol=order.symbol, side=order.side.value, quantity=order.quantity, price=order.price
        )
        verdict: Message
        if violations:
            verdict = events_pb2.RiskCheckFailed(violations=[_violation_proto(v) for v in violations])
        else:
            verdict = events_pb2.RiskCheckPassed(reserved_notional=format_money(order.quantity * order.price))
        committed = self._emit(
            [(created, envelope), (events_pb2.RiskCheckStarted(), envelope), (verdict, envelope)], now_us
        )
        return self.orders[order_id], committed

    def _get(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise NotFound(f"no order {order_id!r}")
        return order

    def cancel(
        self, order_id: str, *, actor_id: str, reason: str, correlation_id: str, causation_id: str, now_us: int
    ) -> tuple[Order, Committed]:
        order = self._get(order_id)
        if not order.can(Trigger.ORDER_CANCELLED):
            raise FailedPrecondition(
                f"order {order_id} is {order.status.value} and can no longer be cancelled"
                + (" (it is executing)" if order.status is OrderStatus.EXECUTING else "")
            )
        envelope = self._order_envelope(order, correlation_id or order.correlation_id, causation_id)
        envelope["user_id"] = actor_id
        committed = self._emit([(events_pb2.OrderCancelled(reason=reason), envelope)], now_us)
        return order, committed

    def update_limits(
        self,
        changes: dict[str, Decimal],
        *,
        actor_id: str,
        reason: str,
        updated_by: str = "",
        correlation_id: str,
        causation_id: str,
        now_us: int,
    ) -> tuple[RiskLimits, RiskLimits, Committed]:
        unknown = set(changes) - set(LIMIT_AMOUNTS)
        if unknown:
            raise ValueError(f"update_limits takes only the amounts {sorted(LIMIT_AMOUNTS)}, not {sorted(unknown)}")
        old = self.risk.limits
        new = dataclasses.replace(old, **changes)
        payload = events_pb2.RiskLimitsUpdated(
            old_limits=limits_proto(old, self.limits_updated_us, self.limits_updated_by),
            new_limits=limits_proto(new, now_us, updated_by or actor_id),
            reason=reason,
        )
        committed = self._emit(
            [(payload, {"correlation_id": correlation_id, "causation_id": causation_id, "user_id": actor_id})], now_us
        )
        return old, new, committed

    def set_kill_switch(
        self, enabled: bool, *, actor_id: str, username: str, reason: str, correlation_id: str, causation_id: str, now_us: int
    ) -> Committed | None:
        """None when the switch already is in the requested state (nothing to record)."""
        if self.risk.limits.kill_switch_enabled == enabled:
            return None
        cls = events_pb2.KillSwitchActivated if enabled else events_pb2.KillSwitchDeactivated
        envelope = {"correlation_id": correlation_id, "causation_id": causation_id, "user_id": actor_id}
        return self._emit([(cls(reason=reason, username=username), envelope)], now_us)

    # -- execution (driven by the executor) ---------------------------------------------------

    def _breaker_items(self, transition: Transition | None, order: Order) -> list[tuple[Message, dict[str, str]]]:
        if transition is None:
            return []
        cls = _BREAKER_EVENT[transition.to]
        if transition.to is BreakerState.OPEN:
            payload: Message = cls(consecutive_failures=transition.consecutive_failures, open_until=timestamp_from_us(transition.open_until_us))
        else:
            payload = cls()
        return [(payload, {"correlation_id": order.correlation_id, "causation_id": order.order_id})]

    def begin_attempt(self, order_id: str, attempt: int, venue: str, now_us: int) -> tuple[bool, Committed | None]:
        """Record EXECUTION_STARTED for the attempt, or fail the order fast while the breaker is open.
        Returns (go ahead, events); (False, None) when the order left the execution path (cancelled)."""
        order = self.orders[order_id]
        if not order.can(Trigger.EXECUTION_STARTED):
            return False, None
        envelope = self._order_envelope(order, order.correlation_id, order.order_id)
        allowed, transition = self.breaker.admit(now_us)
        if not allowed:
            until = datetime.fromtimestamp(self.breaker.open_until_us / 1e6, UTC).isoformat(timespec="seconds")
            failed = events_pb2.ExecutionFailed(
                reason=f"circuit breaker open: venue calls suspended until {until} after repeated failures",
                attempts=attempt - 1,
                circuit_open=True,
            )
            return False, self._emit([(failed, envelope)], now_us)
        items = self._breaker_items(transition, order)
        items.append((events_pb2.ExecutionStarted(attempt=attempt, venue=venue), envelope))
        return True, self._emit(items, now_us)

    def attempt_failed(
        self, order_id: str, attempt: int, reason: str, *, max_attempts: int, retry_delay_ms: int, now_us: int
    ) -> tuple[bool, Committed]:
        """A transient venue failure. Returns (will retry, events): EXECUTION_RETRIED, or
        EXECUTION_FAILED when attempts are used up or the breaker opens."""
        order = self.orders[order_id]
        envelope = self._order_envelope(order, order.correlation_id, order.order_id)
        transition = self.breaker.on_failure(now_us)
        opens = transition is not None and transition.to is BreakerState.OPEN
        retry = attempt < max_attempts and not opens
        if retry:
            items = [(events_pb2.ExecutionRetried(attempt=attempt, reason=reason, delay_ms=retry_delay_ms), envelope)]
        else:
            why = reason if not opens else f"{reason}; circuit breaker opened"
            items = [(events_pb2.ExecutionFailed(reason=why, attempts=attempt), envelope)]
        items += self._breaker_items(transition, order)
        return retry, self._emit(items, now_us)

    def rejected_by_venue(self, order_id: str, attempt: int, reason: str, now_us: int) -> Committed:
        """A permanent rejection: never retried. The venue answered, so a half-open breaker closes
        (it must not stay half-open, refusing every later order, waiting for a probe result)."""
        order = self.orders[order_id]
        envelope = self._order_envelope(order, order.correlation_id, order.order_id)
        items: list[tuple[Message, dict[str, str]]] = [
            (events_pb2.ExecutionFailed(reason=reason, attempts=attempt, permanent=True), envelope)
        ]
        if self.breaker.state is BreakerState.HALF_OPEN:
            items += self._breaker_items(self.breaker.on_success(), order)
        return self._emit(items, now_us)

    def completed(self, order_id: str, attempt: int, fill: Fill, venue: str, now_us: int) -> Committed:
        order = self.orders[order_id]
        envelope = self._order_envelope(order, order.correlation_id, order.order_id)
        items: list[tuple[Message, dict[str, str]]] = self._breaker_items(self.breaker.on_success(), order)
        items.insert(
            0,
            (
                events_pb2.ExecutionCompleted(
                    filled_quantity=fill.quantity,
                    fill_price=str(fill.price),
                    venue=venue,
                    execution_id=fill.execution_id,
                    attempt=attempt,
                ),
                envelope,
            ),
        )
        return self._emit(items, now_us)

    def interrupted(self, order_id: str, now_us: int) -> Committed:
        """After a restart: an order that was executing when the server stopped. Its outcome at the
        venue is unknown, so it is failed (permanently) for the desk to reconcile, never re-sent."""
        order = self.orders[order_id]
        envelope = self._order_envelope(order, order.correlation_id, order.order_id)
        failed = events_pb2.ExecutionFailed(
            reason="execution interrupted by a server restart; outcome at the venue unknown, reconcile before re-sending",
            attempts=order.execution_attempts,
            permanent=True,
        )
        return self._emit([(failed, envelope)], now_us)

    # ------------------------------------------------------------------ the fold

    def apply(self, event: StoredEvent, payload: Message | None = None) -> None:
        """Apply one committed event (payload decoded from the event when not given)."""
        self.last_applied = event.sequence
        handler = _APPLY.get(event.event_type)
        if handler is None:
            return  # not a trading event (authentication, users)
        if payload is None:
            payload = decode_payload(event.event_type, event.schema_version, event.payload)
        handler(self, event, payload)

    def _set_status(self, order: Order, trigger: Trigger, event: StoredEvent) -> None:
        before = order.status
        order.transition(trigger, at_us=event.timestamp_us, sequence=event.sequence)
        self.status_counts[before] -= 1
        self.status_counts[order.status] += 1

    def _on_created(self, event: StoredEvent, p: events_pb2.OrderCreated) -> None:
        order = Order(
            order_id=event.order_id,
            client_order_id=p.client_order_id,
            user_id=event.user_id,
            username=p.username,
            symbol=p.symbol,
            side=_SIDE_FROM_PROTO[p.side],
            quantity=p.quantity,
            price=Decimal(p.price),
            strategy=p.strategy,
            correlation_id=event.correlation_id,
            created_us=event.timestamp_us,
            created_sequence=event.sequence,
            updated_us=event.timestamp_us,
            last_sequence=event.sequence,
        )
        self.orders[order.order_id] = order
        self.order_list.append(order)
        self.orders_by_user.setdefault(order.user_id, []).append(order)
        if order.client_order_id:
            self.client_order_ids[(order.user_id, order.client_order_id)] = order.order_id
        self.status_counts[OrderStatus.PENDING] += 1
        if not self.trading_day:
            self.trading_day = trading_day_of(event.timestamp_us)

    def _on_risk_started(self, event: StoredEvent, p: Message) -> None:
        self._set_status(self.orders[event.order_id], Trigger.RISK_CHECK_STARTED, event)

    def _on_risk_passed(self, event: StoredEvent, p: Message) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.RISK_CHECK_PASSED, event)
        order.message = "Order approved and submitted for execution"
        self.risk.reserve(order.order_id, symbol=order.symbol, side=order.side.value, quantity=order.quantity, price=order.price)

    def _on_risk_failed(self, event: StoredEvent, p: events_pb2.RiskCheckFailed) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.RISK_CHECK_FAILED, event)
        order.violations = tuple(p.violations)
        order.message = violations_message(p.violations)

    def _on_execution_started(self, event: StoredEvent, p: events_pb2.ExecutionStarted) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.EXECUTION_STARTED, event)
        order.execution_attempts = p.attempt
        order.message = f"executing (attempt {p.attempt})"

    def _on_execution_retried(self, event: StoredEvent, p: events_pb2.ExecutionRetried) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.EXECUTION_RETRIED, event)
        order.message = f"attempt {p.attempt} failed ({p.reason}); retrying in {p.delay_ms} ms"
        self.breaker.apply_failure()

    def _on_execution_completed(self, event: StoredEvent, p: events_pb2.ExecutionCompleted) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.EXECUTION_COMPLETED, event)
        price = Decimal(p.fill_price)
        order.filled_quantity += p.filled_quantity
        order.average_fill_price = price
        order.message = "executed"
        self.realized_pnl += self.risk.fill(order.order_id, quantity=p.filled_quantity, price=price)
        self.breaker.apply_success()

    def _on_execution_failed(self, event: StoredEvent, p: events_pb2.ExecutionFailed) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.EXECUTION_FAILED, event)
        order.message = p.reason
        self.risk.release(order.order_id)
        if not p.permanent and not p.circuit_open:
            self.breaker.apply_failure()

    def _on_cancelled(self, event: StoredEvent, p: events_pb2.OrderCancelled) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.ORDER_CANCELLED, event)
        order.message = f"cancelled: {p.reason}" if p.reason else "cancelled"
        self.risk.release(order.order_id)

    def _on_breaker(self, event: StoredEvent, p: Message) -> None:
        if isinstance(p, events_pb2.CircuitBreakerOpened):
            until = p.open_until.seconds * 1_000_000 + p.open_until.nanos // 1000
            self.breaker.apply_transition(Transition(BreakerState.OPEN, p.consecutive_failures, until))
        elif isinstance(p, events_pb2.CircuitBreakerHalfOpened):
            self.breaker.apply_transition(Transition(BreakerState.HALF_OPEN, self.breaker.consecutive_failures))
        else:
            self.breaker.apply_transition(Transition(BreakerState.CLOSED, 0))

    def _on_limits(self, event: StoredEvent, p: events_pb2.RiskLimitsUpdated) -> None:
        n = p.new_limits
        self.risk.set_limits(
            dataclasses.replace(
                self.risk.limits,
                max_position_size=Decimal(n.max_position_size),
                max_daily_volume=Decimal(n.max_daily_volume),
                max_net_exposure=Decimal(n.max_net_exposure),
                max_gross_exposure=Decimal(n.max_gross_exposure),
            )
        )
        self.limits_updated_us = event.timestamp_us
        self.limits_updated_by = p.new_limits.updated_by

    def _on_kill_switch(self, event: StoredEvent, p: Message) -> None:
        enabled = isinstance(p, events_pb2.KillSwitchActivated)
        self.risk.set_limits(dataclasses.replace(self.risk.limits, kill_switch_enabled=enabled))
        self.kill_switch_reason = p.reason  # type: ignore[attr-defined]
        self.kill_switch_by = p.username  # type: ignore[attr-defined]

    def _on_day_reset(self, event: StoredEvent, p: events_pb2.DailyVolumeReset) -> None:
        self.risk.reset_daily_volume()
        self.trading_day = p.trading_day

    # ------------------------------------------------------------------ after replay

    def recovery_plan(self) -> tuple[list[str], list[str]]:
        """(orders approved but never sent to the venue: resume them; orders caught executing by a
        stop: fail them for reconciliation). Also clears a half-open probe that cannot be in flight."""
        self.breaker.probe_in_flight = False
        approved = [o.order_id for o in self.order_list if o.status is OrderStatus.APPROVED]
        executing = [o.order_id for o in self.order_list if o.status is OrderStatus.EXECUTING]
        return approved, executing


_APPLY: dict[str, Callable[[TradingCore, StoredEvent, Any], None]] = {
    "ORDER_CREATED": TradingCore._on_created,
    "RISK_CHECK_STARTED": TradingCore._on_risk_started,
    "RISK_CHECK_PASSED": TradingCore._on_risk_passed,
    "RISK_CHECK_FAILED": TradingCore._on_risk_failed,
    "EXECUTION_STARTED": TradingCore._on_execution_started,
    "EXECUTION_RETRIED": TradingCore._on_execution_retried,
    "EXECUTION_COMPLETED": TradingCore._on_execution_completed,
    "EXECUTION_FAILED": TradingCore._on_execution_failed,
    "ORDER_CANCELLED": TradingCore._on_cancelled,
    "CIRCUIT_BREAKER_OPENED": TradingCore._on_breaker,
    "CIRCUIT_BREAKER_HALF_OPENED": TradingCore._on_breaker,
    "CIRCUIT_BREAKER_CLOSED": TradingCore._on_breaker,
    "RISK_LIMITS_UPDATED": TradingCore._on_limits,
    "KILL_SWITCH_ACTIVATED": TradingCore._on_kill_switch,
    "KILL_SWITCH_DEACTIVATED": TradingCore._on_kill_switch,
    "DAILY_VOLUME_RESET": TradingCore._on_day_reset,
}
