"""The sequencer's commands: each validates, mints its events, stages them with the event sink
and folds them into the state, synchronously. Built as the application builds it (see
harness.py), over an in-memory sink and a test clock; durability is the application's
(tests/unit/app/test_sink.py)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from google.protobuf.message import Message

from itirp.core.commands import UpdateRiskLimits
from itirp.core.protos import trading_day_of
from itirp.domain.breaker import BreakerState
from itirp.domain.orders import OrderStatus, Side
from itirp.domain.risk import RiskLimits
from itirp.domain.venue import ExecutionReport, Fill, VenueOrderState
from itirp.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from itirp.events import decode_payload
from itirp.store import StoredEvent
from itirp.v1 import common_pb2, events_pb2

from .harness import (
    BREAKER_OPEN_SECONDS,
    BREAKER_THRESHOLD,
    DAY,
    RISK,
    SECOND,
    START_US,
    Harness,
    open_harness,
    types_of,
)

SUBMIT_EVENTS = ["ORDER_CREATED", "RISK_CHECK_STARTED", "RISK_CHECK_PASSED"]
REJECT_EVENTS = ["ORDER_CREATED", "RISK_CHECK_STARTED", "RISK_CHECK_FAILED"]


@pytest.fixture
def h() -> Harness:
    return open_harness()


def payload(event: StoredEvent) -> Message:
    return decode_payload(event.event_type, event.schema_version, event.payload)


def violation_names(violations: object) -> list[str]:
    return [common_pb2.ViolationType.Name(v.type).removeprefix("VIOLATION_TYPE_") for v in violations]  # type: ignore[attr-defined]


def approved(h: Harness, **kwargs: object) -> str:
    order, _ = h.submit(**kwargs)  # type: ignore[arg-type]
    assert order.status is OrderStatus.APPROVED
    return order.order_id


def start(h: Harness, order_id: str, attempt: int = 1) -> bool:
    go, _ = h.core.execution.begin_attempt(order_id, attempt, "sim", h.now_us)
    return go


def filled(order_id: str, *fills: Fill) -> ExecutionReport:
    return ExecutionReport(order_id, VenueOrderState.FILLED, fills)


def fill(h: Harness, order_id: str, attempt: int = 1) -> None:
    order = h.core.state.orders[order_id]
    assert order.price is not None
    report = filled(order_id, Fill(order.quantity, order.price, f"x-{attempt}"))
    h.core.execution.report(order_id, report, "sim", h.now_us)


def fail_attempt(h: Harness, order_id: str, attempt: int, max_attempts: int = 1) -> bool:
    retry, _ = h.core.execution.attempt_failed(
        order_id, attempt, "connection reset", max_attempts=max_attempts, retry_delay_ms=250, now_us=h.now_us
    )
    return retry


def open_breaker(h: Harness) -> None:
    """BREAKER_THRESHOLD orders, each failing its only attempt."""
    for i in range(BREAKER_THRESHOLD):
        order_id = approved(h, symbol=f"F{i}")
        assert start(h, order_id)
        fail_attempt(h, order_id, 1)
    assert h.core.state.breaker.state is BreakerState.OPEN


# -- submit ---------------------------------------------------------------------------------------


def test_submit_within_limits_records_created_risk_started_and_passed_then_approves(h: Harness) -> None:
    # Act
    order, committed = h.submit(symbol="AAPL", side=Side.BUY, quantity=100, price="150.00", client_order_id="c-1")
    events = committed.events

    # Assert: the events, in order, for one order
    assert types_of(committed) == SUBMIT_EVENTS
    assert [e.sequence for e in events] == [1, 2, 3]
    assert committed.last_sequence == 3
    assert {(e.order_id, e.user_id, e.symbol, e.correlation_id) for e in events} == {
        (order.order_id, "u-trader1", "AAPL", "corr-c-1")
    }
    assert h.event_types() == SUBMIT_EVENTS
    passed = payload(events[2])
    assert isinstance(passed, events_pb2.RiskCheckPassed)
    assert passed.reserved_notional == "15000.00"
    # ... and the state they fold into
    assert order.status is OrderStatus.APPROVED
    assert order.message == "Order approved and submitted for execution"
    assert (order.created_sequence, order.last_sequence) == (1, 3)
    assert h.core.state.orders[order.order_id] is order
    assert h.core.queries.status_counts()[OrderStatus.APPROVED] == 1
    assert h.core.queries.metrics().working_exposure == Decimal("15000")
    assert h.core.queries.trading_day == "2024-03-01"


def test_submitted_events_are_staged_with_the_sink_and_applied_at_once(h: Harness) -> None:
    # Act
    _, committed = h.submit()

    # Assert: sequenced by the sink and folded into the state in the same call (their durability
    # is the application's: tests/unit/app/test_sink.py)
    assert len(committed.events) == 3
    assert h.core.queries.last_applied == 3
    assert h.events() == committed.events


def test_submit_breaching_limits_records_risk_check_failed_and_rejects_without_reserving(h: Harness) -> None:
    # Act: 100,000 x 200 = 20,000,000 breaches every limit
    order, committed = h.submit(symbol="TSLA", quantity=100_000, price="200")

    # Assert
    assert types_of(committed) == REJECT_EVENTS
    failed = payload(committed.events[2])
    assert isinstance(failed, events_pb2.RiskCheckFailed)
    expected = ["POSITION_LIMIT", "DAILY_VOLUME_LIMIT", "NET_EXPOSURE_LIMIT", "GROSS_EXPOSURE_LIMIT"]
    assert violation_names(failed.violations) == expected
    assert order.status is OrderStatus.REJECTED
    assert violation_names(order.violations) == expected
    assert order.message == "Risk violations: " + ", ".join(expected)
    assert h.core.queries.metrics().working_exposure == 0


def test_orders_are_kept_in_creation_order_and_per_user(h: Harness) -> None:
    # Act
    a = approved(h, symbol="AAPL", user_id="u1")
    b = approved(h, symbol="MSFT", user_id="u2")
    c = approved(h, symbol="TSLA", user_id="u1")

    # Assert
    state = h.core.state
    assert [o.order_id for o in state.order_list] == [a, b, c]
    assert [o.order_id for o in state.orders_by_user["u1"]] == [a, c]
    assert [o.order_id for o in state.orders_by_user["u2"]] == [b]


def test_duplicate_client_order_id_raises_already_exists_naming_the_first_order(h: Harness) -> None:
    # Arrange
    first = approved(h, client_order_id="dup-1")
    head = h.core.queries.last_applied

    # Act
    with pytest.raises(AlreadyExists) as caught:
        h.submit(client_order_id="dup-1", symbol="MSFT")

    # Assert: nothing recorded, nothing changed
    assert first in str(caught.value)
    assert "dup-1" in str(caught.value)
    assert h.core.queries.last_applied == head
    assert len(h.core.state.orders) == 1
    assert len(h.events()) == head


def test_client_order_id_of_a_rejected_order_cannot_be_reused_either(h: Harness) -> None:
    # Arrange
    rejected, _ = h.submit(client_order_id="big", quantity=100_000, price="200")

    # Act / Assert
    with pytest.raises(AlreadyExists, match=rejected.order_id):
        h.submit(client_order_id="big")


def test_the_same_client_order_id_is_free_for_another_user(h: Harness) -> None:
    # Arrange
    approved(h, client_order_id="shared", user_id="u1")

    # Act
    second = approved(h, client_order_id="shared", user_id="u2")

    # Assert
    assert h.core.state.client_order_ids[("u2", "shared")] == second
    assert len(h.core.state.client_order_ids) == 2


def test_orders_without_a_client_order_id_are_never_duplicates(h: Harness) -> None:
    approved(h, client_order_id="")
    approved(h, client_order_id="")

    assert len(h.core.state.orders) == 2
    assert h.core.state.client_order_ids == {}


def test_duplicate_detection_survives_a_replay(h: Harness) -> None:
    # Arrange
    first = approved(h, client_order_id="dup-2")

    # Act
    h.core = h.replayed()

    # Assert
    with pytest.raises(AlreadyExists, match=first):
        h.submit(client_order_id="dup-2")


# -- cancel ---------------------------------------------------------------------------------------


def test_cancel_of_an_approved_order_cancels_it_and_releases_its_reservation(h: Harness) -> None:
    # Arrange
    order_id = approved(h)
    risk = dataclasses.replace(RISK, correlation_id="", causation_id="req-9")

    # Act
    order, committed = h.cancel(order_id, by=risk, reason="fat finger")
    (event,) = committed.events

    # Assert
    assert event.event_type == "ORDER_CANCELLED"
    assert event.user_id == RISK.user_id  # the actor
    assert event.correlation_id == order.correlation_id  # the order's story
    assert event.causation_id == "req-9"
    assert order.status is OrderStatus.CANCELLED
    assert order.message == "cancelled: fat finger"
    assert h.core.queries.metrics().working_exposure == 0
    assert h.core.queries.status_counts()[OrderStatus.APPROVED] == 0
    assert h.core.queries.status_counts()[OrderStatus.CANCELLED] == 1


def test_cancel_after_execution_started_is_pending_until_the_venue_answers(h: Harness) -> None:
    # Arrange: sent to the venue, no answer yet (walk-past case 4: this cancel used to be refused)
    order_id = approved(h)
    assert start(h, order_id)
    exposure = h.core.queries.metrics().working_exposure

    # Act
    order, committed = h.cancel(order_id)

    # Assert: asked for, not done - the order may still fill, so it stays reserved
    assert types_of(committed) == ["ORDER_CANCEL_REQUESTED"]
    p = payload(h.events()[-1])
    assert isinstance(p, events_pb2.OrderCancelRequested)
    assert p.previous_status == common_pb2.ORDER_STATUS_EXECUTING
    assert order.status is OrderStatus.PENDING_CANCEL
    assert h.core.queries.metrics().working_exposure == exposure > 0
    assert h.core.queries.in_doubt() == [order_id]


def test_a_repeated_cancel_of_a_pending_cancel_records_nothing(h: Harness) -> None:
    # Arrange
    order_id = approved(h)
    assert start(h, order_id)
    h.cancel(order_id)
    head = h.core.queries.last_applied

    # Act
    order, committed = h.cancel(order_id)

    # Assert
    assert committed is None
    assert order.status is OrderStatus.PENDING_CANCEL
    assert h.core.queries.last_applied == head


def test_the_venues_cancel_closes_a_pending_cancel_with_the_fills_that_came_first(h: Harness) -> None:
    # Arrange: 100 at the venue, 40 filled before the cancel reached it
    order_id = approved(h, quantity=100, price="150")
    start(h, order_id)
    h.cancel(order_id)
    first = Fill(40, Decimal("149.99"), "x-1")
    report = ExecutionReport(order_id, VenueOrderState.CANCELLED, (first,), "cancelled on request")

    # Act
    committed = h.core.execution.report(order_id, report, "sim", h.now_us)

    # Assert
    assert types_of(committed) == ["ORDER_ACCEPTED", "ORDER_FILLED", "ORDER_CANCELLED"]
    order = h.core.state.orders[order_id]
    assert (order.status, order.filled_quantity) == (OrderStatus.CANCELLED, 40)
    cancelled = payload(h.events()[-1])
    assert isinstance(cancelled, events_pb2.OrderCancelled)
    assert (cancelled.quantity, cancelled.reason) == (60, "cancelled on request")
    assert h.core.queries.metrics().working_exposure == 0
    (position,) = h.core.queries.positions()
    assert position.quantity == 40


@pytest.mark.parametrize("outcome", ["executed", "rejected", "cancelled"])
def test_cancel_of_a_finished_order_raises_failed_precondition(h: Harness, outcome: str) -> None:
    # Arrange
    if outcome == "rejected":
        order, _ = h.submit(quantity=100_000, price="200")
        order_id = order.order_id
    else:
        order_id = approved(h)
        if outcome == "executed":
            start(h, order_id)
            fill(h, order_id)
        else:
            h.cancel(order_id)
    status = h.core.state.orders[order_id].status

    # Act / Assert
    with pytest.raises(FailedPrecondition, match=status.value):
        h.cancel(order_id)
    assert h.core.state.orders[order_id].status is status


def test_cancel_of_an_unknown_order_raises_not_found(h: Harness) -> None:
    with pytest.raises(NotFound):
        h.cancel("no-such-order")


def test_a_cancelled_order_is_never_started(h: Harness) -> None:
    # Arrange
    order_id = approved(h)
    h.cancel(order_id)
    head = h.core.queries.last_applied

    # Act
    go, committed = h.core.execution.begin_attempt(order_id, 1, "sim", h.now_us)

    # Assert
    assert (go, committed) == (False, None)
    assert h.core.queries.last_applied == head


# -- kill switch and limits -----------------------------------------------------------------------


def test_kill_switch_rejects_every_order_with_only_kill_switch_active(h: Harness) -> None:
    # Arrange
    assert h.set_kill_switch(True, reason="market halt") is not None

    # Act: a small order and one that would also breach every limit
    small, _ = h.submit(quantity=1, price="1")
    huge, _ = h.submit(quantity=100_000, price="200")

    # Assert
    for order in (small, huge):
        assert order.status is OrderStatus.REJECTED
        assert violation_names(order.violations) == ["KILL_SWITCH_ACTIVE"]
    assert h.core.queries.metrics().kill_switch_active is True


def test_kill_switch_events_carry_who_and_why_and_repeat_requests_record_nothing(h: Harness) -> None:
    # Act
    on = h.set_kill_switch(True, reason="halt")
    again = h.set_kill_switch(True, reason="halt")
    assert on is not None
    (event,) = on.events

    # Assert
    assert again is None
    assert event.event_type == "KILL_SWITCH_ACTIVATED"
    assert event.user_id == RISK.user_id
    kill_switch = h.core.queries.kill_switch()
    assert (kill_switch.reason, kill_switch.set_by) == ("halt", RISK.username)
    assert kill_switch.active is True
    assert h.core.queries.limits().limits.kill_switch_enabled is True


def test_deactivating_the_kill_switch_lets_orders_through_again(h: Harness) -> None:
    # Arrange
    h.set_kill_switch(True, reason="a")

    # Act
    off = h.set_kill_switch(False, reason="b")
    assert off is not None
    (event,) = off.events

    # Assert
    assert event.event_type == "KILL_SWITCH_DEACTIVATED"
    assert h.core.queries.kill_switch().reason == "b"
    approved(h)


def test_update_limits_records_old_and_new_limits_and_applies_them(h: Harness) -> None:
    # Arrange
    h.advance(SECOND)
    command = UpdateRiskLimits(actor=RISK, amounts={"max_position_size": "20000"}, reason="tighten")

    # Act
    old, new, committed = h.core.controls.update_limits(command, h.now_us)
    (event,) = committed.events

    # Assert
    assert old == RiskLimits()
    assert new == RiskLimits(max_position_size=Decimal("20000"))
    assert event.event_type == "RISK_LIMITS_UPDATED"
    assert event.user_id == RISK.user_id
    p = payload(event)
    assert isinstance(p, events_pb2.RiskLimitsUpdated)
    assert (p.old_limits.max_position_size, p.new_limits.max_position_size) == ("1000000.00", "20000.00")
    assert p.new_limits.updated_by == RISK.username
    assert p.reason == "tighten"
    limits = h.core.queries.limits()
    assert limits.limits == new
    assert (limits.updated_us, limits.updated_by) == (START_US + SECOND, RISK.username)


def test_an_order_above_an_updated_limit_is_rejected(h: Harness) -> None:
    # Arrange
    h.update_limits(max_position_size="20000")

    # Act
    order, _ = h.submit(quantity=200, price="150")  # 30,000

    # Assert
    assert violation_names(order.violations) == ["POSITION_LIMIT"]


def test_update_limits_keeps_the_kill_switch_as_it_is(h: Harness) -> None:
    h.set_kill_switch(True, reason="a")

    h.update_limits(max_daily_volume="123")

    limits = h.core.queries.limits().limits
    assert limits.kill_switch_enabled is True
    assert limits.max_daily_volume == Decimal("123")


def test_update_limits_with_an_invalid_value_records_nothing(h: Harness) -> None:
    with pytest.raises(InvalidArgument) as caught:
        h.update_limits(max_net_exposure="-1")

    assert [v.field for v in caught.value.violations] == ["max_net_exposure"]
    assert h.core.queries.last_applied == 0
    assert h.core.queries.limits().limits == RiskLimits()


# -- trading day ----------------------------------------------------------------------------------


def test_roll_day_records_nothing_before_the_first_order(h: Harness) -> None:
    h.advance(3 * DAY)

    assert h.core.orders.roll_day(h.now_us) is None


def test_roll_day_records_nothing_while_the_utc_date_is_unchanged(h: Harness) -> None:
    # Arrange: 12:00 UTC; 11 h 59 min later is still the same date
    approved(h)
    h.advance(11 * 3600 * SECOND + 59 * 60 * SECOND)

    # Act / Assert
    assert h.core.orders.roll_day(h.now_us) is None
    assert h.core.queries.trading_day == "2024-03-01"


def test_roll_day_after_midnight_resets_the_daily_volume(h: Harness) -> None:
    # Arrange: 15,000 executed on 2024-03-01
    order_id = approved(h)
    start(h, order_id)
    fill(h, order_id)
    assert h.core.queries.metrics().executed_volume == Decimal("15000")
    h.advance(12 * 3600 * SECOND)  # exactly midnight

    # Act
    committed = h.core.orders.roll_day(h.now_us, correlation_id="day")
    assert committed is not None
    (event,) = committed.events

    # Assert
    assert event.event_type == "DAILY_VOLUME_RESET"
    assert event.correlation_id == "day"
    p = payload(event)
    assert isinstance(p, events_pb2.DailyVolumeReset)
    assert (p.previous_trading_day, p.previous_volume, p.trading_day) == ("2024-03-01", "15000.00", "2024-03-02")
    assert h.core.queries.trading_day == "2024-03-02"
    assert h.core.queries.metrics().executed_volume == 0
    assert h.core.orders.roll_day(h.now_us + SECOND) is None  # once per day


def test_first_order_of_a_new_day_rolls_the_day_before_its_risk_check(h: Harness) -> None:
    # Arrange: a daily volume limit of 20,000, 15,000 of it used today
    h.update_limits(max_daily_volume="20000")
    order_id = approved(h)
    start(h, order_id)
    fill(h, order_id)
    today, _ = h.submit(quantity=100, price="100")  # 10,000 more: too much today
    assert violation_names(today.violations) == ["DAILY_VOLUME_LIMIT"]
    h.advance(DAY)

    # Act
    tomorrow, committed = h.submit(quantity=100, price="100")

    # Assert: the reset is recorded just before the order's own events
    assert types_of(committed) == SUBMIT_EVENTS
    assert h.event_types()[-4:] == ["DAILY_VOLUME_RESET", *SUBMIT_EVENTS]
    assert h.core.queries.trading_day == "2024-03-02"
    assert tomorrow.status is OrderStatus.APPROVED


def test_trading_day_is_the_utc_date() -> None:
    assert trading_day_of(START_US) == "2024-03-01"
    assert trading_day_of(START_US + 12 * 3600 * SECOND - 1) == "2024-03-01"
    assert trading_day_of(START_US + 12 * 3600 * SECOND) == "2024-03-02"


# -- execution and the circuit breaker ------------------------------------------------------------


def test_begin_attempt_records_execution_started_with_attempt_and_venue(h: Harness) -> None:
    # Arrange
    order_id = approved(h)

    # Act
    go, committed = h.core.execution.begin_attempt(order_id, 1, "sim", h.now_us)
    assert committed is not None
    (event,) = committed.events

    # Assert
    assert go is True
    p = payload(event)
    assert isinstance(p, events_pb2.ExecutionStarted)
    assert (p.attempt, p.venue) == (1, "sim")
    order = h.core.state.orders[order_id]
    assert order.status is OrderStatus.EXECUTING
    assert order.execution_attempts == 1


def test_a_venue_report_of_a_fill_accepts_and_fills_the_order_and_books_the_position(h: Harness) -> None:
    # Arrange
    order_id = approved(h, symbol="MSFT", quantity=10, price="400")
    start(h, order_id)

    # Act
    committed = h.core.execution.report(order_id, filled(order_id, Fill(10, Decimal("399.5"), "x-1")), "sim", h.now_us)

    # Assert: the internal venue's vocabulary (breaker closed: nothing to record for it)
    assert types_of(committed) == ["ORDER_ACCEPTED", "ORDER_FILLED"]
    order = h.core.state.orders[order_id]
    assert order.status is OrderStatus.EXECUTED
    assert (order.filled_quantity, order.average_fill_price) == (10, Decimal("399.5"))
    (position,) = h.core.queries.positions()
    assert (position.symbol, position.quantity, position.average_price) == ("MSFT", 10, Decimal("399.5"))
    metrics = h.core.queries.metrics()
    assert (metrics.executed_volume, metrics.working_exposure) == (Decimal("3995.0"), 0)


def test_transient_failure_with_attempts_left_records_a_retry(h: Harness) -> None:
    # Arrange
    order_id = approved(h)
    start(h, order_id)

    # Act
    retry = fail_attempt(h, order_id, 1, max_attempts=3)

    # Assert
    assert retry is True
    last = h.events()[-1]
    assert last.event_type == "EXECUTION_RETRIED"
    p = payload(last)
    assert isinstance(p, events_pb2.ExecutionRetried)
    assert (p.attempt, p.reason, p.delay_ms) == (1, "connection reset", 250)
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTING
    assert h.core.queries.breaker().consecutive_failures == 1


def test_transient_failure_of_the_last_attempt_makes_the_order_unknown_and_keeps_it_reserved(h: Harness) -> None:
    # Arrange
    order_id = approved(h)
    start(h, order_id)
    exposure = h.core.queries.metrics().working_exposure

    # Act
    retry = fail_attempt(h, order_id, 1, max_attempts=1)

    # Assert: it may have reached the venue and filled: never FAILED, still counted against risk
    assert retry is False
    p = payload(h.events()[-1])
    assert isinstance(p, events_pb2.OrderStatusUnknown)
    assert (p.attempts, p.attempt_failed) == (1, True)
    assert h.core.state.orders[order_id].status is OrderStatus.UNKNOWN
    assert h.core.queries.metrics().working_exposure == exposure > 0
    assert h.core.queries.breaker().consecutive_failures == 1
    assert h.core.queries.in_doubt() == [order_id]


def test_permanent_rejection_fails_the_order_without_counting_a_breaker_failure(h: Harness) -> None:
    # Arrange
    order_id = approved(h)
    start(h, order_id)

    # Act
    (event,) = h.core.execution.rejected_by_venue(order_id, 1, "symbol halted", h.now_us).events

    # Assert
    p = payload(event)
    assert isinstance(p, events_pb2.ExecutionFailed)
    assert (p.reason, p.permanent) == ("symbol halted", True)
    assert h.core.state.orders[order_id].status is OrderStatus.FAILED
    assert h.core.queries.breaker().consecutive_failures == 0


def test_threshold_consecutive_failures_open_the_breaker_and_stop_retries(h: Harness) -> None:
    # Arrange: one order, plenty of attempts; the breaker opens at the third failure
    order_id = approved(h)
    outcomes = []

    # Act
    for attempt in range(1, BREAKER_THRESHOLD + 1):
        assert start(h, order_id, attempt)
        retry, committed = h.core.execution.attempt_failed(
            order_id, attempt, "reset", max_attempts=10, retry_delay_ms=1, now_us=h.now_us
        )
        outcomes.append((retry, types_of(committed)))

    # Assert
    assert outcomes == [
        (True, ["EXECUTION_RETRIED"]),
        (True, ["EXECUTION_RETRIED"]),
        (False, ["ORDER_STATUS_UNKNOWN", "CIRCUIT_BREAKER_OPENED"]),
    ]
    events = h.events()
    failed, opened = payload(events[-2]), payload(events[-1])
    assert isinstance(failed, events_pb2.OrderStatusUnknown)
    assert "circuit breaker opened" in failed.reason
    assert isinstance(opened, events_pb2.CircuitBreakerOpened)
    assert opened.consecutive_failures == BREAKER_THRESHOLD
    open_until = START_US + int(BREAKER_OPEN_SECONDS * SECOND)
    assert opened.open_until.seconds * SECOND + opened.open_until.nanos // 1000 == open_until
    breaker = h.core.queries.breaker()
    assert (breaker.state, breaker.open_until_us) == (BreakerState.OPEN, open_until)


def test_open_breaker_fails_new_executions_fast_without_a_venue_call(h: Harness) -> None:
    # Arrange
    open_breaker(h)
    exposure = h.core.queries.metrics().working_exposure  # the orders that opened it are UNKNOWN
    order_id = approved(h, symbol="NEW")
    failures = h.core.queries.breaker().consecutive_failures

    # Act
    go, committed = h.core.execution.begin_attempt(order_id, 1, "sim", h.now_us)
    assert committed is not None
    (event,) = committed.events

    # Assert
    assert go is False
    p = payload(event)
    assert isinstance(p, events_pb2.ExecutionFailed)
    assert (p.circuit_open, p.attempts) == (True, 0)
    assert "circuit breaker open" in p.reason
    order = h.core.state.orders[order_id]
    assert order.status is OrderStatus.FAILED
    assert h.core.queries.metrics().working_exposure == exposure
    assert h.core.queries.breaker().consecutive_failures == failures  # a fast fail is not a venue failure


def test_after_the_open_period_one_probe_goes_out_and_its_success_closes_the_breaker(h: Harness) -> None:
    # Arrange
    open_breaker(h)
    probe = approved(h, symbol="PRB")
    other = approved(h, symbol="OTH")
    h.advance(int(BREAKER_OPEN_SECONDS * SECOND))
    breaker = h.core.state.breaker

    # Act 1: the probe
    go, committed = h.core.execution.begin_attempt(probe, 1, "sim", h.now_us)

    # Assert 1
    assert go is True
    assert types_of(committed) == ["CIRCUIT_BREAKER_HALF_OPENED", "EXECUTION_STARTED"]
    assert (breaker.state, breaker.probe_in_flight) == (BreakerState.HALF_OPEN, True)

    # Act 2: a second order while the probe is out
    go_other, committed_other = h.core.execution.begin_attempt(other, 1, "sim", h.now_us)

    # Assert 2
    assert go_other is False
    assert committed_other is not None
    assert h.core.state.orders[other].status is OrderStatus.FAILED

    # Act 3: the probe succeeds
    order = h.core.state.orders[probe]
    assert order.price is not None
    done = h.core.execution.report(probe, filled(probe, Fill(order.quantity, order.price, "x")), "sim", h.now_us)

    # Assert 3
    assert types_of(done) == ["ORDER_ACCEPTED", "ORDER_FILLED", "CIRCUIT_BREAKER_CLOSED"]
    assert (breaker.state, breaker.consecutive_failures, breaker.probe_in_flight) == (BreakerState.CLOSED, 0, False)


def test_probe_failure_opens_the_breaker_again_with_a_new_open_until(h: Harness) -> None:
    # Arrange
    open_breaker(h)
    probe = approved(h, symbol="PRB")
    h.advance(int(BREAKER_OPEN_SECONDS * SECOND) + 5 * SECOND)
    assert start(h, probe)

    # Act
    retry, committed = h.core.execution.attempt_failed(
        probe, 1, "reset", max_attempts=3, retry_delay_ms=1, now_us=h.now_us
    )

    # Assert
    assert retry is False
    assert types_of(committed) == ["ORDER_STATUS_UNKNOWN", "CIRCUIT_BREAKER_OPENED"]
    breaker = h.core.state.breaker
    assert breaker.state is BreakerState.OPEN
    assert breaker.open_until_us == h.now_us + int(BREAKER_OPEN_SECONDS * SECOND)
    assert breaker.probe_in_flight is False


def test_permanent_rejection_of_the_probe_does_not_leave_the_breaker_stuck(h: Harness) -> None:
    # Arrange: the breaker is half-open and its probe is out
    open_breaker(h)
    probe = approved(h, symbol="PRB")
    h.advance(int(BREAKER_OPEN_SECONDS * SECOND))
    assert start(h, probe)

    # Act: the venue answers the probe with a permanent rejection (it is reachable), and much later
    # another order tries to execute
    h.core.execution.rejected_by_venue(probe, 1, "symbol halted", h.now_us)
    later = approved(h, symbol="LATER")
    h.advance(3600 * SECOND)
    go = start(h, later)

    # Assert: the probe is over, so the breaker must let a call through again
    assert h.core.state.breaker.probe_in_flight is False
    assert go is True


def test_a_retry_while_the_breaker_is_open_makes_the_order_unknown_not_failed(h: Harness) -> None:
    # Arrange: attempt 1 went out; the breaker opened on other orders meanwhile; attempt 1 failed
    order_id = approved(h, symbol="PRB")
    assert start(h, order_id)
    open_breaker(h)
    assert fail_attempt(h, order_id, 1, max_attempts=5)

    # Act
    go, committed = h.core.execution.begin_attempt(order_id, 2, "sim", h.now_us)

    # Assert
    assert go is False
    assert types_of(committed) == ["ORDER_STATUS_UNKNOWN"]
    assert h.core.state.orders[order_id].status is OrderStatus.UNKNOWN


@pytest.mark.parametrize(
    ("at", "expected", "event_type"),
    [
        ("executing", OrderStatus.FAILED, "EXECUTION_FAILED"),
        ("unknown", OrderStatus.FAILED, "EXECUTION_FAILED"),
        ("working", OrderStatus.CANCELLED, "ORDER_CANCELLED"),
        ("pending_cancel", OrderStatus.CANCELLED, "ORDER_CANCELLED"),
    ],
)
def test_a_venue_with_no_record_of_an_order_closes_it_by_what_it_was(
    h: Harness, at: str, expected: OrderStatus, event_type: str
) -> None:
    # Arrange
    order_id = approved(h)
    start(h, order_id)
    if at == "unknown":
        fail_attempt(h, order_id, 1)
    elif at in ("working", "pending_cancel"):
        h.core.execution.report(order_id, ExecutionReport(order_id, VenueOrderState.WORKING), "sim", h.now_us)
        if at == "pending_cancel":
            h.cancel(order_id)

    # Act
    committed = h.core.execution.no_record(order_id, "sim", h.now_us)

    # Assert: nothing filled and nothing open there; the reservation is released
    assert types_of(committed) == [event_type]
    assert "no record" in h.core.state.orders[order_id].message
    assert h.core.state.orders[order_id].status is expected
    assert h.core.queries.metrics().working_exposure == 0


def test_applying_the_same_report_twice_records_nothing_the_second_time(h: Harness) -> None:
    # Arrange
    order_id = approved(h, quantity=100, price="150")
    start(h, order_id)
    report = ExecutionReport(order_id, VenueOrderState.WORKING, (Fill(30, Decimal("150"), "x-1"),))
    h.core.execution.report(order_id, report, "sim", h.now_us, answered=False)
    head = h.core.queries.last_applied

    # Act
    again = h.core.execution.report(order_id, report, "sim", h.now_us, answered=False)

    # Assert
    assert again is None
    assert h.core.queries.last_applied == head
    order = h.core.state.orders[order_id]
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, 30)


def test_a_rejection_report_fails_an_order_the_venue_never_accepted(h: Harness) -> None:
    # Arrange
    order_id = approved(h)
    start(h, order_id)
    report = ExecutionReport(order_id, VenueOrderState.REJECTED, reason="symbol not tradable")

    # Act
    committed = h.core.execution.report(order_id, report, "sim", h.now_us)

    # Assert
    assert types_of(committed) == ["EXECUTION_FAILED"]
    order = h.core.state.orders[order_id]
    assert order.status is OrderStatus.FAILED
    assert order.message == "rejected by the sim venue: symbol not tradable"


def test_a_report_that_overfills_the_order_is_refused_and_records_nothing(h: Harness) -> None:
    # Arrange
    order_id = approved(h, quantity=100, price="150")
    start(h, order_id)
    head = h.core.queries.last_applied

    # Act / Assert
    with pytest.raises(ValueError, match="reported 150 filled"):
        h.core.execution.report(order_id, filled(order_id, Fill(150, Decimal("150"), "x-1")), "sim", h.now_us)
    assert h.core.queries.last_applied == head
    assert h.core.state.orders[order_id].status is OrderStatus.EXECUTING


# -- recovery -------------------------------------------------------------------------------------


def test_recovery_plan_after_replay_names_approved_and_executing_orders(h: Harness) -> None:
    # Arrange: one order in every interesting state
    waiting = approved(h, symbol="WAIT")
    executing = approved(h, symbol="EXEC")
    start(h, executing)
    done = approved(h, symbol="DONE")
    start(h, done)
    fill(h, done)
    cancelled = approved(h, symbol="CNCL")
    h.cancel(cancelled)
    waiting_too = approved(h, symbol="WAIT2")

    # Act
    plan = h.replayed().execution.recovery_plan("sim")

    # Assert
    assert plan == ([waiting, waiting_too], [executing])


def test_recovery_plan_clears_a_half_open_probe_that_cannot_still_be_in_flight(h: Harness) -> None:
    # Arrange: stopped while the probe was out
    open_breaker(h)
    probe = approved(h, symbol="PRB")
    h.advance(int(BREAKER_OPEN_SECONDS * SECOND))
    assert start(h, probe)
    fresh = h.replayed()
    breaker = fresh.state.breaker
    assert (breaker.state, breaker.probe_in_flight) == (BreakerState.HALF_OPEN, True)

    # Act
    _, executing = fresh.execution.recovery_plan("sim")

    # Assert
    assert probe in executing
    assert breaker.probe_in_flight is False
    assert breaker.admit(h.now_us) == (True, None)
