"""Orders: the lifecycle as one transition table, and validation of a new order request."""

from __future__ import annotations

import dataclasses
import itertools
from decimal import Decimal
from types import SimpleNamespace

import pytest

from itirp.domain.orders import (
    TRANSITIONS,
    Fill,
    InvalidTransition,
    NewOrder,
    Order,
    OrderStatus,
    OrderType,
    OrderValidationError,
    SelfTradePrevention,
    Side,
    TimeInForce,
    Trigger,
    validate_new_order,
)

S, T = OrderStatus, Trigger
MAX_QUANTITY = 1_000_000

#: The lifecycle as the module docstring draws it; the table must say exactly this.
DOCUMENTED_LIFECYCLE = {
    (S.PENDING, T.RISK_CHECK_STARTED): S.RISK_CHECK,
    (S.RISK_CHECK, T.RISK_CHECK_PASSED): S.APPROVED,
    (S.RISK_CHECK, T.RISK_CHECK_FAILED): S.REJECTED,
    (S.REJECTED, T.ORDER_RELEASED): S.RISK_CHECK,
    (S.APPROVED, T.EXECUTION_STARTED): S.EXECUTING,
    (S.APPROVED, T.EXECUTION_FAILED): S.FAILED,
    (S.EXECUTING, T.EXECUTION_STARTED): S.EXECUTING,
    (S.EXECUTING, T.EXECUTION_RETRIED): S.EXECUTING,
    (S.EXECUTING, T.EXECUTION_COMPLETED): S.EXECUTED,
    (S.EXECUTING, T.EXECUTION_FAILED): S.FAILED,
    (S.PENDING, T.ORDER_CANCELLED): S.CANCELLED,
    (S.RISK_CHECK, T.ORDER_CANCELLED): S.CANCELLED,
    (S.APPROVED, T.ORDER_CANCELLED): S.CANCELLED,
    (S.APPROVED, T.ORDER_ACCEPTED): S.WORKING,
    (S.WORKING, T.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, T.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.WORKING, T.FINAL_FILL): S.EXECUTED,
    (S.PARTIALLY_FILLED, T.FINAL_FILL): S.EXECUTED,
    (S.WORKING, T.ORDER_AMENDED): S.WORKING,
    (S.PARTIALLY_FILLED, T.ORDER_AMENDED): S.PARTIALLY_FILLED,
    (S.WORKING, T.ORDER_CANCELLED): S.CANCELLED,
    (S.PARTIALLY_FILLED, T.ORDER_CANCELLED): S.CANCELLED,
    (S.WORKING, T.ORDER_EXPIRED): S.EXPIRED,
    (S.PARTIALLY_FILLED, T.ORDER_EXPIRED): S.EXPIRED,
    # an external venue
    (S.EXECUTING, T.ORDER_ACCEPTED): S.WORKING,
    (S.EXECUTING, T.ORDER_STATUS_UNKNOWN): S.UNKNOWN,
    (S.UNKNOWN, T.ORDER_ACCEPTED): S.WORKING,
    (S.UNKNOWN, T.ORDER_CANCELLED): S.CANCELLED,
    (S.UNKNOWN, T.EXECUTION_FAILED): S.FAILED,
    (S.EXECUTING, T.ORDER_CANCEL_REQUESTED): S.PENDING_CANCEL,
    (S.UNKNOWN, T.ORDER_CANCEL_REQUESTED): S.PENDING_CANCEL,
    (S.WORKING, T.ORDER_CANCEL_REQUESTED): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, T.ORDER_CANCEL_REQUESTED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.ORDER_ACCEPTED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.EXECUTION_RETRIED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.PARTIAL_FILL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.FINAL_FILL): S.EXECUTED,
    (S.PENDING_CANCEL, T.ORDER_CANCELLED): S.CANCELLED,
    (S.PENDING_CANCEL, T.EXECUTION_FAILED): S.FAILED,
}

ALL_PAIRS = list(itertools.product(OrderStatus, Trigger))
ALLOWED_PAIRS = [pair for pair in ALL_PAIRS if pair in TRANSITIONS]
REFUSED_PAIRS = [pair for pair in ALL_PAIRS if pair not in TRANSITIONS]


def _pair_id(pair: tuple[OrderStatus, Trigger]) -> str:
    return f"{pair[0].value}-{pair[1].value}"


def make_order(status: OrderStatus = OrderStatus.PENDING) -> Order:
    return Order(
        order_id="ord-1",
        client_order_id="c-1",
        user_id="u-1",
        username="trader1",
        symbol="AAPL",
        side=Side.BUY,
        quantity=100,
        price=Decimal("150.50"),
        strategy="momentum",
        correlation_id="corr-1",
        created_us=1_000,
        created_sequence=1,
        status=status,
        updated_us=1_000,
        last_sequence=1,
    )


def valid_fields(**overrides: object) -> SimpleNamespace:
    """An order request (what `validate_new_order` reads), valid unless `overrides` spoil it."""
    fields: dict[str, object] = {
        "symbol": "AAPL",
        "side": Side.BUY,
        "quantity": 100,
        "price": "150.50",
        "strategy": "momentum",
        "client_order_id": "client-42",
        "order_type": OrderType.LIMIT,
        "time_in_force": TimeInForce.GTC,
        "stp": SelfTradePrevention.CANCEL_RESTING,
    }
    fields.update(overrides)
    return SimpleNamespace(**fields)


# ---------------------------------------------------------------------------------------------
# The transition table
# ---------------------------------------------------------------------------------------------


def test_transition_table_is_exactly_the_documented_lifecycle() -> None:
    assert TRANSITIONS == DOCUMENTED_LIFECYCLE


@pytest.mark.parametrize("pair", ALLOWED_PAIRS, ids=_pair_id)
def test_transition_in_the_table_moves_the_order_and_stamps_time_and_sequence(
    pair: tuple[OrderStatus, Trigger],
) -> None:
    # Arrange
    status, trigger = pair
    order = make_order(status)

    # Act
    result = order.transition(trigger, at_us=5_000, sequence=9)

    # Assert
    assert result is TRANSITIONS[pair]
    assert order.status is TRANSITIONS[pair]
    assert order.updated_us == 5_000
    assert order.last_sequence == 9


@pytest.mark.parametrize("pair", REFUSED_PAIRS, ids=_pair_id)
def test_transition_not_in_the_table_raises_and_leaves_the_order_unchanged(
    pair: tuple[OrderStatus, Trigger],
) -> None:
    # Arrange
    status, trigger = pair
    order = make_order(status)
    before = dataclasses.replace(order)

    # Act
    with pytest.raises(InvalidTransition) as caught:
        order.transition(trigger, at_us=5_000, sequence=9)

    # Assert
    assert caught.value.status is status
    assert caught.value.trigger is trigger
    assert "ord-1" in str(caught.value)
    assert order == before


def test_every_status_trigger_pair_is_either_allowed_or_refused() -> None:
    # 13 statuses x 16 triggers; guards the two parametrized tests above against an empty list.
    assert len(ALL_PAIRS) == len(OrderStatus) * len(Trigger) == 208
    assert len(ALLOWED_PAIRS) == len(TRANSITIONS) == 39
    assert len(REFUSED_PAIRS) == 169


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=_pair_id)
def test_can_answers_exactly_what_transition_would_do(pair: tuple[OrderStatus, Trigger]) -> None:
    # Arrange
    status, trigger = pair
    order = make_order(status)

    # Act
    allowed = order.can(trigger)

    # Assert
    assert allowed is (pair in TRANSITIONS)


def test_transition_without_a_sequence_keeps_the_last_sequence() -> None:
    # Arrange
    order = make_order(OrderStatus.PENDING)

    # Act
    order.transition(Trigger.RISK_CHECK_STARTED, at_us=7_000)

    # Assert
    assert order.status is OrderStatus.RISK_CHECK
    assert order.updated_us == 7_000
    assert order.last_sequence == 1


def test_terminal_statuses_are_exactly_executed_rejected_failed_cancelled_and_expired() -> None:
    terminal = {status for status in OrderStatus if status.terminal}

    assert terminal == {S.EXECUTED, S.REJECTED, S.FAILED, S.CANCELLED, S.EXPIRED}


@pytest.mark.parametrize("status", list(OrderStatus), ids=lambda s: s.value)
def test_a_status_is_terminal_exactly_when_no_trigger_leaves_it(status: OrderStatus) -> None:
    # a risk manager's release is the one way out of a terminal status (REJECTED)
    outgoing = [t for t in Trigger if (status, t) in TRANSITIONS and t is not T.ORDER_RELEASED]

    assert status.terminal is (not outgoing)


def test_full_happy_path_with_a_retry_reaches_executed() -> None:
    # Arrange
    order = make_order()
    path = [
        T.RISK_CHECK_STARTED,
        T.RISK_CHECK_PASSED,
        T.EXECUTION_STARTED,
        T.EXECUTION_RETRIED,
        T.EXECUTION_STARTED,
        T.EXECUTION_COMPLETED,
    ]

    # Act
    statuses = [order.transition(trigger, at_us=2_000 + i, sequence=2 + i) for i, trigger in enumerate(path)]

    # Assert
    assert statuses == [S.RISK_CHECK, S.APPROVED, S.EXECUTING, S.EXECUTING, S.EXECUTING, S.EXECUTED]
    assert order.status.terminal
    assert order.last_sequence == 7


def test_fills_on_the_book_go_working_partially_filled_executed_with_an_exact_average() -> None:
    # Arrange
    order = make_order()
    for i, trigger in enumerate((T.RISK_CHECK_STARTED, T.RISK_CHECK_PASSED, T.ORDER_ACCEPTED)):
        order.transition(trigger, at_us=2_000 + i, sequence=2 + i)

    # Act
    order.add_fill(Fill("t1", 30, Decimal("150.00"), False, 3_000, 10))
    order.transition(T.PARTIAL_FILL, at_us=3_000, sequence=10)
    remaining_after_first = order.remaining_quantity
    order.add_fill(Fill("t2", 70, Decimal("150.10"), False, 4_000, 11))
    order.transition(T.FINAL_FILL, at_us=4_000, sequence=11)

    # Assert
    assert remaining_after_first == 70
    assert order.status is S.EXECUTED
    assert order.remaining_quantity == 0
    assert order.filled_quantity == 100
    assert order.average_fill_price == Decimal("150.07")  # (30*150.00 + 70*150.10) / 100
    assert [f.trade_id for f in order.fills] == ["t1", "t2"]


def test_a_market_order_takes_no_price_and_a_limit_order_needs_one() -> None:
    market = validate_new_order(valid_fields(price="", order_type=OrderType.MARKET), max_quantity=MAX_QUANTITY)
    with pytest.raises(OrderValidationError) as caught:
        validate_new_order(valid_fields(price="150.50", order_type=OrderType.MARKET), max_quantity=MAX_QUANTITY)

    assert market.price is None
    assert market.order_type is OrderType.MARKET
    assert caught.value.field == "price"
    assert "MARKET" in caught.value.problem
    with pytest.raises(OrderValidationError):
        validate_new_order(valid_fields(price=""), max_quantity=MAX_QUANTITY)


def test_side_sign_is_plus_one_for_buy_and_minus_one_for_sell() -> None:
    assert (Side.BUY.sign, Side.SELL.sign) == (1, -1)


# ---------------------------------------------------------------------------------------------
# validate_new_order
# ---------------------------------------------------------------------------------------------


def test_validate_new_order_returns_the_parsed_order_for_valid_fields() -> None:
    # Act
    order = validate_new_order(valid_fields(), max_quantity=MAX_QUANTITY)

    # Assert
    assert order == NewOrder(
        symbol="AAPL",
        side=Side.BUY,
        quantity=100,
        price=Decimal("150.50"),
        strategy="momentum",
        client_order_id="client-42",
    )
    assert str(order.price) == "150.50"  # kept exactly as written


@pytest.mark.parametrize(
    "changes",
    [
        {"symbol": "A"},
        {"symbol": "BRK.B"},
        {"symbol": "ABCDEFGHIJ12"},  # 12 characters: the longest allowed
        {"symbol": "0700"},
        {"side": Side.SELL},
        {"quantity": 1},
        {"quantity": MAX_QUANTITY - 1},
        {"price": "0.0001"},
        {"price": "999999999999.9999"},
        {"strategy": ""},
        {"strategy": "s" * 64},
        {"client_order_id": ""},
        {"client_order_id": "c" * 64},
        {"client_order_id": "with inner space"},
    ],
    ids=repr,
)
def test_validate_new_order_accepts_boundary_values(changes: dict[str, object]) -> None:
    order = validate_new_order(valid_fields(**changes), max_quantity=MAX_QUANTITY)

    for name, value in changes.items():
        got = getattr(order, name)
        if name == "price":
            got = str(got)
        assert got == value


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"symbol": ""}, "symbol"),
        ({"symbol": "aapl"}, "symbol"),
        ({"symbol": "ABCDEFGHIJ123"}, "symbol"),  # 13 characters
        ({"symbol": "AB-C"}, "symbol"),
        ({"symbol": " AAPL"}, "symbol"),
        ({"symbol": "AAPL\n"}, "symbol"),
        ({"symbol": "ÄPL"}, "symbol"),
        ({"side": "buy"}, "side"),
        ({"side": ""}, "side"),
        ({"side": "HOLD"}, "side"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": -5}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": 1.0}, "quantity"),
        ({"quantity": "100"}, "quantity"),
        ({"quantity": MAX_QUANTITY}, "quantity"),
        ({"quantity": MAX_QUANTITY + 1}, "quantity"),
        ({"price": "0"}, "price"),
        ({"price": "0.0000"}, "price"),
        ({"price": "-1"}, "price"),
        ({"price": "1e3"}, "price"),
        ({"price": "1,000"}, "price"),
        ({"price": "1.23456"}, "price"),
        ({"price": "1234567890123"}, "price"),
        ({"price": ""}, "price"),
        ({"price": "abc"}, "price"),
        ({"strategy": "s" * 65}, "strategy"),
        ({"strategy": "tab\there"}, "strategy"),
        ({"strategy": "nul\x00"}, "strategy"),
        ({"client_order_id": "c" * 65}, "client_order_id"),
        ({"client_order_id": " leading"}, "client_order_id"),
        ({"client_order_id": "trailing "}, "client_order_id"),
        ({"client_order_id": "new\nline"}, "client_order_id"),
    ],
    ids=repr,
)
def test_validate_new_order_names_the_bad_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(OrderValidationError) as caught:
        validate_new_order(valid_fields(**changes), max_quantity=MAX_QUANTITY)

    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert caught.value.problem


def test_validate_new_order_reports_every_bad_field_in_order_the_first_in_its_message() -> None:
    request = valid_fields(side="HOLD", quantity=0, price="x", client_order_id=" x")
    with pytest.raises(OrderValidationError) as caught:
        validate_new_order(request, max_quantity=MAX_QUANTITY)

    assert caught.value.field == "side"
    assert [field for field, _ in caught.value.problems] == ["side", "quantity", "price", "client_order_id"]


def test_validate_new_order_says_what_the_quantity_must_stay_below() -> None:
    with pytest.raises(OrderValidationError) as caught:
        validate_new_order(valid_fields(quantity=MAX_QUANTITY), max_quantity=MAX_QUANTITY)

    assert "1,000,000" in caught.value.problem


def test_order_validation_error_is_a_value_error() -> None:
    assert issubclass(OrderValidationError, ValueError)
