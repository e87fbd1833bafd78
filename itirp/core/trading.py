"""The trading core: the sequencer. One writer, one command at a time, no await inside a command.

Each command validates against the current state, mints its events, hands them to the event sink
(the store's `append`, which assigns sequence numbers synchronously), applies those same stored
events to the state, and returns the awaitable that resolves once they are durable. The risk check
and the reservation it makes happen inside one synchronous call, so two concurrent orders can
never both pass a limit only one of them fits.

State is the fold of events (`apply`): on restart the same function replays the log, so the live
path and recovery cannot disagree. Pure: no I/O, no asyncio, no gRPC; the clock is the caller's
(`now_us` arguments) and ids come from the injected journal.

The internal venue (`venue="internal"`): an approved order meets its symbol's `OrderBook` in the
same command. The book operation runs once, where the command runs it, and its result is handed to
the fold of the event that records it (ORDER_ACCEPTED, ORDER_AMENDED); a replay, which has no
command, runs the same operation when it folds that event. The book is deterministic, so the
replay rebuilds the same books, and the fills, self-trade cancellations and the incoming order's
fate are events of their own (ORDER_FILLED for each order of each match, ORDER_CANCELLED) that
move orders, positions and reservations. A cancel, an expiry or a fold of anything else reaches
the book through the fold alone. Book changes are reported to `on_book_change` with the sequence
of the event behind them, for market data (which shows them once that event is durable).
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
from itirp.domain import book as bk
from itirp.domain.book import LevelChange, OrderBook
from itirp.domain.money import format_money
from itirp.domain.orders import (
    Fill as OrderFill,
)
from itirp.domain.orders import (
    NewOrder,
    Order,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trigger,
)
from itirp.domain.risk import (
    LIMIT_AMOUNTS,
    RiskEngine,
    RiskLimits,
    Violation,
    ViolationDetail,
)
from itirp.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from itirp.events import decode_payload, timestamp_from_us
from itirp.execution.breaker import BreakerState, CircuitBreaker, Transition
from itirp.execution.venue import Fill
from itirp.store import NewEvent, StoredEvent
from itirp.v1 import common_pb2, events_pb2, risk_pb2

__all__ = [
    "INTERNAL_VENUE",
    "ORDER_TYPE_PROTO",
    "SIDE_PROTO",
    "SIMULATED_VENUE",
    "STP_PROTO",
    "TIF_PROTO",
    "VENUES",
    "Committed",
    "TradingCore",
    "limits_proto",
    "trading_day_of",
    "violations_message",
]

SIMULATED_VENUE = "simulated"
INTERNAL_VENUE = "internal"
VENUES = (SIMULATED_VENUE, INTERNAL_VENUE)

#: Called with (event sequence, event timestamp_us, symbol, level changes) for every event that
#: changed a book, live and during replay.
BookChangeHook = Callable[[int, int, str, list[LevelChange]], None]

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
#: Order type, time in force and self-trade prevention <-> protobuf; unset (0) reads as the default.
ORDER_TYPE_PROTO = {t: common_pb2.OrderType.Value(f"ORDER_TYPE_{t.value}") for t in OrderType}
TIF_PROTO = {t: common_pb2.TimeInForce.Value(f"TIME_IN_FORCE_{t.value}") for t in TimeInForce}
STP_PROTO = {m: common_pb2.SelfTradePrevention.Value(f"SELF_TRADE_PREVENTION_{m.value}") for m in SelfTradePrevention}
_ORDER_TYPE_FROM_PROTO = {0: OrderType.LIMIT, **{n: t for t, n in ORDER_TYPE_PROTO.items()}}
_TIF_FROM_PROTO = {0: TimeInForce.GTC, **{n: t for t, n in TIF_PROTO.items()}}
_STP_FROM_PROTO = {0: SelfTradePrevention.CANCEL_RESTING, **{n: m for m, n in STP_PROTO.items()}}
#: Why the book cancelled the rest of an incoming order, for the trader.
_REMAINDER_REASON = {
    bk.REASON_IOC: "IOC: the part that could not fill at once was cancelled",
    bk.REASON_MARKET: "MARKET: no more liquidity in the book; the unfilled part was cancelled",
    bk.REASON_FOK: "FOK: could not fill completely at once; nothing traded",
    bk.REASON_SELF_TRADE: "self-trade prevention: it would have traded with your own resting order",
}
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
    def __init__(
        self, journal: Journal, sink: Sink, *, breaker: CircuitBreaker | None = None, venue: str = SIMULATED_VENUE
    ) -> None:
        if venue not in VENUES:
            raise ValueError(f"venue must be one of {', '.join(VENUES)} (got {venue!r})")
        self._journal = journal
        self._sink = sink
        self.venue = venue
        #: The internal venue's books, by symbol (rebuilt by replay whatever the venue now is).
        self.books: dict[str, OrderBook] = {}
        self.on_book_change: BookChangeHook | None = None
        # A book operation's result between the command that ran it and the fold of its event.
        self._matched: dict[str, bk.SubmitResult] = {}
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
        correlation_id = correlation_id or self._journal.new_id()
        items: list[tuple[Message, dict[str, str]]] = []
        for book in self.books.values():  # the day's end: DAY orders expire, then the new day starts
            for order_id in book.day_orders():
                order = self.orders[order_id]
                envelope = self._order_envelope(order, correlation_id, causation_id)
                expired = events_pb2.OrderExpired(trading_day=self.trading_day, quantity=order.remaining_quantity)
                items.append((expired, envelope))
        payload = events_pb2.DailyVolumeReset(
            previous_trading_day=self.trading_day,
            previous_volume=format_money(self.risk.metrics().executed_volume),
            trading_day=today,
        )
        items.append((payload, {"correlation_id": correlation_id}))
        return self._emit(items, now_us)

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
        internal = self.venue == INTERNAL_VENUE
        if order.order_type is OrderType.MARKET and not internal:
            raise FailedPrecondition(
                "MARKET orders need the internal venue's book to price them; this server runs the simulated venue"
            )
        if order.client_order_id:
            existing = self.client_order_ids.get((user_id, order.client_order_id))
            if existing is not None:
                raise AlreadyExists(
                    f"client_order_id {order.client_order_id!r} was already used for order {existing}"
                )
        # a new day first: yesterday's DAY orders must not price (or meet) today's first order
        self.roll_day(now_us, correlation_id=correlation_id, causation_id=causation_id)
        reserved_price = order.price
        if order.order_type is OrderType.MARKET:
            book = self.books.get(order.symbol)
            reserved_price = (
                book.sweep_price(order.side.value, order.quantity, user_id, order.stp.value) if book is not None else None
            )
            if reserved_price is None:
                other = "SELL" if order.side is Side.BUY else "BUY"
                opposite = book is not None and (book.best_ask() if order.side is Side.BUY else book.best_bid())
                mine = " but your own, which self-trade prevention keeps it from trading with" if opposite else ""
                raise FailedPrecondition(
                    f"no {other} orders rest in the {order.symbol} book{mine}: a MARKET order has nothing to trade against"
                )
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
            price=str(order.price) if order.price is not None else "",
            strategy=order.strategy,
            order_type=ORDER_TYPE_PROTO[order.order_type],
            time_in_force=TIF_PROTO[order.time_in_force],
            self_trade_prevention=STP_PROTO[order.stp],
        )
        assert reserved_price is not None
        violations = self.risk.check(
            symbol=order.symbol, side=order.side.value, quantity=order.quantity, price=reserved_price
        )
        items: list[tuple[Message, dict[str, str]]] = [(created, envelope), (events_pb2.RiskCheckStarted(), envelope)]
        if violations:
            items.append((events_pb2.RiskCheckFailed(violations=[_violation_proto(v) for v in violations]), envelope))
        else:
            passed = events_pb2.RiskCheckPassed(
                reserved_notional=format_money(order.quantity * reserved_price), reserved_price=str(reserved_price)
            )
            items.append((passed, envelope))
            if internal:
                items += self._enter_book(
                    order_id, user_id, order.symbol, order.side, order.quantity, order.price,
                    order.order_type, order.time_in_force, order.stp, envelope,
                )
        committed = self._emit(items, now_us)
        return self.orders[order_id], committed

    def accept(self, order_id: str, now_us: int) -> Committed:
        """Take an APPROVED order to the internal venue's book (after a restart: an order approved
        while the server ran the simulated venue, never sent)."""
        order = self.orders[order_id]
        if not order.can(Trigger.ORDER_ACCEPTED):
            raise FailedPrecondition(f"order {order_id} is {order.status.value}: only an approved order can enter the book")
        envelope = self._order_envelope(order, order.correlation_id, order.order_id)
        items = self._enter_book(
            order_id, order.user_id, order.symbol, order.side, order.quantity, order.price,
            order.order_type, order.time_in_force, order.stp, envelope,
        )
        return self._emit(items, now_us)

    def _book(self, symbol: str) -> OrderBook:
        book = self.books.get(symbol)
        if book is None:
            book = self.books[symbol] = OrderBook(symbol)
        return book

    def _enter_book(
        self,
        order_id: str,
        user_id: str,
        symbol: str,
        side: Side,
        quantity: int,
        price: object,
        order_type: OrderType,
        time_in_force: TimeInForce,
        stp: SelfTradePrevention,
        envelope: dict[str, str],
    ) -> list[tuple[Message, dict[str, str]]]:
        """Match an approved order in its book now; the events that record it (see the module doc)."""
        result = self._book_submit(order_id, user_id, symbol, side, quantity, price, order_type, time_in_force, stp)
        self._matched[order_id] = result
        accepted = (events_pb2.OrderAccepted(venue=INTERNAL_VENUE), envelope)
        return [accepted, *self._match_items(result, quantity, envelope)]

    def _book_submit(
        self,
        order_id: str,
        user_id: str,
        symbol: str,
        side: Side,
        quantity: int,
        price: object,
        order_type: OrderType,
        time_in_force: TimeInForce,
        stp: SelfTradePrevention,
    ) -> bk.SubmitResult:
        """The book operation of ORDER_ACCEPTED: the one call the command and the replay both make."""
        return self._book(symbol).submit(
            order_id,
            user_id,
            side.value,
            quantity,
            price,  # type: ignore[arg-type]
            order_type=order_type.value,
            time_in_force=time_in_force.value,
            stp=stp.value,
        )

    def _match_items(
        self, result: bk.SubmitResult, open_quantity: int, envelope: dict[str, str]
    ) -> list[tuple[Message, dict[str, str]]]:
        """The events of what a book operation did: a fill for each order of each match, the
        self-trade cancellations, and the cancellation of the incoming order's rest."""
        items: list[tuple[Message, dict[str, str]]] = []
        correlation_id, taker_id = envelope["correlation_id"], envelope["order_id"]
        left = open_quantity
        for fill in result.fills:
            trade_id = self._journal.new_id()
            price = format_money(fill.price)
            left -= fill.quantity
            items.append((
                events_pb2.OrderFilled(
                    trade_id=trade_id, quantity=fill.quantity, price=price, contra_order_id=fill.maker_order_id,
                    aggressor=True, remaining_quantity=left, venue=INTERNAL_VENUE,
                ),
                envelope,
            ))
            maker = self.orders[fill.maker_order_id]
            items.append((
                events_pb2.OrderFilled(
                    trade_id=trade_id, quantity=fill.quantity, price=price, contra_order_id=taker_id,
                    aggressor=False, remaining_quantity=maker.remaining_quantity - fill.quantity, venue=INTERNAL_VENUE,
                ),
                self._order_envelope(maker, correlation_id, taker_id),
            ))
        for cancel in result.self_trade_cancels:
            resting = self.orders[cancel.order_id]
            reason = f"self-trade prevention: your order {taker_id} would have traded with it"
            items.append((
                events_pb2.OrderCancelled(reason=reason, quantity=cancel.quantity),
                self._order_envelope(resting, correlation_id, taker_id),
            ))
        if result.status in (bk.CANCELLED, bk.KILLED):
            reason = _REMAINDER_REASON[result.reason]
            items.append((events_pb2.OrderCancelled(reason=reason, quantity=result.cancelled_quantity), envelope))
        return items

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
        cancelled = events_pb2.OrderCancelled(reason=reason, quantity=order.remaining_quantity)
        committed = self._emit([(cancelled, envelope)], now_us)
        return order, committed

    def amend(
        self,
        order_id: str,
        *,
        quantity: int,
        price: Decimal | None,
        actor_id: str,
        correlation_id: str,
        causation_id: str,
        now_us: int,
    ) -> tuple[Order, bool, Committed]:
        """Change a resting order's total size (`quantity`, filled part included; 0 keeps it) and/or
        limit `price` (None keeps it). Returns (order, priority kept, events). A larger order or a
        new price passes pre-trade risk again first; refused (nothing recorded) if it breaches."""
        order = self._get(order_id)
        self.roll_day(now_us, correlation_id=correlation_id, causation_id=causation_id)  # yesterday's DAY orders are gone
        book = self.books.get(order.symbol)
        if book is None or order_id not in book or not order.can(Trigger.ORDER_AMENDED):
            raise FailedPrecondition(
                f"order {order_id} is {order.status.value}: only an order resting in the internal venue's book"
                " (WORKING or PARTIALLY_FILLED) can be amended"
            )
        assert order.price is not None and order.reserved_price is not None  # resting: a limit order
        total = quantity or order.quantity
        if total <= order.filled_quantity:
            raise InvalidArgument(
                "quantity", f"must be above the {order.filled_quantity} already filled (cancel the order to stop it)"
            )
        new_price = order.price if price is None else price
        if total == order.quantity and new_price == order.price:
            raise InvalidArgument("amend", "nothing to change: give a new quantity, a new price or both")
        open_now, open_new = order.quantity - order.filled_quantity, total - order.filled_quantity
        if open_new > open_now or new_price != order.price:
            self._check_amendment(order, open_now, open_new, new_price)
        result = book.amend(order_id, quantity=open_new, price=new_price)
        self._matched[order_id] = result
        envelope = self._order_envelope(order, correlation_id or order.correlation_id, causation_id)
        envelope["user_id"] = actor_id
        amended = events_pb2.OrderAmended(
            open_quantity=open_new,
            price=str(new_price),
            quantity=total,
            priority_kept=result.priority_kept,
            reserved_price=str(new_price),
        )
        items = [(amended, envelope), *self._match_items(result, open_new, envelope)]
        return order, result.priority_kept, self._emit(items, now_us)

    def _check_amendment(self, order: Order, open_now: int, open_new: int, price: Decimal) -> None:
        """Pre-trade risk of the amended order in place of the current one: take the current
        reservation out, check, put it back (all synchronous: nobody sees the gap)."""
        risk, side = self.risk, order.side.value
        risk.release(order.order_id)
        try:
            violations = risk.check(symbol=order.symbol, side=side, quantity=open_new, price=price)
        finally:
            risk.reserve(order.order_id, symbol=order.symbol, side=side, quantity=open_now, price=order.reserved_price)  # type: ignore[arg-type]
        if violations:
            raise FailedPrecondition(
                "amendment refused by pre-trade risk: " + "; ".join(v.message for v in violations)
            )

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
            price=Decimal(p.price) if p.price else None,
            strategy=p.strategy,
            order_type=_ORDER_TYPE_FROM_PROTO[p.order_type],
            time_in_force=_TIF_FROM_PROTO[p.time_in_force],
            stp=_STP_FROM_PROTO[p.self_trade_prevention],
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

    def _on_risk_passed(self, event: StoredEvent, p: events_pb2.RiskCheckPassed) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.RISK_CHECK_PASSED, event)
        order.message = "Order approved and submitted for execution"
        price = Decimal(p.reserved_price) if p.reserved_price else order.price
        order.reserved_price = price
        self.risk.reserve(order.order_id, symbol=order.symbol, side=order.side.value, quantity=order.quantity, price=price)  # type: ignore[arg-type]

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
        order.add_fill(OrderFill(p.execution_id, p.filled_quantity, price, True, event.timestamp_us, event.sequence))
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
        self._leave_book(order, event)

    def _leave_book(self, order: Order, event: StoredEvent) -> None:
        """A cancel or expiry of a resting order takes it out of its book (the book's own
        cancellations - self-trade prevention, an IOC's rest - already did: nothing to do)."""
        book = self.books.get(order.symbol)
        if book is None:
            return
        cancelled = book.cancel(order.order_id)
        if cancelled is not None and self.on_book_change is not None:
            self.on_book_change(event.sequence, event.timestamp_us, order.symbol, [cancelled.level_change])

    def _on_accepted(self, event: StoredEvent, p: events_pb2.OrderAccepted) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.ORDER_ACCEPTED, event)
        order.message = "in the book"
        result = self._matched.pop(order.order_id, None)
        if result is None:  # replay: run the match the command ran
            result = self._book_submit(
                order.order_id, order.user_id, order.symbol, order.side, order.quantity, order.price,
                order.order_type, order.time_in_force, order.stp,
            )
        self._book_changed(event, order.symbol, result)

    def _book_changed(self, event: StoredEvent, symbol: str, result: bk.SubmitResult) -> None:
        if self.on_book_change is not None:
            changes = result.level_changes
            if changes:
                self.on_book_change(event.sequence, event.timestamp_us, symbol, changes)

    def _on_filled(self, event: StoredEvent, p: events_pb2.OrderFilled) -> None:
        order = self.orders[event.order_id]
        price = Decimal(p.price)
        order.add_fill(OrderFill(p.trade_id, p.quantity, price, p.aggressor, event.timestamp_us, event.sequence))
        done = order.filled_quantity == order.quantity
        self._set_status(order, Trigger.FINAL_FILL if done else Trigger.PARTIAL_FILL, event)
        order.message = "filled" if done else f"partially filled: {order.quantity - order.filled_quantity} open"
        self.realized_pnl += self.risk.fill(order.order_id, quantity=p.quantity, price=price)

    def _on_amended(self, event: StoredEvent, p: events_pb2.OrderAmended) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.ORDER_AMENDED, event)
        price = Decimal(p.price)
        result = self._matched.pop(order.order_id, None)
        if result is None:  # replay: run the amendment the command ran
            result = self.books[order.symbol].amend(order.order_id, quantity=p.open_quantity, price=price)
        order.quantity = p.quantity
        order.price = price
        order.reserved_price = Decimal(p.reserved_price)
        order.message = "amended" + ("" if p.priority_kept else " (back of the queue)")
        self.risk.release(order.order_id)
        self.risk.reserve(
            order.order_id, symbol=order.symbol, side=order.side.value, quantity=p.open_quantity, price=order.reserved_price
        )
        self._book_changed(event, order.symbol, result)

    def _on_expired(self, event: StoredEvent, p: events_pb2.OrderExpired) -> None:
        order = self.orders[event.order_id]
        self._set_status(order, Trigger.ORDER_EXPIRED, event)
        order.message = f"expired at the end of trading day {p.trading_day}"
        self.risk.release(order.order_id)
        self._leave_book(order, event)

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
    "ORDER_ACCEPTED": TradingCore._on_accepted,
    "ORDER_FILLED": TradingCore._on_filled,
    "ORDER_AMENDED": TradingCore._on_amended,
    "ORDER_EXPIRED": TradingCore._on_expired,
    "CIRCUIT_BREAKER_OPENED": TradingCore._on_breaker,
    "CIRCUIT_BREAKER_HALF_OPENED": TradingCore._on_breaker,
    "CIRCUIT_BREAKER_CLOSED": TradingCore._on_breaker,
    "RISK_LIMITS_UPDATED": TradingCore._on_limits,
    "KILL_SWITCH_ACTIVATED": TradingCore._on_kill_switch,
    "KILL_SWITCH_DEACTIVATED": TradingCore._on_kill_switch,
    "DAILY_VOLUME_RESET": TradingCore._on_day_reset,
}
