"""The simulated venue: fills at the order's price, fails on a seeded schedule, rejects symbols."""

from __future__ import annotations

import math
import re
from decimal import Decimal

import pytest

from itirp.execution.venue import (
    Fill,
    PermanentVenueError,
    SimulatedVenue,
    TransientVenueError,
    VenueOrder,
)


def venue_order(symbol: str = "AAPL", quantity: int = 100, price: str = "150.25", attempt: int = 1) -> VenueOrder:
    return VenueOrder("ord-1", symbol, "BUY", quantity, Decimal(price), attempt)


async def outcomes(venue: SimulatedVenue, n: int) -> list[str]:
    results = []
    for attempt in range(1, n + 1):
        try:
            await venue.execute(venue_order(attempt=attempt))
        except TransientVenueError:
            results.append("transient")
        else:
            results.append("fill")
    return results


async def test_venue_fills_at_the_orders_price_and_quantity() -> None:
    # Arrange
    venue = SimulatedVenue()

    # Act
    fill = await venue.execute(venue_order(quantity=250, price="99.0001"))

    # Assert
    assert isinstance(fill, Fill)
    assert fill.quantity == 250
    assert fill.price == Decimal("99.0001")
    assert re.fullmatch(r"sim-[0-9a-f]{16}", fill.execution_id)
    assert venue.calls == 1


async def test_each_fill_gets_its_own_execution_id() -> None:
    venue = SimulatedVenue()

    ids = {(await venue.execute(venue_order())).execution_id for _ in range(50)}

    assert len(ids) == 50


async def test_same_seed_gives_the_same_sequence_of_failures() -> None:
    # Arrange
    first = SimulatedVenue(failure_rate=0.5, seed=2024)
    second = SimulatedVenue(failure_rate=0.5, seed=2024)

    # Act
    a = await outcomes(first, 60)
    b = await outcomes(second, 60)

    # Assert
    assert a == b
    assert "fill" in a  # the schedule really mixes both
    assert "transient" in a


async def test_different_seeds_give_different_sequences_of_failures() -> None:
    a = await outcomes(SimulatedVenue(failure_rate=0.5, seed=1), 60)
    b = await outcomes(SimulatedVenue(failure_rate=0.5, seed=2), 60)

    assert a != b


async def test_failure_rate_one_always_fails_transiently() -> None:
    # Arrange
    venue = SimulatedVenue(failure_rate=1.0, seed=7)

    # Act
    results = await outcomes(venue, 30)

    # Assert
    assert results == ["transient"] * 30
    assert venue.calls == 30


async def test_failure_rate_zero_never_fails() -> None:
    assert await outcomes(SimulatedVenue(failure_rate=0.0, seed=7), 30) == ["fill"] * 30


async def test_listed_symbol_is_rejected_permanently_even_when_failures_are_scheduled() -> None:
    # Arrange
    venue = SimulatedVenue(failure_rate=1.0, reject_symbols=frozenset({"HALT"}))

    # Act / Assert
    with pytest.raises(PermanentVenueError, match="HALT"):
        await venue.execute(venue_order(symbol="HALT"))
    with pytest.raises(TransientVenueError):
        await venue.execute(venue_order(symbol="AAPL"))


async def test_unlisted_symbol_still_fills_when_others_are_rejected() -> None:
    venue = SimulatedVenue(reject_symbols=frozenset({"HALT"}))

    fill = await venue.execute(venue_order(symbol="MSFT"))

    assert fill.quantity == 100


@pytest.mark.parametrize("rate", [-0.01, 1.01, 2.0, -1.0, math.nan, math.inf])
def test_failure_rate_outside_zero_to_one_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="failure rate"):
        SimulatedVenue(failure_rate=rate)


@pytest.mark.parametrize("rate", [0.0, 0.5, 1.0])
def test_failure_rate_bounds_are_accepted(rate: float) -> None:
    assert SimulatedVenue(failure_rate=rate).failure_rate == rate
