"""Commands as values, and what the core tells a caller it refuses: the error class, its stable
reason, its metadata and (for INVALID_ARGUMENT) one violation per bad field. A refused command
records nothing."""

from __future__ import annotations

import dataclasses

import pytest

from itirp.core.commands import AmendOrder, SetKillSwitch, SubmitOrder, UpdateRiskLimits
from itirp.core.journal import Journal
from itirp.core.sequencer import Sequencer
from itirp.domain.orders import OrderType, Side
from itirp.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Reason

from .harness import RISK, Harness, MemorySink, actor, make_breaker, open_harness, seed_instruments

TRADER = actor()  # u-trader1, the harness's default submitter


@pytest.fixture
def h() -> Harness:
    return open_harness()


@pytest.fixture
def internal() -> Harness:
    return open_harness("internal")


def submit_command(**fields: object) -> SubmitOrder:
    values: dict[str, object] = {"actor": TRADER, "symbol": "AAPL", "side": Side.BUY, "quantity": 10, "price": "150"}
    values.update(fields)
    return SubmitOrder(**values)  # type: ignore[arg-type]


def assert_nothing_recorded(h: Harness, head: int = 0) -> None:
    assert h.core.queries.last_applied == head
    assert len(h.events()) == head


# -- the values -------------------------------------------------------------------------------------


def test_commands_are_frozen_values_and_name_their_actor() -> None:
    command = submit_command()

    with pytest.raises(dataclasses.FrozenInstanceError):
        command.quantity = 5  # type: ignore[misc]
    assert command.actor.user_id == "u-trader1"
    assert submit_command() == command
    assert AmendOrder(actor=RISK, order_id="o").quantity == 0
    assert AmendOrder(actor=RISK, order_id="o").price == ""


# -- submit -----------------------------------------------------------------------------------------


def test_a_new_order_with_several_bad_fields_is_refused_with_one_violation_per_field(h: Harness) -> None:
    command = submit_command(symbol="bad symbol!", quantity=0, price="abc", strategy="x" * 65, client_order_id=" c ")

    with pytest.raises(InvalidArgument) as caught:
        h.core.orders.submit(command, h.now_us)

    error = caught.value
    assert error.reason is Reason.INVALID_ARGUMENT
    assert [v.field for v in error.violations] == ["symbol", "quantity", "price", "strategy", "client_order_id"]
    assert error.field == "symbol"  # the first
    for violation in error.violations:
        assert f"{violation.field}: {violation.description}" in error.message
    assert str(error) == error.message
    assert_nothing_recorded(h)


def test_a_new_order_with_one_bad_field_has_one_violation(h: Harness) -> None:
    with pytest.raises(InvalidArgument, match=r"^price: ") as caught:
        h.core.orders.submit(submit_command(price="-1"), h.now_us)

    assert [v.field for v in caught.value.violations] == ["price"]
    assert_nothing_recorded(h)


def test_a_side_that_is_not_a_side_is_a_violation(h: Harness) -> None:
    with pytest.raises(InvalidArgument) as caught:
        h.core.orders.submit(submit_command(side="BUY"), h.now_us)

    assert [v.field for v in caught.value.violations] == ["side"]


def test_the_quantity_must_stay_below_the_sequencers_maximum() -> None:
    core = seed_instruments(
        Sequencer(Journal(clock_us=lambda: 0), MemorySink(), breaker=make_breaker(), max_order_quantity=1_000)
    )

    with pytest.raises(InvalidArgument, match="must be below 1,000") as caught:
        core.orders.submit(submit_command(quantity=1_000), 0)

    assert [v.field for v in caught.value.violations] == ["quantity"]
    order, _ = core.orders.submit(submit_command(quantity=999), 0)
    assert order.quantity == 999


def test_a_market_order_with_a_price_is_refused(internal: Harness) -> None:
    command = submit_command(order_type=OrderType.MARKET, price="150")

    with pytest.raises(InvalidArgument, match="a MARKET order takes no price") as caught:
        internal.core.orders.submit(command, internal.now_us)

    assert [v.field for v in caught.value.violations] == ["price"]


def test_a_duplicate_client_order_id_names_the_existing_order_and_its_status(h: Harness) -> None:
    # Arrange
    first, _ = h.submit(client_order_id="dup-1")
    head = h.core.queries.last_applied

    # Act
    with pytest.raises(AlreadyExists) as caught:
        h.submit(client_order_id="dup-1", symbol="MSFT")

    # Assert
    error = caught.value
    assert error.reason is Reason.DUPLICATE_CLIENT_ORDER_ID
    assert error.metadata == {
        "client_order_id": "dup-1",
        "existing_order_id": first.order_id,
        "order_status": "APPROVED",
    }
    assert_nothing_recorded(h, head)


def test_a_market_order_on_the_simulated_venue_needs_the_book(h: Harness) -> None:
    with pytest.raises(FailedPrecondition) as caught:
        h.submit(price="", order_type=OrderType.MARKET)

    assert caught.value.reason is Reason.MARKET_ORDER_NEEDS_BOOK
    assert_nothing_recorded(h)


def test_a_market_order_with_nothing_to_trade_against_has_no_liquidity(internal: Harness) -> None:
    with pytest.raises(FailedPrecondition) as caught:
        internal.submit(side=Side.SELL, price="", order_type=OrderType.MARKET)

    assert caught.value.reason is Reason.NO_LIQUIDITY
    assert caught.value.metadata == {"symbol": "AAPL", "side": "SELL"}
    assert_nothing_recorded(internal)


# -- cancel -----------------------------------------------------------------------------------------


def test_cancelling_a_finished_order_is_not_cancellable_with_its_status(h: Harness) -> None:
    # Arrange
    order, _ = h.submit(quantity=100_000, price="200")  # rejected by risk
    head = h.core.queries.last_applied

    # Act
    with pytest.raises(FailedPrecondition) as caught:
        h.cancel(order.order_id)

    # Assert
    assert caught.value.reason is Reason.ORDER_NOT_CANCELLABLE
    assert caught.value.metadata == {"order_id": order.order_id, "order_status": "REJECTED"}
    assert_nothing_recorded(h, head)


def test_a_trader_can_cancel_their_own_order_but_not_anothers(h: Harness) -> None:
    mine, _ = h.submit(user_id="u-trader1")
    theirs, _ = h.submit(user_id="u-trader2", username="trader2")
    head = h.core.queries.last_applied

    with pytest.raises(NotFound) as caught:
        h.cancel(theirs.order_id, by=TRADER)
    assert caught.value.reason is Reason.ORDER_NOT_FOUND
    assert_nothing_recorded(h, head)

    _, committed = h.cancel(mine.order_id, by=TRADER)
    assert committed.events[0].user_id == TRADER.user_id


def test_a_risk_manager_can_cancel_anyones_order_and_is_recorded_as_the_actor(h: Harness) -> None:
    order, _ = h.submit(user_id="u-trader2", username="trader2")

    _, committed = h.cancel(order.order_id, by=RISK)

    (event,) = committed.events
    assert (event.user_id, event.order_id) == (RISK.user_id, order.order_id)


# -- amend ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "price", "field"),
    [
        (-1, "", "quantity"),
        (1_000_000, "", "quantity"),
        (0, "abc", "price"),
        (0, "", "amend"),
    ],
    ids=["negative", "too_large", "bad_price", "nothing_given"],
)
def test_amend_arguments_are_checked_before_the_order_is_looked_up(
    internal: Harness, quantity: int, price: str, field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        internal.amend("no-such-order", quantity=quantity, price=price)

    assert caught.value.reason is Reason.INVALID_ARGUMENT
    assert [v.field for v in caught.value.violations] == [field]


def test_amending_an_order_not_in_the_book_is_not_amendable_with_its_status(h: Harness) -> None:
    order, _ = h.submit()  # simulated venue: APPROVED, never in a book

    with pytest.raises(FailedPrecondition) as caught:
        h.amend(order.order_id, quantity=5)

    assert caught.value.reason is Reason.ORDER_NOT_AMENDABLE
    assert caught.value.metadata == {"order_id": order.order_id, "order_status": "APPROVED"}


def test_an_amendment_breaching_a_limit_is_refused_by_risk_naming_the_violations(internal: Harness) -> None:
    internal.update_limits(max_position_size="20000")
    order, _ = internal.submit(side=Side.SELL, quantity=100, price="150")
    head = internal.core.queries.last_applied

    with pytest.raises(FailedPrecondition) as caught:
        internal.amend(order.order_id, quantity=200)  # 30,000

    assert caught.value.reason is Reason.AMENDMENT_REFUSED_BY_RISK
    assert caught.value.metadata == {"order_id": order.order_id, "violations": "POSITION_LIMIT"}
    assert_nothing_recorded(internal, head)


def test_an_amendment_refused_by_the_kill_switch_says_so(internal: Harness) -> None:
    order, _ = internal.submit(side=Side.SELL, quantity=100, price="150")
    internal.set_kill_switch(True, reason="halt")

    with pytest.raises(FailedPrecondition) as caught:
        internal.amend(order.order_id, price="151")

    assert caught.value.reason is Reason.KILL_SWITCH_ACTIVE
    assert caught.value.metadata["violations"] == "KILL_SWITCH_ACTIVE"


def test_a_trader_cannot_amend_another_traders_order(internal: Harness) -> None:
    order, _ = internal.submit(side=Side.SELL, user_id="u-trader2", username="trader2")

    with pytest.raises(NotFound) as caught:
        internal.amend(order.order_id, quantity=5, by=TRADER)

    assert caught.value.reason is Reason.ORDER_NOT_FOUND


# -- risk controls ----------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
def test_the_kill_switch_needs_a_reason(h: Harness, reason: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        h.core.controls.set_kill_switch(SetKillSwitch(actor=RISK, enabled=True, reason=reason), h.now_us)

    assert [v.field for v in caught.value.violations] == ["reason"]
    assert_nothing_recorded(h)


def test_the_kill_switch_reason_is_recorded_stripped(h: Harness) -> None:
    h.core.controls.set_kill_switch(SetKillSwitch(actor=RISK, enabled=True, reason="  halt  "), h.now_us)

    assert h.core.queries.kill_switch().reason == "halt"


def test_several_bad_limit_amounts_give_one_violation_each(h: Harness) -> None:
    command = UpdateRiskLimits(actor=RISK, amounts={"max_position_size": "-1", "max_gross_exposure": "x"})

    with pytest.raises(InvalidArgument) as caught:
        h.core.controls.update_limits(command, h.now_us)

    assert [v.field for v in caught.value.violations] == ["max_position_size", "max_gross_exposure"]
    assert_nothing_recorded(h)


def test_limits_need_at_least_one_amount(h: Harness) -> None:
    with pytest.raises(InvalidArgument) as caught:
        h.core.controls.update_limits(UpdateRiskLimits(actor=RISK, amounts={"max_daily_volume": ""}), h.now_us)

    assert [v.field for v in caught.value.violations] == ["limits"]


def test_an_unknown_limit_name_is_a_programming_error(h: Harness) -> None:
    with pytest.raises(ValueError, match="only the amounts"):
        h.core.controls.update_limits(UpdateRiskLimits(actor=RISK, amounts={"max_fun": "1"}), h.now_us)
