"""Property: the engine's running totals always equal a from-scratch recomputation.

`RiskEngine.check` trusts totals it updates incrementally; if one update were off, every later
decision would be too. So after any sequence of reserve / release / fill / new day, the totals
(and what `check` projects for a new order) must equal a slow, obvious reference.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from itirp.domain.risk import RiskEngine, RiskLimits, Violation

# Hypothesis caches into ./.hypothesis even with database=None, and does so while pytest is still
# collecting (before any fixture could redirect it). Keep the checkout clean: point it at a temp
# directory at import, unless the caller chose a location through the environment.
if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "itirp-hypothesis")

SYMBOLS = ["AAPL", "MSFT", "TSLA", "NEW"]
SIGNS = {"BUY": 1, "SELL": -1}

prices = st.one_of(
    st.integers(1, 99_999_999).map(lambda n: Decimal(n).scaleb(-4)),  # up to 9999.9999
    st.integers(1, 500).map(Decimal),  # whole prices: a different exponent in the sums
)
reserves = st.tuples(
    st.just("reserve"), st.sampled_from(SYMBOLS), st.sampled_from(["BUY", "SELL"]), st.integers(1, 1_000), prices
)
releases = st.tuples(st.just("release"), st.integers(0, 50))
fills = st.tuples(st.just("fill"), st.integers(0, 50), st.integers(0, 1_000), prices)
new_days = st.tuples(st.just("new_day"))
operations = st.lists(st.one_of(reserves, reserves, releases, fills, fills, new_days), max_size=40)


@dataclass
class Reference:
    """The obvious model: lists and loops, recomputed from nothing on every question."""

    orders: dict[str, tuple[str, int, int, Decimal]] = field(default_factory=dict)  # symbol, sign, left, price
    quantities: dict[str, int] = field(default_factory=dict)
    last: dict[str, Decimal] = field(default_factory=dict)
    executed: Decimal = Decimal(0)

    def value(self, symbol: str, extra: tuple[int, Decimal] | None = None) -> Decimal:
        working = [(sign * left, price) for s, sign, left, price in self.orders.values() if s == symbol]
        if extra is not None:
            working.append(extra)
        if symbol in self.last:
            return (self.quantities.get(symbol, 0) + sum(q for q, _ in working)) * self.last[symbol]
        return sum((q * price for q, price in working), Decimal(0))

    def working_notional(self) -> Decimal:
        return sum((left * price for _, _, left, price in self.orders.values()), Decimal(0))

    def projected(self, extra_symbol: str | None = None, extra: tuple[int, Decimal] | None = None) -> list[Decimal]:
        return [self.value(s, extra if s == extra_symbol else None) for s in SYMBOLS]


def apply(engine: RiskEngine, model: Reference, operation: tuple, counter: list[int]) -> None:
    kind = operation[0]
    if kind == "reserve":
        _, symbol, side, quantity, price = operation
        order_id = f"o{counter[0]}"
        counter[0] += 1
        engine.reserve(order_id, symbol=symbol, side=side, quantity=quantity, price=price)
        model.orders[order_id] = (symbol, SIGNS[side], quantity, price)
    elif kind == "release":
        live = sorted(model.orders)
        order_id = live[operation[1] % len(live)] if live else "unknown"
        engine.release(order_id)
        model.orders.pop(order_id, None)
    elif kind == "fill":
        _, pick, amount, price = operation
        live = sorted(model.orders)
        if not live:
            return
        order_id = live[pick % len(live)]
        symbol, sign, left, limit = model.orders[order_id]
        quantity = 1 + amount % left
        engine.fill(order_id, quantity=quantity, price=price)
        if quantity == left:
            del model.orders[order_id]
        else:
            model.orders[order_id] = (symbol, sign, left - quantity, limit)
        model.quantities[symbol] = model.quantities.get(symbol, 0) + sign * quantity
        model.last[symbol] = price
        model.executed += quantity * price
    else:
        engine.reset_daily_volume()
        model.executed = Decimal(0)


@settings(max_examples=200, deadline=None, database=None)
@given(
    operations=operations,
    probe=st.tuples(st.sampled_from(SYMBOLS), st.sampled_from(["BUY", "SELL"]), st.integers(1, 1_000), prices),
)
def test_incremental_totals_always_equal_a_recomputation(operations: list[tuple], probe: tuple) -> None:
    # Arrange: zero limits, so every check reports every non-zero projected figure
    zero = Decimal(0)
    engine = RiskEngine(RiskLimits(zero, zero, zero, zero))
    model = Reference()
    counter = [0]

    for operation in operations:
        # Act
        apply(engine, model, operation, counter)

        # Assert: the state the engine reports
        values = model.projected()
        metrics = engine.metrics()
        assert metrics.net_exposure == sum(values, zero)
        assert metrics.gross_exposure == sum((abs(v) for v in values), zero)
        assert metrics.working_exposure == model.working_notional()
        assert metrics.executed_volume == model.executed
        assert metrics.daily_volume == model.executed + model.working_notional()
        assert {s: p.quantity for s, p in engine.positions.items()} == {
            s: q for s, q in model.quantities.items()
        }

        # Assert: what check projects for a new order
        symbol, side, quantity, price = probe
        with_order = model.projected(symbol, (SIGNS[side] * quantity, price))
        position = abs(with_order[SYMBOLS.index(symbol)])
        expected = [
            (Violation.POSITION_LIMIT, position),
            (Violation.DAILY_VOLUME_LIMIT, model.executed + model.working_notional() + quantity * price),
            (Violation.NET_EXPOSURE_LIMIT, abs(sum(with_order, zero))),
            (Violation.GROSS_EXPOSURE_LIMIT, sum((abs(v) for v in with_order), zero)),
        ]
        found = engine.check(symbol=symbol, side=side, quantity=quantity, price=price)
        assert [(v.violation, v.projected) for v in found] == [(k, p) for k, p in expected if p > 0]
