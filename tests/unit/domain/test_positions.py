"""Average-cost positions: opening, adding, reducing, flipping, and the P&L they realize."""

from __future__ import annotations

from decimal import Decimal

import pytest

from itirp.domain.positions import Position


def test_the_worked_example_buy_partial_sell_then_flip_is_exact() -> None:
    # Arrange
    position = Position("AAPL")

    # Act / Assert: open long
    assert position.apply_fill("BUY", 100, Decimal("10.00")) == 0
    assert (position.quantity, position.average_price) == (100, Decimal("10.00"))

    # Act / Assert: partial sell realizes 40 * 2.50
    assert position.apply_fill("SELL", 40, Decimal("12.50")) == Decimal("100.00")
    assert position.realized_pnl == Decimal("100.00")
    assert (position.quantity, position.average_price) == (60, Decimal("10.00"))

    # Act: sell 100 closes 60 at a loss of 1.00 each and opens 40 short at 9.00
    realized = position.apply_fill("SELL", 100, Decimal("9.00"))

    # Assert
    assert realized == Decimal("-60.00")
    assert position.realized_pnl == Decimal("40.00")
    assert position.quantity == -40
    assert position.average_price == Decimal("9.00")
    assert position.last_price == Decimal("9.00")
    assert position.unrealized_pnl == 0
    assert position.market_value == Decimal("-360.00")
    assert str(position.realized_pnl) == "40.00"
    assert str(position.market_value) == "-360.00"


def test_adding_to_a_long_weights_the_average_by_size() -> None:
    # Arrange
    position = Position("MSFT")
    position.apply_fill("BUY", 100, Decimal("10.00"))

    # Act
    realized = position.apply_fill("BUY", 300, Decimal("12.00"))

    # Assert: (100*10 + 300*12) / 400 = 11.50
    assert realized == 0
    assert position.quantity == 400
    assert position.average_price == Decimal("11.50")
    assert position.unrealized_pnl == Decimal("200.00")  # (12 - 11.5) * 400


def test_covering_a_short_at_a_lower_price_is_a_profit() -> None:
    # Arrange
    position = Position("TSLA")
    position.apply_fill("SELL", 50, Decimal("200.00"))

    # Act
    realized = position.apply_fill("BUY", 20, Decimal("190.00"))

    # Assert
    assert realized == Decimal("200.00")
    assert position.quantity == -30
    assert position.average_price == Decimal("200.00")
    assert position.unrealized_pnl == Decimal("300.00")  # (190 - 200) * -30
    assert position.market_value == Decimal("-5700.00")


def test_closing_exactly_goes_flat_with_a_zero_average_and_keeps_the_pnl() -> None:
    # Arrange
    position = Position("IBM")
    position.apply_fill("BUY", 10, Decimal("100.00"))

    # Act
    realized = position.apply_fill("SELL", 10, Decimal("101.25"))

    # Assert
    assert realized == Decimal("12.50")
    assert position.quantity == 0
    assert position.average_price == 0
    assert position.realized_pnl == Decimal("12.50")
    assert position.market_value == 0
    assert position.unrealized_pnl == 0
    assert position.last_price == Decimal("101.25")


def test_a_short_flipped_long_reopens_at_the_fill_price() -> None:
    # Arrange
    position = Position("NVDA")
    position.apply_fill("SELL", 10, Decimal("50.00"))

    # Act
    realized = position.apply_fill("BUY", 25, Decimal("52.00"))

    # Assert
    assert realized == Decimal("-20.00")
    assert (position.quantity, position.average_price) == (15, Decimal("52.00"))


def test_a_position_never_traded_has_no_value() -> None:
    position = Position("GOOG")
    assert position.market_value == 0
    assert position.unrealized_pnl == 0
    assert position.last_price is None


@pytest.mark.parametrize(
    ("side", "quantity", "price"),
    [
        ("buy", 1, Decimal("1")),
        ("HOLD", 1, Decimal("1")),
        ("BUY", 0, Decimal("1")),
        ("BUY", -5, Decimal("1")),
        ("BUY", True, Decimal("1")),
        ("BUY", 1.0, Decimal("1")),
        ("BUY", 1, Decimal("0")),
        ("BUY", 1, Decimal("-1")),
        ("BUY", 1, Decimal("NaN")),
        ("BUY", 1, 1.5),
    ],
)
def test_a_malformed_fill_is_refused_and_changes_nothing(side: str, quantity: int, price: Decimal) -> None:
    # Arrange
    position = Position("AAPL")
    position.apply_fill("BUY", 10, Decimal("10.00"))
    before = (position.quantity, position.average_price, position.realized_pnl, position.last_price)

    # Act / Assert
    with pytest.raises(ValueError, match=r"^(side|quantity|price) must be "):
        position.apply_fill(side, quantity, price)
    assert (position.quantity, position.average_price, position.realized_pnl, position.last_price) == before


def test_a_mark_values_the_position_and_a_fill_never_moves_it() -> None:
    # Arrange
    position = Position("AAPL")
    position.apply_fill("BUY", 100, Decimal("10.00"))

    # Act
    position.mark = Decimal("12.00")
    position.apply_fill("BUY", 1, Decimal("0.01"))  # a 1-lot at a silly price

    # Assert: average (1000 + 0.01) / 101; valued at the mark, not at the last execution
    assert position.last_price == Decimal("0.01")
    assert position.valuation_price == Decimal("12.00")
    assert position.market_value == Decimal("1212.00")
    assert position.unrealized_pnl == (Decimal("12.00") - position.average_price) * 101


def test_without_a_mark_the_position_is_valued_at_its_last_execution() -> None:
    # Arrange
    position = Position("AAPL")
    position.apply_fill("SELL", 10, Decimal("20.00"))

    # Act
    position.apply_fill("SELL", 10, Decimal("22.00"))

    # Assert
    assert position.valuation_price == Decimal("22.00")
    assert position.market_value == Decimal("-440.00")
    assert position.unrealized_pnl == Decimal("-20.00")  # (22 - 21) * -20
