"""The execution steps at an external venue, driven by the executor (`itirp.execution`): each
decision is an event, recorded before it is acted on; the circuit breaker's transitions too."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.message import Message

from itirp.core.matching import order_envelope
from itirp.core.recorder import Committed, Item, Recorder
from itirp.core.state import TradingState
from itirp.domain.breaker import BreakerState, Transition
from itirp.domain.orders import Order, OrderStatus, Trigger
from itirp.domain.venue import Fill
from itirp.events import timestamp_from_us
from itirp.v1 import events_pb2

__all__ = ["ExecutionSteps"]

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
        """Record EXECUTION_STARTED for the attempt, or fail the order fast while the breaker is open.
        Returns (go ahead, events); (False, None) when the order left the execution path (cancelled)."""
        order = self._state.orders[order_id]
        if not order.can(Trigger.EXECUTION_STARTED):
            return False, None
        breaker = self._state.breaker
        allowed, transition = breaker.admit(now_us)
        if not allowed:
            until = datetime.fromtimestamp(breaker.open_until_us / 1e6, UTC).isoformat(timespec="seconds")
            failed = events_pb2.ExecutionFailed(
                reason=f"circuit breaker open: venue calls suspended until {until} after repeated failures",
                attempts=attempt - 1,
                circuit_open=True,
            )
            return False, self._recorder.emit([(failed, self._envelope(order))], now_us)
        items = self._breaker_items(transition, order)
        items.append((events_pb2.ExecutionStarted(attempt=attempt, venue=venue), self._envelope(order)))
        return True, self._recorder.emit(items, now_us)

    def attempt_failed(
        self, order_id: str, attempt: int, reason: str, *, max_attempts: int, retry_delay_ms: int, now_us: int
    ) -> tuple[bool, Committed]:
        """A transient venue failure. Returns (will retry, events): EXECUTION_RETRIED, or
        EXECUTION_FAILED when attempts are used up or the breaker opens."""
        order = self._state.orders[order_id]
        transition = self._state.breaker.on_failure(now_us)
        opens = transition is not None and transition.to is BreakerState.OPEN
        retry = attempt < max_attempts and not opens
        payload: Message
        if retry:
            payload = events_pb2.ExecutionRetried(attempt=attempt, reason=reason, delay_ms=retry_delay_ms)
        else:
            why = reason if not opens else f"{reason}; circuit breaker opened"
            payload = events_pb2.ExecutionFailed(reason=why, attempts=attempt)
        items = [(payload, self._envelope(order)), *self._breaker_items(transition, order)]
        return retry, self._recorder.emit(items, now_us)

    def rejected_by_venue(self, order_id: str, attempt: int, reason: str, now_us: int) -> Committed:
        """A permanent rejection: never retried. The venue answered, so a half-open breaker closes
        (it must not stay half-open, refusing every later order, waiting for a probe result)."""
        order = self._state.orders[order_id]
        failed = events_pb2.ExecutionFailed(reason=reason, attempts=attempt, permanent=True)
        items: list[Item] = [(failed, self._envelope(order))]
        breaker = self._state.breaker
        if breaker.state is BreakerState.HALF_OPEN:
            items += self._breaker_items(breaker.on_success(), order)
        return self._recorder.emit(items, now_us)

    def completed(self, order_id: str, attempt: int, fill: Fill, venue: str, now_us: int) -> Committed:
        order = self._state.orders[order_id]
        completed = events_pb2.ExecutionCompleted(
            filled_quantity=fill.quantity,
            fill_price=str(fill.price),
            venue=venue,
            execution_id=fill.execution_id,
            attempt=attempt,
        )
        items = [(completed, self._envelope(order)), *self._breaker_items(self._state.breaker.on_success(), order)]
        return self._recorder.emit(items, now_us)

    def interrupted(self, order_id: str, now_us: int) -> Committed:
        """After a restart: an order that was executing when the server stopped. Its outcome at the
        venue is unknown, so it is failed (permanently) for the desk to reconcile, never re-sent."""
        order = self._state.orders[order_id]
        failed = events_pb2.ExecutionFailed(
            reason=(
                "execution interrupted by a server restart; outcome at the venue unknown, reconcile before re-sending"
            ),
            attempts=order.execution_attempts,
            permanent=True,
        )
        return self._recorder.emit([(failed, self._envelope(order))], now_us)

    def recovery_plan(self) -> tuple[list[str], list[str]]:
        """(orders approved but never sent to the venue: resume them; orders caught executing by a
        stop: fail them for reconciliation). Also clears a half-open probe that cannot be in flight."""
        self._state.breaker.probe_in_flight = False
        orders = self._state.order_list
        approved = [o.order_id for o in orders if o.status is OrderStatus.APPROVED]
        executing = [o.order_id for o in orders if o.status is OrderStatus.EXECUTING]
        return approved, executing
