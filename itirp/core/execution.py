"""The execution steps at an external venue, driven by the executor (`itirp.execution`): each
decision is an event, recorded before it is acted on; the circuit breaker's transitions too.

What the venue says arrives as an `ExecutionReport` of the order's whole state there; `report`
records only what the log does not have yet (the acknowledgement, fills by execution id, the
close), in the same vocabulary as the internal venue: ORDER_ACCEPTED, ORDER_FILLED,
ORDER_CANCELLED, and EXECUTION_FAILED for a rejection. An order whose outcome is in doubt is never
failed: it is UNKNOWN (ORDER_STATUS_UNKNOWN) until the venue's answer resolves it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.message import Message

from itirp.core.matching import order_envelope
from itirp.core.recorder import Committed, Item, Recorder
from itirp.core.state import TradingState
from itirp.domain.breaker import BreakerState, Transition
from itirp.domain.orders import Order, OrderStatus, Trigger
from itirp.domain.venue import ExecutionReport, VenueOrderState
from itirp.events import timestamp_from_us
from itirp.v1 import events_pb2

__all__ = ["AT_VENUE", "ExecutionSteps"]

_BREAKER_EVENT: dict[BreakerState, type[Message]] = {
    BreakerState.OPEN: events_pb2.CircuitBreakerOpened,
    BreakerState.HALF_OPEN: events_pb2.CircuitBreakerHalfOpened,
    BreakerState.CLOSED: events_pb2.CircuitBreakerClosed,
}


class ExecutionSteps:
    def __init__(self, state: TradingState, recorder: Recorder) -> None:
        self._state = state
        self._recorder = recorder

    def _breaker_items(self, transition: Transition | None, order: Order) -> list[Item]:
        if transition is None:
            return []
        envelope = {"correlation_id": order.correlation_id, "causation_id": order.order_id}
        if transition.to is BreakerState.OPEN:
            opened = events_pb2.CircuitBreakerOpened(
                consecutive_failures=transition.consecutive_failures,
                open_until=timestamp_from_us(transition.open_until_us),
            )
            return [(opened, envelope)]
        return [(_BREAKER_EVENT[transition.to](), envelope)]

    def _envelope(self, order: Order) -> dict[str, str]:
        return order_envelope(order, order.correlation_id, order.order_id)

    def begin_attempt(self, order_id: str, attempt: int, venue: str, now_us: int) -> tuple[bool, Committed | None]:
        """Record EXECUTION_STARTED for the attempt. While the breaker is open a first attempt fails
        fast (nothing was sent) and a later one makes the order UNKNOWN (an earlier attempt may have
        reached the venue). Returns (go ahead, events); (False, None) when the order left the
        execution path (cancelled, or a cancel is pending)."""
        order = self._state.orders[order_id]
        if not order.can(Trigger.EXECUTION_STARTED):
            return False, None
        breaker = self._state.breaker
        allowed, transition = breaker.admit(now_us)
        if not allowed:
            until = datetime.fromtimestamp(breaker.open_until_us / 1e6, UTC).isoformat(timespec="seconds")
            reason = f"circuit breaker open: venue calls suspended until {until} after repeated failures"
            payload: Message
            if attempt == 1:
                payload = events_pb2.ExecutionFailed(reason=reason, attempts=0, circuit_open=True)
            else:
                payload = events_pb2.OrderStatusUnknown(reason=reason, attempts=attempt - 1)
            return False, self._recorder.emit([(payload, self._envelope(order))], now_us)
        items = self._breaker_items(transition, order)
        items.append((events_pb2.ExecutionStarted(attempt=attempt, venue=venue), self._envelope(order)))
        return True, self._recorder.emit(items, now_us)

    def attempt_failed(
        self, order_id: str, attempt: int, reason: str, *, max_attempts: int, retry_delay_ms: int, now_us: int
    ) -> tuple[bool, Committed | None]:
        """A venue call for the order failed transiently (it may or may not have reached the venue).
        Returns (will retry, events): EXECUTION_RETRIED; when attempts are used up or the breaker
        opens, ORDER_STATUS_UNKNOWN for an order being sent (never FAILED: it may have filled).
        A failed cancel leaves the order PENDING_CANCEL (EXECUTION_RETRIED, retried later). Nothing
        when a report resolved the order meanwhile (an unsolicited fill while the call was out)."""
        order = self._state.orders[order_id]
        pending_cancel = order.status is OrderStatus.PENDING_CANCEL
        if order.status is not OrderStatus.EXECUTING and not pending_cancel:
            return False, None  # a report resolved the order while the call was out: nothing to retry
        transition = self._state.breaker.on_failure(now_us)
        opens = transition is not None and transition.to is BreakerState.OPEN
        retry = attempt < max_attempts and not opens
        payload: Message
        if pending_cancel:
            if not retry:
                reason, retry_delay_ms = f"{reason}; the cancel is sent again at the next reconciliation", 0
            payload = events_pb2.ExecutionRetried(attempt=attempt, reason=reason, delay_ms=retry_delay_ms)
        elif retry:
            payload = events_pb2.ExecutionRetried(attempt=attempt, reason=reason, delay_ms=retry_delay_ms)
        else:
            why = reason if not opens else f"{reason}; circuit breaker opened"
            payload = events_pb2.OrderStatusUnknown(reason=why, attempts=attempt, attempt_failed=True)
        items = [(payload, self._envelope(order)), *self._breaker_items(transition, order)]
        return retry, self._recorder.emit(items, now_us)

    def rejected_by_venue(self, order_id: str, attempt: int, reason: str, now_us: int) -> Committed | None:
        """A permanent rejection: never retried. The venue answered, so a half-open breaker closes
        (it must not stay half-open, refusing every later order, waiting for a probe result)."""
        order = self._state.orders[order_id]
        items = self._answered(order)
        if order.can(Trigger.EXECUTION_FAILED):  # (unless a report resolved it meanwhile)
            failed = events_pb2.ExecutionFailed(reason=reason, attempts=attempt, permanent=True)
            items.insert(0, (failed, self._envelope(order)))
        return self._recorder.emit(items, now_us) if items else None

    def _answered(self, order: Order) -> list[Item]:
        """The venue answered a call: the breaker's success (a half-open breaker closes)."""
        return self._breaker_items(self._state.breaker.on_success(), order)

    def report(
        self, order_id: str, report: ExecutionReport, venue: str, now_us: int, *, answered: bool = True
    ) -> Committed | None:
        """Record what `report` says that the log does not have yet; None when it adds nothing.
        `answered`: the report answers a call of ours (the breaker counts a success), as opposed to
        an unsolicited one (a resting order's fill)."""
        order = self._state.orders[order_id]
        breaker = self._answered(order) if answered else []
        items: list[Item] = []
        if not order.status.terminal:
            items = self._report_items(order, report, venue)
        if not items and not breaker:
            return None
        return self._recorder.emit(items + breaker, now_us)

    def _report_items(self, order: Order, report: ExecutionReport, venue: str) -> list[Item]:
        envelope = self._envelope(order)
        if report.state is VenueOrderState.REJECTED:
            if order.venue_accepted:
                return []  # a rejection of an order the venue already acknowledged: not ours to believe
            failed = events_pb2.ExecutionFailed(
                reason=f"rejected by the {venue} venue: {report.reason}",
                attempts=order.execution_attempts,
                permanent=True,
            )
            return [(failed, envelope)]
        items: list[Item] = []
        # a cancel that reached the venue before the order: the venue never took it
        never_there = not report.accepted and order.status in (OrderStatus.PENDING_CANCEL, OrderStatus.UNKNOWN)
        if not order.venue_accepted and not never_there:
            items.append((events_pb2.OrderAccepted(venue=venue), envelope))
        remaining = order.quantity - order.filled_quantity
        for fill in report.fills:
            if order.has_fill(fill.execution_id):
                continue
            if fill.quantity > remaining:
                raise ValueError(
                    f"the {venue} venue reported {fill.quantity} filled on order {order.order_id}"
                    f" with {remaining} open: report ignored"
                )
            remaining -= fill.quantity
            filled = events_pb2.OrderFilled(
                trade_id=fill.execution_id,
                quantity=fill.quantity,
                price=str(fill.price),
                aggressor=fill.aggressor,
                remaining_quantity=remaining,
                venue=venue,
            )
            items.append((filled, envelope))
        if report.state is VenueOrderState.CANCELLED and remaining > 0:
            reason = report.reason or f"cancelled at the {venue} venue"
            items.append((events_pb2.OrderCancelled(reason=reason, quantity=remaining), envelope))
        return items

    def no_record(self, order_id: str, venue: str, now_us: int) -> Committed | None:
        """The venue says it has no order of ours by this id (a status query, after a timeout or a
        restart): one being sent never arrived (nothing filled: FAILED), one that was working is
        not any more (its session ended: CANCELLED)."""
        order = self._state.orders[order_id]
        envelope = self._envelope(order)
        payload: Message
        if order.status in (OrderStatus.EXECUTING, OrderStatus.UNKNOWN):
            payload = events_pb2.ExecutionFailed(
                reason=f"the {venue} venue has no record of the order: it never arrived, nothing was filled",
                attempts=order.execution_attempts,
                permanent=True,
            )
        elif order.status in (OrderStatus.WORKING, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL):
            payload = events_pb2.OrderCancelled(
                reason=f"the {venue} venue has no record of the order (its session ended): nothing is working there",
                quantity=order.remaining_quantity,
            )
        else:
            return None
        return self._recorder.emit([(payload, envelope)], now_us)

    def unreachable(self, order_id: str, reason: str, now_us: int) -> Committed | None:
        """An order being sent whose status could not be asked (after a restart): UNKNOWN."""
        order = self._state.orders[order_id]
        if not order.can(Trigger.ORDER_STATUS_UNKNOWN):
            return None
        unknown = events_pb2.OrderStatusUnknown(reason=reason, attempts=order.execution_attempts)
        return self._recorder.emit([(unknown, self._envelope(order))], now_us)

    def recovery_plan(self, venue: str) -> tuple[list[str], list[str]]:
        """(orders approved but never sent to the venue: send them; orders that were, or may be, at
        `venue`: reconcile them with its status). Also clears a half-open probe that cannot be in
        flight."""
        self._state.breaker.probe_in_flight = False
        orders = self._state.order_list
        approved = [o.order_id for o in orders if o.status is OrderStatus.APPROVED]
        at_venue = [o.order_id for o in orders if o.venue == venue and o.status in AT_VENUE]
        return approved, at_venue


#: The statuses of an order that is, or may be, at an external venue.
AT_VENUE = frozenset(
    {
        OrderStatus.EXECUTING,
        OrderStatus.UNKNOWN,
        OrderStatus.WORKING,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
    }
)
