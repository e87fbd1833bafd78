"""Instrument definitions: which fields make one unusable, and how an order falls off its grid."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from itirp.domain.instruments import Instrument, InstrumentStatus, instrument_problems, order_problems

ACME = Instrument(
    symbol="ACME",
    name="Acme Corporation",
    currency="USD",
    tick_size=Decimal("0.05"),
    lot_size=100,
    min_quantity=100,
    max_quantity=10_000,
    price_band_percent=Decimal(10),
    reference_price=Decimal("20.00"),
)


def test_a_sound_definition_has_no_problems() -> None:
    assert instrument_problems(ACME) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"symbol": "acme"}, "symbol"),
        ({"symbol": "TOO.LONG.SYMBOL"}, "symbol"),
        ({"name": " "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"currency": "US"}, "currency"),
        ({"tick_size": Decimal(0)}, "tick_size"),
        ({"tick_size": Decimal("0.00005")}, "tick_size"),
        ({"tick_size": Decimal("NaN")}, "tick_size"),
        ({"lot_size": 0}, "lot_size"),
        ({"min_quantity": 0}, "min_quantity"),
        ({"max_quantity": 99}, "max_quantity"),
        ({"price_band_percent": Decimal(0)}, "price_band_percent"),
        ({"price_band_percent": Decimal(100)}, "price_band_percent"),
        ({"reference_price": Decimal("-1")}, "reference_price"),
    ],
)
def test_each_unusable_field_is_named(changes: dict[str, Any], field: str) -> None:
    problems = instrument_problems(dataclasses.replace(ACME, **changes))

    assert [f for f, _ in problems] == [field]


def test_only_an_active_instrument_is_tradable() -> None:
    assert ACME.tradable
    assert not dataclasses.replace(ACME, status=InstrumentStatus.HALTED).tradable
    assert not dataclasses.replace(ACME, status=InstrumentStatus.CLOSED).tradable


@pytest.mark.parametrize(
    ("quantity", "price", "expected"),
    [
        (100, Decimal("20.05"), []),
        (10_000, None, []),
        (100, Decimal("20.03"), [("price", "20.03 is not on ACME's tick of 0.05")]),
        (150, Decimal("20.05"), [("quantity", "150 is not a whole number of ACME's lots of 100")]),
        (20_000, Decimal("20.05"), [("quantity", "20000 is outside ACME's bounds of 100 to 10,000")]),
    ],
)
def test_an_order_off_the_grid_names_the_rule(
    quantity: int, price: Decimal | None, expected: list[tuple[str, str]]
) -> None:
    assert order_problems(ACME, quantity, price) == expected


def test_an_order_off_both_grids_names_both() -> None:
    problems = order_problems(ACME, 150, Decimal("20.01"))

    assert [f for f, _ in problems] == ["price", "quantity"]
