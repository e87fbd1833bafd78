"""TradingCore: each command validates, mints its events, applies them, and hands back their
durability. Built as the server builds it (see harness.py), with a test clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from google.protobuf.message import Message

from itirp.core.trading import trading_day_of
from itirp.domain.orders import OrderStatus, Side
from itirp.domain.risk import RiskLimits
from itirp.errors import AlreadyExists, FailedPrecondition, NotFound
from itirp.events import decode_payload
from itirp.domain.breaker import BreakerState
from itirp.execution.venue import Fill
from itirp.store import StoredEvent
from itirp.v1 import common_pb2, events_pb2

from .harness import (
    BREAKER_OPEN_SECONDS,
    BREAKER_THRESHOLD,
    DAY,
    SECOND,
    START_US,
    Harness,
    open_harness,
    types_of,
)

SUBMIT_EVENTS = ["ORDER_CREATED", "RISK_CHECK_STARTED", "RISK_CHECK_PASSED"]
REJECT_EVENTS = ["ORDER_CREATED", "RISK_CHECK_STARTED", "RISK_CHECK_FAILED"]


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    harness = await open_harness()
    try:
        yield harness
    finally:
        await harness.store.close()


def payload(event: StoredEvent) -> Message:
    return decode_payload(event.event_type, event.schema_version, event.payload)


def violation_names(violations: object) -> list[str]:
    return [common_pb2.ViolationType.Name(v.type).removeprefix("VIOLATION_TYPE_") for v in violations]  # type: ignore[attr-defined]


async def approved(h: Harness, **kwargs: object) -> str:
    order, committed = h.submit(**kwargs)  # type: ignore[arg-type]
    await committed
    assert order.status is OrderStatus.APPROVED
    return order.order_id


async def start(h: Harness, order_id: str, attempt: int = 1) -> bool:
    go, committed = h.core.begin_attempt(order_id, attempt, "sim", h.now_us)
    if committed is not None:
        await committed
    return go


async def fill(h: Harness, order_id: str, attempt: int = 1) -> None:
    order = h.core.orders[order_id]
    await h.core.completed(order_id, attempt, Fill(order.quantity, order.price, f"x-{attempt}"), "sim", h.now_us)


async def fail_attempt(h: Harness, order_id: str, attempt: int, max_attempts: int = 1) -> bool:
    retry, committed = h.core.attempt_failed(
        order_id, attempt, "connection reset", max_attempts=max_attempts, retry_delay_ms=250, now_us=h.now_us
    )
    await committed
    return retry


async def open_breaker(h: Harness) -> None:
    """BREAKER_THRESHOLD orders, each failing its only attempt."""
    for i in range(BREAKER_THRESHOLD):
        order_id = await approved(h, symbol=f"F{i}")
        assert await start(h, order_id)
        await fail_attempt(h, order_id, 1)
    assert h.core.breaker.state is BreakerState.OPEN


# -- submit ---------------------------------------------------------------------------------------


async def test_submit_within_limits_records_created_risk_started_and_passed_then_approves(h: Harness) -> None:
    # Act
    order, committed = h.submit(symbol="AAPL", side=Side.BUY, quantity=100, price="150.00", client_order_id="c-1")
    durable = await committed

    # Assert: the events, in order, for one order
    assert types_of(committed) == SUBMIT_EVENTS
    assert [e.sequence for e in durable] == [1, 2, 3]
    assert {(e.order_id, e.user_id, e.symbol, e.correlation_id) for e in durable} == {
        (order.order_id, "u-trader1", "AAPL", "corr-c-1")
    }
    assert await h.event_types() == SUBMIT_EVENTS
    passed = payload(durable[2])
    assert isinstance(passed, events_pb2.RiskCheckPassed)
    assert passed.reserved_notional == "15000.00"
    # ... and the state they fold into
    assert order.status is OrderStatus.APPROVED
    assert order.message == "Order approved and submitted for execution"
    assert (order.created_sequence, order.last_sequence) == (1, 3)
    assert h.core.orders[order.order_id] is order
    assert h.core.status_counts[OrderStatus.APPROVED] == 1
    assert h.core.risk.metrics().working_exposure == Decimal("15000")
    assert h.core.trading_day == "2024-03-01"


async def test_submitted_events_are_readable_only_once_durable(h: Harness) -> None:
    # Act
    _, committed = h.submit()

    # Assert: applied at once, readable after the commit
    assert len(committed.events) == 3
    assert h.core.last_applied == 3
    assert await h.store.read() == []
    await committed
    assert len(await h.store.read()) == 3


async def test_submit_breaching_limits_records_risk_check_failed_and_rejects_without_reserving(h: Harness) -> None:
    # Act: 100,000 x 200 = 20,000,000 breaches every limit
    order, committed = h.submit(symbol="TSLA", quantity=100_000, price="200")
    durable = await committed

    # Assert
    assert types_of(committed) == REJECT_EVENTS
    failed = payload(durable[2])
    assert isinstance(failed, events_pb2.RiskCheckFailed)
    expected = ["POSITION_LIMIT", "DAILY_VOLUME_LIMIT", "NET_EXPOSURE_LIMIT", "GROSS_EXPOSURE_LIMIT"]
    assert violation_names(failed.violations) == expected
    assert order.status is OrderStatus.REJECTED
    assert violation_names(order.violations) == expected
    assert order.message == "Risk violations: " + ", ".join(expected)
    assert h.core.risk.metrics().working_exposure == 0


async def test_orders_are_kept_in_creation_order_and_per_user(h: Harness) -> None:
    # Act
    a = await approved(h, symbol="AAPL", user_id="u1")
    b = await approved(h, symbol="MSFT", user_id="u2")
    c = await approved(h, symbol="TSLA", user_id="u1")

    # Assert
    assert [o.order_id for o in h.core.order_list] == [a, b, c]
    assert [o.order_id for o in h.core.orders_by_user["u1"]] == [a, c]
    assert [o.order_id for o in h.core.orders_by_user["u2"]] == [b]


async def test_duplicate_client_order_id_raises_already_exists_naming_the_first_order(h: Harness) -> None:
    # Arrange
    first = await approved(h, client_order_id="dup-1")
    head = h.core.last_applied

    # Act
    with pytest.raises(AlreadyExists) as caught:
        h.submit(client_order_id="dup-1", symbol="MSFT")

    # Assert: nothing recorded, nothing changed
    assert first in str(caught.value)
    assert "dup-1" in str(caught.value)
    assert h.core.last_applied == head
    assert len(h.core.orders) == 1
    assert len(await h.store.read()) == head


async def test_client_order_id_of_a_rejected_order_cannot_be_reused_either(h: Harness) -> None:
    # Arrange
    rejected, committed = h.submit(client_order_id="big", quantity=100_000, price="200")
    await committed

    # Act / Assert
    with pytest.raises(AlreadyExists, match=rejected.order_id):
        h.submit(client_order_id="big")


async def test_the_same_client_order_id_is_free_for_another_user(h: Harness) -> None:
    # Arrange
    await approved(h, client_order_id="shared", user_id="u1")

    # Act
    second = await approved(h, client_order_id="shared", user_id="u2")

    # Assert
    assert h.core.client_order_ids[("u2", "shared")] == second
    assert len(h.core.client_order_ids) == 2


async def test_orders_without_a_client_order_id_are_never_duplicates(h: Harness) -> None:
    await approved(h, client_order_id="")
    await approved(h, client_order_id="")

    assert len(h.core.orders) == 2
    assert h.core.client_order_ids == {}


async def test_duplicate_detection_survives_a_replay(h: Harness) -> None:
    # Arrange
    first = await approved(h, client_order_id="dup-2")

    # Act
    fresh = await h.replayed()
    h.core = fresh

    # Assert
    with pytest.raises(AlreadyExists, match=first):
        h.submit(client_order_id="dup-2")


# -- cancel ---------------------------------------------------------------------------------------


async def test_cancel_of_an_approved_order_cancels_it_and_releases_its_reservation(h: Harness) -> None:
    # Arrange
    order_id = await approved(h)

    # Act
    order, committed = h.core.cancel(
        order_id, actor_id="u-risk", reason="fat finger", correlation_id="", causation_id="req-9", now_us=h.now_us
    )
    (event,) = await committed

    # Assert
    assert event.event_type == "ORDER_CANCELLED"
    assert event.user_id == "u-risk"  # the actor
    assert event.correlation_id == order.correlation_id  # the order's story
    assert order.status is OrderStatus.CANCELLED
    assert order.message == "cancelled: fat finger"
    assert h.core.risk.metrics().working_exposure == 0
    assert h.core.status_counts[OrderStatus.APPROVED] == 0
    assert h.core.status_counts[OrderStatus.CANCELLED] == 1


async def test_cancel_after_execution_started_raises_failed_precondition_and_records_nothing(h: Harness) -> None:
    # Arrange
    order_id = await approved(h)
    assert await start(h, order_id)
    head = h.core.last_applied

    # Act
    with pytest.raises(FailedPrecondition) as caught:
        h.core.cancel(order_id, actor_id="u1", reason="", correlation_id="", causation_id="", now_us=h.now_us)

    # Assert
    assert "EXECUTING" in str(caught.value) and "it is executing" in str(caught.value)
    assert h.core.orders[order_id].status is OrderStatus.EXECUTING
    assert h.core.last_applied == head


@pytest.mark.parametrize("outcome", ["executed", "rejected", "cancelled"])
async def test_cancel_of_a_finished_order_raises_failed_precondition(h: Harness, outcome: str) -> None:
    # Arrange
    if outcome == "rejected":
        order, committed = h.submit(quantity=100_000, price="200")
        await committed
        order_id = order.order_id
    else:
        order_id = await approved(h)
        if outcome == "executed":
            await start(h, order_id)
            await fill(h, order_id)
        else:
            await h.core.cancel(order_id, actor_id="u1", reason="", correlation_id="", causation_id="", now_us=h.now_us)[1]
    status = h.core.orders[order_id].status

    # Act / Assert
    with pytest.raises(FailedPrecondition, match=status.value):
        h.core.cancel(order_id, actor_id="u1", reason="", correlation_id="", causation_id="", now_us=h.now_us)
    assert h.core.orders[order_id].status is status


async def test_cancel_of_an_unknown_order_raises_not_found(h: Harness) -> None:
    with pytest.raises(NotFound):
        h.core.cancel("no-such-order", actor_id="u1", reason="", correlation_id="", causation_id="", now_us=h.now_us)


async def test_a_cancelled_order_is_never_started(h: Harness) -> None:
    # Arrange
    order_id = await approved(h)
    await h.core.cancel(order_id, actor_id="u1", reason="", correlation_id="", causation_id="", now_us=h.now_us)[1]
    head = h.core.last_applied

    # Act
    go, committed = h.core.begin_attempt(order_id, 1, "sim", h.now_us)

    # Assert
    assert (go, committed) == (False, None)
    assert h.core.last_applied == head


# -- kill switch and limits -----------------------------------------------------------------------


async def test_kill_switch_rejects_every_order_with_only_kill_switch_active(h: Harness) -> None:
    # Arrange
    committed = h.core.set_kill_switch(
        True, actor_id="u-risk", username="risk1", reason="market halt", correlation_id="k", causation_id="", now_us=h.now_us
    )
    assert committed is not None
    await committed

    # Act: a small order and one that would also breach every limit
    small, c1 = h.submit(quantity=1, price="1")
    huge, c2 = h.submit(quantity=100_000, price="200")
    await c2

    # Assert
    for order in (small, huge):
        assert order.status is OrderStatus.REJECTED
        assert violation_names(order.violations) == ["KILL_SWITCH_ACTIVE"]
    assert h.core.risk.metrics().kill_switch_active is True


async def test_kill_switch_events_carry_who_and_why_and_repeat_requests_record_nothing(h: Harness) -> None:
    # Act
    on = h.core.set_kill_switch(
        True, actor_id="u-risk", username="risk1", reason="halt", correlation_id="k1", causation_id="", now_us=h.now_us
    )
    again = h.core.set_kill_switch(
        True, actor_id="u-risk", username="risk1", reason="halt", correlation_id="k2", causation_id="", now_us=h.now_us
    )
    assert on is not None
    (event,) = await on

    # Assert
    assert again is None
    assert event.event_type == "KILL_SWITCH_ACTIVATED"
    assert event.user_id == "u-risk"
    assert (h.core.kill_switch_reason, h.core.kill_switch_by) == ("halt", "risk1")
    assert h.core.risk.limits.kill_switch_enabled is True


async def test_deactivating_the_kill_switch_lets_orders_through_again(h: Harness) -> None:
    # Arrange
    await h.core.set_kill_switch(True, actor_id="r", username="risk1", reason="a", correlation_id="", causation_id="", now_us=h.now_us)  # type: ignore[misc]

    # Act
    off = h.core.set_kill_switch(False, actor_id="r", username="risk1", reason="b", correlation_id="", causation_id="", now_us=h.now_us)
    assert off is not None
    (event,) = await off

    # Assert
    assert event.event_type == "KILL_SWITCH_DEACTIVATED"
    assert h.core.kill_switch_reason == "b"
    await approved(h)


async def test_update_limits_records_old_and_new_limits_and_applies_them(h: Harness) -> None:
    # Arrange
    h.advance(SECOND)

    # Act
    old, new, committed = h.core.update_limits(
        {"max_position_size": Decimal("20000")},
        actor_id="u-risk",
        reason="tighten",
        correlation_id="lim",
        causation_id="",
        now_us=h.now_us,
    )
    (event,) = await committed

    # Assert
    assert old == RiskLimits()
    assert new == RiskLimits(max_position_size=Decimal("20000"))
    assert event.event_type == "RISK_LIMITS_UPDATED"
    p = payload(event)
    assert isinstance(p, events_pb2.RiskLimitsUpdated)
    assert (p.old_limits.max_position_size, p.new_limits.max_position_size) == ("1000000.00", "20000.00")
    assert p.new_limits.updated_by == "u-risk"
    assert p.reason == "tighten"
    assert h.core.risk.limits == new
    assert (h.core.limits_updated_us, h.core.limits_updated_by) == (START_US + SECOND, "u-risk")


async def test_an_order_above_an_updated_limit_is_rejected(h: Harness) -> None:
    # Arrange
    await h.core.update_limits(
        {"max_position_size": Decimal("20000")}, actor_id="r", reason="", correlation_id="", causation_id="", now_us=h.now_us
    )[2]

    # Act
    order, committed = h.submit(quantity=200, price="150")  # 30,000
    await committed

    # Assert
    assert violation_names(order.violations) == ["POSITION_LIMIT"]


async def test_update_limits_keeps_the_kill_switch_as_it_is(h: Harness) -> None:
    await h.core.set_kill_switch(True, actor_id="r", username="risk1", reason="a", correlation_id="", causation_id="", now_us=h.now_us)  # type: ignore[misc]

    await h.core.update_limits(
        {"max_daily_volume": Decimal("123")}, actor_id="r", reason="", correlation_id="", causation_id="", now_us=h.now_us
    )[2]

    assert h.core.risk.limits.kill_switch_enabled is True
    assert h.core.risk.limits.max_daily_volume == Decimal("123")


async def test_update_limits_with_an_invalid_value_records_nothing(h: Harness) -> None:
    with pytest.raises(ValueError):
        h.core.update_limits(
            {"max_net_exposure": Decimal("-1")}, actor_id="r", reason="", correlation_id="", causation_id="", now_us=h.now_us
        )

    assert h.core.last_applied == 0
    assert h.core.risk.limits == RiskLimits()


# -- trading day ----------------------------------------------------------------------------------


async def test_roll_day_records_nothing_before_the_first_order(h: Harness) -> None:
    h.advance(3 * DAY)

    assert h.core.roll_day(h.now_us) is None


async def test_roll_day_records_nothing_while_the_utc_date_is_unchanged(h: Harness) -> None:
    # Arrange: 12:00 UTC; 11 h 59 min later is still the same date
    await approved(h)
    h.advance(11 * 3600 * SECOND + 59 * 60 * SECOND)

    # Act / Assert
    assert h.core.roll_day(h.now_us) is None
    assert h.core.trading_day == "2024-03-01"


async def test_roll_day_after_midnight_resets_the_daily_volume(h: Harness) -> None:
    # Arrange: 15,000 executed on 2024-03-01
    order_id = await approved(h)
    await start(h, order_id)
    await fill(h, order_id)
    assert h.core.risk.metrics().executed_volume == Decimal("15000")
    h.advance(12 * 3600 * SECOND)  # exactly midnight

    # Act
    committed = h.core.roll_day(h.now_us, correlation_id="day")
    assert committed is not None
    (event,) = await committed

    # Assert
    assert event.event_type == "DAILY_VOLUME_RESET"
    p = payload(event)
    assert isinstance(p, events_pb2.DailyVolumeReset)
    assert (p.previous_trading_day, p.previous_volume, p.trading_day) == ("2024-03-01", "15000.00", "2024-03-02")
    assert h.core.trading_day == "2024-03-02"
    assert h.core.risk.metrics().executed_volume == 0
    assert h.core.roll_day(h.now_us + SECOND) is None  # once per day


async def test_first_order_of_a_new_day_rolls_the_day_before_its_risk_check(h: Harness) -> None:
    # Arrange: a daily volume limit of 20,000, 15,000 of it used today
    await h.core.update_limits(
        {"max_daily_volume": Decimal("20000")}, actor_id="r", reason="", correlation_id="", causation_id="", now_us=h.now_us
    )[2]
    order_id = await approved(h)
    await start(h, order_id)
    await fill(h, order_id)
    today, c1 = h.submit(quantity=100, price="100")  # 10,000 more: too much today
    await c1
    assert violation_names(today.violations) == ["DAILY_VOLUME_LIMIT"]
    h.advance(DAY)

    # Act
    tomorrow, committed = h.submit(quantity=100, price="100")
    await committed

    # Assert: the reset is recorded just before the order's own events
    assert types_of(committed) == SUBMIT_EVENTS
    assert (await h.event_types())[-4:] == ["DAILY_VOLUME_RESET", *SUBMIT_EVENTS]
    assert h.core.trading_day == "2024-03-02"
    assert tomorrow.status is OrderStatus.APPROVED


def test_trading_day_is_the_utc_date() -> None:
    assert trading_day_of(START_US) == "2024-03-01"
    assert trading_day_of(START_US + 12 * 3600 * SECOND - 1) == "2024-03-01"
    assert trading_day_of(START_US + 12 * 3600 * SECOND) == "2024-03-02"


# -- execution and the circuit breaker ------------------------------------------------------------


async def test_begin_attempt_records_execution_started_with_attempt_and_venue(h: Harness) -> None:
    # Arrange
    order_id = await approved(h)

    # Act
    go, committed = h.core.begin_attempt(order_id, 1, "sim", h.now_us)
    assert committed is not None
    (event,) = await committed

    # Assert
    assert go is True
    p = payload(event)
    assert isinstance(p, events_pb2.ExecutionStarted)
    assert (p.attempt, p.venue) == (1, "sim")
    order = h.core.orders[order_id]
    assert order.status is OrderStatus.EXECUTING
    assert order.execution_attempts == 1


async def test_completed_execution_fills_the_order_and_books_the_position(h: Harness) -> None:
    # Arrange
    order_id = await approved(h, symbol="MSFT", quantity=10, price="400")
    await start(h, order_id)

    # Act
    committed = h.core.completed(order_id, 1, Fill(10, Decimal("399.5"), "x-1"), "sim", h.now_us)
    await committed

    # Assert
    assert types_of(committed) == ["EXECUTION_COMPLETED"]  # breaker closed: nothing to record
    order = h.core.orders[order_id]
    assert order.status is OrderStatus.EXECUTED
    assert (order.filled_quantity, order.average_fill_price) == (10, Decimal("399.5"))
    (position,) = h.core.risk.positions_view()
    assert (position.symbol, position.quantity, position.average_price) == ("MSFT", 10, Decimal("399.5"))
    metrics = h.core.risk.metrics()
    assert (metrics.executed_volume, metrics.working_exposure) == (Decimal("3995.0"), 0)


async def test_transient_failure_with_attempts_left_records_a_retry(h: Harness) -> None:
    # Arrange
    order_id = await approved(h)
    await start(h, order_id)

    # Act
    retry = await fail_attempt(h, order_id, 1, max_attempts=3)

    # Assert
    assert retry is True
    last = (await h.events())[-1]
    assert last.event_type == "EXECUTION_RETRIED"
    p = payload(last)
    assert isinstance(p, events_pb2.ExecutionRetried)
    assert (p.attempt, p.reason, p.delay_ms) == (1, "connection reset", 250)
    assert h.core.orders[order_id].status is OrderStatus.EXECUTING
    assert h.core.breaker.consecutive_failures == 1


async def test_transient_failure_of_the_last_attempt_fails_the_order_and_releases_it(h: Harness) -> None:
    # Arrange
    order_id = await approved(h)
    await start(h, order_id)

    # Act
    retry = await fail_attempt(h, order_id, 1, max_attempts=1)

    # Assert
    assert retry is False
    last = (await h.events())[-1]
    p = payload(last)
    assert isinstance(p, events_pb2.ExecutionFailed)
    assert (p.attempts, p.permanent, p.circuit_open) == (1, False, False)
    assert h.core.orders[order_id].status is OrderStatus.FAILED
    assert h.core.risk.metrics().working_exposure == 0


async def test_permanent_rejection_fails_the_order_without_counting_a_breaker_failure(h: Harness) -> None:
    # Arrange
    order_id = await approved(h)
    await start(h, order_id)

    # Act
    (event,) = await h.core.rejected_by_venue(order_id, 1, "symbol halted", h.now_us)

    # Assert
    p = payload(event)
    assert isinstance(p, events_pb2.ExecutionFailed)
    assert (p.reason, p.permanent) == ("symbol halted", True)
    assert h.core.orders[order_id].status is OrderStatus.FAILED
    assert h.core.breaker.consecutive_failures == 0


async def test_threshold_consecutive_failures_open_the_breaker_and_stop_retries(h: Harness) -> None:
    # Arrange: one order, plenty of attempts; the breaker opens at the third failure
    order_id = await approved(h)
    outcomes = []

    # Act
    for attempt in range(1, BREAKER_THRESHOLD + 1):
        assert await start(h, order_id, attempt)
        retry, committed = h.core.attempt_failed(
            order_id, attempt, "reset", max_attempts=10, retry_delay_ms=1, now_us=h.now_us
        )
        await committed
        outcomes.append((retry, types_of(committed)))

    # Assert
    assert outcomes == [
        (True, ["EXECUTION_RETRIED"]),
        (True, ["EXECUTION_RETRIED"]),
        (False, ["EXECUTION_FAILED", "CIRCUIT_BREAKER_OPENED"]),
    ]
    events = await h.events()
    failed, opened = payload(events[-2]), payload(events[-1])
    assert isinstance(failed, events_pb2.ExecutionFailed) and "circuit breaker opened" in failed.reason
    assert isinstance(opened, events_pb2.CircuitBreakerOpened)
    assert opened.consecutive_failures == BREAKER_THRESHOLD
    open_until = START_US + int(BREAKER_OPEN_SECONDS * SECOND)
    assert opened.open_until.seconds * SECOND + opened.open_until.nanos // 1000 == open_until
    assert (h.core.breaker.state, h.core.breaker.open_until_us) == (BreakerState.OPEN, open_until)


async def test_open_breaker_fails_new_executions_fast_without_a_venue_call(h: Harness) -> None:
    # Arrange
    await open_breaker(h)
    order_id = await approved(h, symbol="NEW")
    failures = h.core.breaker.consecutive_failures

    # Act
    go, committed = h.core.begin_attempt(order_id, 1, "sim", h.now_us)
    assert committed is not None
    (event,) = await committed

    # Assert
    assert go is False
    p = payload(event)
    assert isinstance(p, events_pb2.ExecutionFailed)
    assert (p.circuit_open, p.attempts) == (True, 0)
    assert "circuit breaker open" in p.reason
    order = h.core.orders[order_id]
    assert order.status is OrderStatus.FAILED
    assert h.core.risk.metrics().working_exposure == 0
    assert h.core.breaker.consecutive_failures == failures  # a fast fail is not a venue failure


async def test_after_the_open_period_one_probe_goes_out_and_its_success_closes_the_breaker(h: Harness) -> None:
    # Arrange
    await open_breaker(h)
    probe = await approved(h, symbol="PRB")
    other = await approved(h, symbol="OTH")
    h.advance(int(BREAKER_OPEN_SECONDS * SECOND))

    # Act 1: the probe
    go, committed = h.core.begin_attempt(probe, 1, "sim", h.now_us)
    assert committed is not None
    await committed

    # Assert 1
    assert go is True
    assert types_of(committed) == ["CIRCUIT_BREAKER_HALF_OPENED", "EXECUTION_STARTED"]
    assert (h.core.breaker.state, h.core.breaker.probe_in_flight) == (BreakerState.HALF_OPEN, True)

    # Act 2: a second order while the probe is out
    go_other, committed_other = h.core.begin_attempt(other, 1, "sim", h.now_us)
    assert committed_other is not None
    await committed_other

    # Assert 2
    assert go_other is False
    assert h.core.orders[other].status is OrderStatus.FAILED

    # Act 3: the probe succeeds
    order = h.core.orders[probe]
    done = h.core.completed(probe, 1, Fill(order.quantity, order.price, "x"), "sim", h.now_us)
    await done

    # Assert 3
    assert types_of(done) == ["EXECUTION_COMPLETED", "CIRCUIT_BREAKER_CLOSED"]
    breaker = h.core.breaker
    assert (breaker.state, breaker.consecutive_failures, breaker.probe_in_flight) == (BreakerState.CLOSED, 0, False)


async def test_probe_failure_opens_the_breaker_again_with_a_new_open_until(h: Harness) -> None:
    # Arrange
    await open_breaker(h)
    probe = await approved(h, symbol="PRB")
    h.advance(int(BREAKER_OPEN_SECONDS * SECOND) + 5 * SECOND)
    assert await start(h, probe)

    # Act
    retry, committed = h.core.attempt_failed(probe, 1, "reset", max_attempts=3, retry_delay_ms=1, now_us=h.now_us)
    await committed

    # Assert
    assert retry is False
    assert types_of(committed) == ["EXECUTION_FAILED", "CIRCUIT_BREAKER_OPENED"]
    breaker = h.core.breaker
    assert breaker.state is BreakerState.OPEN
    assert breaker.open_until_us == h.now_us + int(BREAKER_OPEN_SECONDS * SECOND)
    assert breaker.probe_in_flight is False


async def test_permanent_rejection_of_the_probe_does_not_leave_the_breaker_stuck(h: Harness) -> None:
    # Arrange: the breaker is half-open and its probe is out
    await open_breaker(h)
    probe = await approved(h, symbol="PRB")
    h.advance(int(BREAKER_OPEN_SECONDS * SECOND))
    assert await start(h, probe)

    # Act: the venue answers the probe with a permanent rejection (it is reachable), and much later
    # another order tries to execute
    await h.core.rejected_by_venue(probe, 1, "symbol halted", h.now_us)
    later = await approved(h, symbol="LATER")
    h.advance(3600 * SECOND)
    go = await start(h, later)

    # Assert: the probe is over, so the breaker must let a call through again
    assert h.core.breaker.probe_in_flight is False
    assert go is True


async def test_interrupted_order_is_failed_permanently_for_reconciliation(h: Harness) -> None:
    # Arrange
    order_id = await approved(h)
    await start(h, order_id)

    # Act
    (event,) = await h.core.interrupted(order_id, h.now_us)

    # Assert
    p = payload(event)
    assert isinstance(p, events_pb2.ExecutionFailed)
    assert (p.permanent, p.attempts) == (True, 1)
    assert "reconcile" in p.reason
    assert h.core.orders[order_id].status is OrderStatus.FAILED
    assert h.core.breaker.consecutive_failures == 0


# -- recovery -------------------------------------------------------------------------------------


async def test_recovery_plan_after_replay_names_approved_and_executing_orders(h: Harness) -> None:
    # Arrange: one order in every interesting state
    waiting = await approved(h, symbol="WAIT")
    executing = await approved(h, symbol="EXEC")
    await start(h, executing)
    done = await approved(h, symbol="DONE")
    await start(h, done)
    await fill(h, done)
    cancelled = await approved(h, symbol="CNCL")
    await h.core.cancel(cancelled, actor_id="u1", reason="", correlation_id="", causation_id="", now_us=h.now_us)[1]
    waiting_too = await approved(h, symbol="WAIT2")

    # Act
    fresh = await h.replayed()
    plan = fresh.recovery_plan()

    # Assert
    assert plan == ([waiting, waiting_too], [executing])


async def test_recovery_plan_clears_a_half_open_probe_that_cannot_still_be_in_flight(h: Harness) -> None:
    # Arrange: stopped while the probe was out
    await open_breaker(h)
    probe = await approved(h, symbol="PRB")
    h.advance(int(BREAKER_OPEN_SECONDS * SECOND))
    assert await start(h, probe)
    fresh = await h.replayed()
    assert (fresh.breaker.state, fresh.breaker.probe_in_flight) == (BreakerState.HALF_OPEN, True)

    # Act
    _, executing = fresh.recovery_plan()

    # Assert
    assert executing == [probe]
    assert fresh.breaker.probe_in_flight is False
    assert fresh.breaker.admit(h.now_us) == (True, None)
