"""The book's lazy removal of dead entries, against the slow reference of test_book_properties.

A cancelled (or moved) order that has other orders ahead of it stays in its level's deque as an
emptied list, skipped when it reaches the front, and the level is compacted once many pile up
(`_COMPACT_AT` of them and half the deque). The random flows of test_book_properties are too
short to reach that threshold, so here the same comparisons run with the threshold forced down
to every dead entry, and one long seeded flow, concentrated on a few prices, runs at the real
threshold and must have compacted.
"""

from __future__ import annotations

import random
from decimal import Decimal
from unittest import mock

from hypothesis import given

import itirp.domain.book as bk
from tests.unit.domain.test_book_properties import (
    SETTINGS,
    STPS,
    TICK,
    TIFS,
    USERS,
    compare_with_reference,
    flows,
)


@SETTINGS
@given(flows)
def test_same_as_the_reference_when_every_dead_entry_compacts(operations: list[tuple]) -> None:
    with mock.patch.object(bk, "_COMPACT_AT", 1):
        compare_with_reference(operations, user_per_order=False)


@SETTINGS
@given(flows)
def test_same_as_the_reference_when_every_dead_entry_compacts_without_self_trades(operations: list[tuple]) -> None:
    with mock.patch.object(bk, "_COMPACT_AT", 1):
        compare_with_reference(operations, user_per_order=True)


def deep_flow(seed: int, count: int) -> list[tuple]:
    """Mostly bids on three prices, cancels and amends, now and then a sell taking the front."""
    rng = random.Random(seed)
    operations: list[tuple] = []
    submitted = 0  # `apply` numbers the orders in submission order
    for _ in range(count):
        roll = rng.random()
        recent = max(0, submitted - 1 - rng.randrange(200))
        if roll < 0.40:
            submitted += 1
            price = Decimal(rng.randint(9_990, 9_992)) * TICK
            operations.append(("submit", rng.choice(USERS), "BUY", rng.randint(1, 20), price, "GTC", rng.choice(STPS)))
        elif roll < 0.47:  # takes from the front of the best levels, through dead entries
            price = Decimal(9_990) * TICK
            tif = rng.choice(TIFS)
            submitted += 1
            operations.append(("submit", rng.choice(USERS), "SELL", rng.randint(1, 60), price, tif, rng.choice(STPS)))
        elif roll < 0.92:  # mostly the recent orders, so most hit a live one
            operations.append(("cancel", recent))
        elif roll < 0.99:
            quantity = rng.choice([None, rng.randint(1, 30)])
            price = rng.choice([None, Decimal(rng.randint(9_990, 9_992)) * TICK])
            operations.append(("amend", recent, quantity or (None if price else 5), price))
        else:
            operations.append(("expire",))
    return operations


def test_a_long_flow_on_deep_levels_compacts_and_agrees_with_the_reference() -> None:
    compactions = 0
    compact = bk.OrderBook._compact

    def counting(level: bk._Level) -> None:
        nonlocal compactions
        compactions += 1
        compact(level)

    with mock.patch.object(bk.OrderBook, "_compact", staticmethod(counting)):
        compare_with_reference(deep_flow(11, 3_000), user_per_order=False)
        compare_with_reference(deep_flow(12, 3_000), user_per_order=True)
    assert compactions >= 5, "the flow no longer reaches compaction: retune it"
