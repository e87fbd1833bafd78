"""The trading state and its fold: orders and their indexes, the risk engine's exposure, the
circuit breaker, the internal venue's books, limits, the kill switch and the trading day.

State is the fold of events (`apply`): the live path applies each event as its command stages it,
and a restart replays the log through the same function, so the two cannot disagree.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from google.protobuf.message import Message

from itirp.core.matching import INTERNAL_VENUE, Matching
from itirp.core.protos import (
    INSTRUMENT_STATUS_FROM_PROTO,
    KIND_FROM_PROTO,
    ORDER_TYPE_FROM_PROTO,
    RESTRICTION_FROM_PROTO,
    SIDE_FROM_PROTO,
    STP_FROM_PROTO,
    TIF_FROM_PROTO,
    TRADING_MODE_FROM_PROTO,
    instrument_from_proto,
    limit_amount,
    mark_from_proto,
    scope_from_proto,
    trading_day_of,
    violations_message,
)
from itirp.domain.accounts import (
    FIRM,
    HOUSE_ACCOUNT,
    Account,
    AccountKind,
    Accounts,
    Desk,
    Entitlement,
    Level,
    Scope,
    levels_of,
)
from itirp.domain.breaker import BreakerState, CircuitBreaker, Transition
from itirp.domain.controls import ControlNote, Controls
from itirp.domain.instruments import Instrument, Mark
from itirp.domain.orders import Fill as OrderFill
from itirp.domain.orders import Order, OrderMoment, OrderStatus, Trigger
from itirp.domain.risk import INSTRUMENT_LIMITS, LIMIT_AMOUNTS, InstrumentLimits, RiskLimits
from itirp.domain.risk_levels import RiskLevels
from itirp.errors import NotFound, PermissionDenied, Reason
from itirp.events import decode_payload, timestamp_to_us
from itirp.store.records import StoredEvent
from itirp.v1 import events_pb2

__all__ = ["TradingState", "check_exists", "not_entitled"]


class TradingState:
    def __init__(self, breaker: CircuitBreaker | None = None) -> None:
        #: Exposure and limits at every level (firm, desk, account, trader).
        self.risk = RiskLevels()
        #: Kill switches, trading states, restricted lists, the duplicate and execution counts.
        self.controls = Controls()
        self.breaker = breaker or CircuitBreaker()
        self.matching = Matching()
        #: Desks, accounts and the traders entitled to them.
        self.accounts = Accounts()
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
        #: Who last set the limits of each (level, instrument) and why.
        self.limits_notes: dict[tuple[Scope, str], ControlNote] = {}
        self.realized_pnl = Decimal(0)
        #: The instrument master, by symbol.
        self.instruments: dict[str, Instrument] = {}
        #: The last reference price recorded from the feed, by symbol.
        self.marks: dict[str, Mark] = {}
        #: Sequence of the last event applied (live events are applied before they are durable).
        self.last_applied = 0
        #: The last events' orders as each event left them (`keep_moments`), by sequence modulo
        #: its length: what an order stream shows for an event its order has moved on from.
        self._moments: list[tuple[int, Order, OrderMoment] | None] | None = None

    def keep_moments(self, events: int) -> None:
        """From now on keep the order as each of the last `events` order events left it."""
        self._moments = [None] * events if events > 0 else None

    def order_as_of(self, sequence: int, order_id: str) -> Order | None:
        """The order as the event at `sequence` left it, if that event is among the kept moments."""
        ring = self._moments
        if ring is None:
            return None
        slot = ring[sequence % len(ring)]
        if slot is None or slot[0] != sequence or slot[1].order_id != order_id:
            return None
        return slot[1].at(slot[2])

    def apply(self, event: StoredEvent, payload: Message | None = None) -> None:
        """Apply one stored event (its payload decoded from the event when not given)."""
        self.last_applied = event.sequence
        handler = _APPLY.get(event.event_type)
        if handler is None:
            return  # not a trading event (authentication, users)
        if payload is None:
            payload = decode_payload(event.event_type, event.schema_version, event.payload)
        handler(self, event, payload)
        ring = self._moments
        if ring is not None and event.order_id:
            order = self.orders.get(event.order_id)
            if order is not None:
                ring[event.sequence % len(ring)] = (event.sequence, order, order.moment())

    def reference(self, symbol: str) -> Mark | None:
        """The reference price of `symbol`: the feed's last recorded mark, else the listing price."""
        mark = self.marks.get(symbol)
        if mark is not None:
            return mark
        instrument = self.instruments.get(symbol)
        if instrument is None or instrument.reference_price is None:
            return None
        return Mark(symbol=symbol, price=instrument.reference_price, priced_us=instrument.updated_us)

    def _set_status(self, order: Order, trigger: Trigger, event: StoredEvent) -> None:
        before = order.status
        order.transition(trigger, at_us=event.timestamp_us, sequence=event.sequence)
        self.status_counts[before] -= 1
        self.status_counts[order.status] += 1

    # ------------------------------------------------------------------ orders

    def _on_created(self, event: StoredEvent, p: events_pb2.OrderCreated) -> None:
        order = Order(
            order_id=event.order_id,
            client_order_id=p.client_order_id,
            user_id=event.user_id,
            username=p.username,
            symbol=p.symbol,
            side=SIDE_FROM_PROTO[p.side],
            quantity=p.quantity,
            price=Decimal(p.price) if p.price else None,
            strategy=p.strategy,
            order_type=ORDER_TYPE_FROM_PROTO[p.order_type],
            time_in_force=TIF_FROM_PROTO[p.time_in_force],
            stp=STP_FROM_PROTO[p.self_trade_prevention],
            account=p.account or HOUSE_ACCOUNT,
            desk=p.desk or self.accounts.accounts[HOUSE_ACCOUNT].desk_id,
            session_id=p.session_id,
            correlation_id=event.correlation_id,
            created_us=event.timestamp_us,
            created_sequence=event.sequence,
            updated_us=event.timestamp_us,
            last_sequence=event.sequence,
            message="received",
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
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.RISK_CHECK_STARTED, event)
        order.message = "pre-trade risk check"

    def _on_risk_passed(self, event: StoredEvent, p: events_pb2.RiskCheckPassed) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.RISK_CHECK_PASSED, event)
        order.message = "Order approved and submitted for execution"
        price = Decimal(p.reserved_price) if p.reserved_price else order.price
        assert price is not None, "an approved order has a price to reserve at"
        order.reserved_price = price
        self.reserve(order, order.quantity, price)
        self.controls.order_approved(
            order.account, order.symbol, order.side.value, order.quantity, price, event.timestamp_us
        )

    def _on_risk_failed(self, event: StoredEvent, p: events_pb2.RiskCheckFailed) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.RISK_CHECK_FAILED, event)
        order.violations = tuple(p.violations)
        order.message = violations_message(p.violations)

    def _on_cancelled(self, event: StoredEvent, p: events_pb2.OrderCancelled) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.ORDER_CANCELLED, event)
        order.message = f"cancelled: {p.reason}" if p.reason else "cancelled"
        self.risk.release(order.order_id)
        self.matching.leave(order, event)

    def _on_expired(self, event: StoredEvent, p: events_pb2.OrderExpired) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.ORDER_EXPIRED, event)
        order.message = f"expired at the end of trading day {p.trading_day}"
        self.risk.release(order.order_id)
        self.matching.leave(order, event)

    # ------------------------------------------------------------------ execution (simulated venue)

    def _on_execution_started(self, event: StoredEvent, p: events_pb2.ExecutionStarted) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.EXECUTION_STARTED, event)
        order.execution_attempts = p.attempt
        order.venue = p.venue
        order.message = f"sent to the {p.venue} venue (attempt {p.attempt})"

    def _on_execution_retried(self, event: StoredEvent, p: events_pb2.ExecutionRetried) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.EXECUTION_RETRIED, event)
        order.message = f"attempt {p.attempt} failed ({p.reason}); retrying in {p.delay_ms} ms"
        self.breaker.apply_failure()

    def _on_execution_completed(self, event: StoredEvent, p: events_pb2.ExecutionCompleted) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.EXECUTION_COMPLETED, event)
        price = Decimal(p.fill_price)
        order.add_fill(OrderFill(p.execution_id, p.filled_quantity, price, True, event.timestamp_us, event.sequence))
        order.message = "executed"
        self.realized_pnl += self.risk.fill(order.order_id, quantity=p.filled_quantity, price=price)
        self.controls.execution(order.account, event.timestamp_us)
        self.breaker.apply_success()

    def _on_execution_failed(self, event: StoredEvent, p: events_pb2.ExecutionFailed) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.EXECUTION_FAILED, event)
        order.message = p.reason
        self.risk.release(order.order_id)
        if not p.permanent and not p.circuit_open:  # (logs from before UNKNOWN existed)
            self.breaker.apply_failure()

    def _on_status_unknown(self, event: StoredEvent, p: events_pb2.OrderStatusUnknown) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.ORDER_STATUS_UNKNOWN, event)
        order.message = f"outcome at the venue unknown ({p.reason}); still counted against risk until reconciled"
        if p.attempt_failed:
            self.breaker.apply_failure()

    def _on_cancel_requested(self, event: StoredEvent, p: events_pb2.OrderCancelRequested) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.ORDER_CANCEL_REQUESTED, event)
        order.message = "cancel sent to the venue; the order may still fill until the venue answers"

    def _on_breaker(self, event: StoredEvent, p: Message) -> None:
        if isinstance(p, events_pb2.CircuitBreakerOpened):
            until = p.open_until.seconds * 1_000_000 + p.open_until.nanos // 1000
            self.breaker.apply_transition(Transition(BreakerState.OPEN, p.consecutive_failures, until))
        elif isinstance(p, events_pb2.CircuitBreakerHalfOpened):
            self.breaker.apply_transition(Transition(BreakerState.HALF_OPEN, self.breaker.consecutive_failures))
        else:
            self.breaker.apply_transition(Transition(BreakerState.CLOSED, 0))

    # ------------------------------------------------------------------ at the venue (both kinds)

    def _on_accepted(self, event: StoredEvent, p: events_pb2.OrderAccepted) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.ORDER_ACCEPTED, event)
        order.venue = p.venue
        order.venue_accepted = True
        if p.venue != INTERNAL_VENUE:  # an external venue: its book is its own
            if order.status is OrderStatus.WORKING:
                order.message = f"working at the {p.venue} venue"
            self.breaker.apply_success()  # it answered: the run of consecutive failures ends
            return
        order.message = "in the book"
        matching = self.matching
        result = matching.take(order.order_id)
        if result is None:  # replay: run the match the command ran
            result = matching.submit(order.order_id, order.user_id, order)
        matching.changed(event, order.symbol, result)

    def _on_filled(self, event: StoredEvent, p: events_pb2.OrderFilled) -> None:
        order = self.orders[event.order_id]
        price = Decimal(p.price)
        order.add_fill(OrderFill(p.trade_id, p.quantity, price, p.aggressor, event.timestamp_us, event.sequence))
        done = order.filled_quantity == order.quantity
        self._set_status(order, Trigger.FINAL_FILL if done else Trigger.PARTIAL_FILL, event)
        order.message = "filled" if done else f"partially filled: {order.quantity - order.filled_quantity} open"
        if order.status is OrderStatus.PENDING_CANCEL:
            order.message += "; cancel pending at the venue"
        self.realized_pnl += self.risk.fill(order.order_id, quantity=p.quantity, price=price)
        self.controls.execution(order.account, event.timestamp_us)

    def _on_amended(self, event: StoredEvent, p: events_pb2.OrderAmended) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.ORDER_AMENDED, event)
        price = Decimal(p.price)
        result = self.matching.take(order.order_id)
        if result is None:  # replay: run the amendment the command ran
            result = self.matching.books[order.symbol].amend(order.order_id, quantity=p.open_quantity, price=price)
        order.quantity = p.quantity
        order.price = price
        order.reserved_price = reserved = Decimal(p.reserved_price)
        order.message = "amended" + ("" if p.priority_kept else " (back of the queue)")
        self.risk.release(order.order_id)
        self.reserve(order, p.open_quantity, reserved)
        self.matching.changed(event, order.symbol, result)

    # ------------------------------------------------------------------ risk control

    def levels(self, order: Order) -> tuple[Scope, Scope, Scope, Scope]:
        """The order's levels: firm, desk, account, trader."""
        return levels_of(order.desk, order.account, order.username)

    def reserve(self, order: Order, quantity: int, price: Decimal) -> None:
        """Count `quantity` of the order as working at `price`, at each of its levels."""
        self.risk.reserve(
            order.order_id,
            symbol=order.symbol,
            side=order.side.value,
            quantity=quantity,
            price=price,
            levels=self.levels(order),
        )

    def _on_limits(self, event: StoredEvent, p: events_pb2.RiskLimitsUpdated) -> None:
        n = p.new_limits
        scope = scope_from_proto(n.scope)
        if n.symbol:
            overrides = InstrumentLimits(**{name: limit_amount(getattr(n, name)) for name in INSTRUMENT_LIMITS})
            self.risk.set_instrument_limits(scope, n.symbol, overrides)
        else:
            engine = self.risk.engine(scope)
            amounts = {name: limit_amount(getattr(n, name)) for name in LIMIT_AMOUNTS}
            engine.set_limits(RiskLimits(**amounts, kill_switch_enabled=engine.limits.kill_switch_enabled))
        self.limits_notes[(scope, n.symbol)] = ControlNote(p.reason, n.updated_by, event.timestamp_us)
        if scope == FIRM and not n.symbol:
            self.limits_updated_us = event.timestamp_us
            self.limits_updated_by = p.new_limits.updated_by

    def _on_kill_switch(self, event: StoredEvent, p: events_pb2.KillSwitchActivated) -> None:
        # KILL_SWITCH_DEACTIVATED has the same fields (reason, username, scope)
        enabled = isinstance(p, events_pb2.KillSwitchActivated)
        scope = scope_from_proto(p.scope)
        self.controls.set_kill_switch(scope, enabled, ControlNote(p.reason, p.username, event.timestamp_us))
        if scope == FIRM:
            self.risk.set_limits(dataclasses.replace(self.risk.limits, kill_switch_enabled=enabled))
            self.kill_switch_reason = p.reason
            self.kill_switch_by = p.username

    def _on_trading_state(self, event: StoredEvent, p: events_pb2.TradingStateChanged) -> None:
        note = ControlNote(p.reason, p.username, event.timestamp_us, p.control)
        self.controls.set_mode(scope_from_proto(p.scope), TRADING_MODE_FROM_PROTO[p.new_state], note)

    def _on_restriction(self, event: StoredEvent, p: events_pb2.RestrictionChanged) -> None:
        note = ControlNote(p.reason, p.username, event.timestamp_us)
        self.controls.restrict(scope_from_proto(p.scope), p.symbol, RESTRICTION_FROM_PROTO[p.new_restriction], note)

    def _on_released(self, event: StoredEvent, p: events_pb2.OrderReleased) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.ORDER_RELEASED, event)
        order.released = True
        order.violations = ()
        order.message = f"released by {p.username}: {p.reason}"

    def _on_day_reset(self, event: StoredEvent, p: events_pb2.DailyVolumeReset) -> None:
        self.risk.reset_daily_volume()
        self.trading_day = p.trading_day

    # ------------------------------------------------------------------ reference data

    def _on_instrument(self, event: StoredEvent, p: events_pb2.InstrumentUpserted) -> None:
        instrument = instrument_from_proto(p.instrument, updated_us=event.timestamp_us)
        self.instruments[instrument.symbol] = instrument
        if instrument.symbol not in self.marks and instrument.reference_price is not None:
            self.risk.set_mark(instrument.symbol, instrument.reference_price)

    def _on_instrument_status(self, event: StoredEvent, p: events_pb2.InstrumentStatusChanged) -> None:
        instrument = self.instruments[event.symbol]
        self.instruments[event.symbol] = dataclasses.replace(
            instrument,
            status=INSTRUMENT_STATUS_FROM_PROTO[p.new_status],
            updated_us=event.timestamp_us,
            updated_by=p.username,
        )

    def _on_mark(self, event: StoredEvent, p: events_pb2.MarkRecorded) -> None:
        mark = mark_from_proto(p.mark, sequence=event.sequence)
        self.marks[mark.symbol] = mark
        self.risk.set_mark(mark.symbol, mark.price)

    # ------------------------------------------------------------------ accounts

    def _on_desk(self, event: StoredEvent, p: events_pb2.DeskUpserted) -> None:
        d = p.desk
        self.accounts.put_desk(Desk(d.desk_id, d.name, timestamp_to_us(d.updated_at), d.updated_by))

    def _on_account(self, event: StoredEvent, p: events_pb2.AccountUpserted) -> None:
        a = p.account
        kind = KIND_FROM_PROTO.get(a.kind, AccountKind.BOOK)
        self.accounts.put_account(
            Account(a.account_id, a.desk_id, a.name, kind, timestamp_to_us(a.updated_at), a.updated_by)
        )

    def _on_entitled(self, event: StoredEvent, p: events_pb2.TraderEntitled) -> None:
        e = p.entitlement
        self.accounts.entitle(Entitlement(e.user_id, e.username, tuple(e.accounts), e.default_account))


def not_entitled(username: str, account_id: str, user_id: str = "") -> PermissionDenied:
    """The refusal of a trader who names an account they are not entitled to."""
    return PermissionDenied(
        f"{username or user_id} is not entitled to account {account_id}",
        reason=Reason.ACCOUNT_NOT_ENTITLED,
        metadata={"account_id": account_id, "username": username},
    )


def check_exists(state: TradingState, scope: Scope) -> None:
    """NOT_FOUND for a desk, account or instrument that does not exist."""
    if scope.level is Level.DESK and scope.id not in state.accounts.desks:
        raise NotFound(
            f"no desk {scope.id} (see ListDesks)", reason=Reason.DESK_NOT_FOUND, metadata={"desk_id": scope.id}
        )
    if scope.level is Level.ACCOUNT and scope.id not in state.accounts.accounts:
        raise NotFound(
            f"no account {scope.id} (see ListAccounts)",
            reason=Reason.ACCOUNT_NOT_FOUND,
            metadata={"account_id": scope.id},
        )
    if scope.level is Level.INSTRUMENT and scope.id not in state.instruments:
        raise NotFound(
            f"no instrument {scope.id!r} is listed", reason=Reason.INSTRUMENT_NOT_FOUND, metadata={"symbol": scope.id}
        )


_APPLY: dict[str, Callable[[TradingState, StoredEvent, Any], None]] = {
    "ORDER_CREATED": TradingState._on_created,
    "RISK_CHECK_STARTED": TradingState._on_risk_started,
    "RISK_CHECK_PASSED": TradingState._on_risk_passed,
    "RISK_CHECK_FAILED": TradingState._on_risk_failed,
    "EXECUTION_STARTED": TradingState._on_execution_started,
    "EXECUTION_RETRIED": TradingState._on_execution_retried,
    "EXECUTION_COMPLETED": TradingState._on_execution_completed,
    "EXECUTION_FAILED": TradingState._on_execution_failed,
    "ORDER_CANCELLED": TradingState._on_cancelled,
    "ORDER_ACCEPTED": TradingState._on_accepted,
    "ORDER_FILLED": TradingState._on_filled,
    "ORDER_AMENDED": TradingState._on_amended,
    "ORDER_EXPIRED": TradingState._on_expired,
    "CIRCUIT_BREAKER_OPENED": TradingState._on_breaker,
    "CIRCUIT_BREAKER_HALF_OPENED": TradingState._on_breaker,
    "CIRCUIT_BREAKER_CLOSED": TradingState._on_breaker,
    "RISK_LIMITS_UPDATED": TradingState._on_limits,
    "KILL_SWITCH_ACTIVATED": TradingState._on_kill_switch,
    "KILL_SWITCH_DEACTIVATED": TradingState._on_kill_switch,
    "DAILY_VOLUME_RESET": TradingState._on_day_reset,
    "INSTRUMENT_UPSERTED": TradingState._on_instrument,
    "INSTRUMENT_STATUS_CHANGED": TradingState._on_instrument_status,
    "MARK_RECORDED": TradingState._on_mark,
    "ORDER_CANCEL_REQUESTED": TradingState._on_cancel_requested,
    "ORDER_STATUS_UNKNOWN": TradingState._on_status_unknown,
    "DESK_UPSERTED": TradingState._on_desk,
    "ACCOUNT_UPSERTED": TradingState._on_account,
    "TRADER_ENTITLED": TradingState._on_entitled,
    "TRADING_STATE_CHANGED": TradingState._on_trading_state,
    "RESTRICTION_CHANGED": TradingState._on_restriction,
    "ORDER_RELEASED": TradingState._on_released,
}
