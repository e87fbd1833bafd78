"""Properties of the risk engine against a slow, obvious reference recomputed from nothing.

`RiskEngine.check` trusts totals it updates incrementally; if one update were off, every later
decision would be too. So after any sequence of reserve / release / fill / mark / new day, the
figures the engine reports (and what `check` projects for a new order) must equal the reference.
And a submit flow (check, reserve if approved) must never leave the book, recomputed with every
working order in its worst direction, outside a limit the approval checked; fills and cancels at
fixed marks must never make a worst-direction figure worse.
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

from itirp.domain.positions import Position
from itirp.domain.risk import RiskEngine, RiskLimits, RiskMetrics, Violation

# Hypothesis caches into ./.hypothesis even with database=None, and does so while pytest is still
# collecting (before any fixture could redirect it). Keep the checkout clean: point it at a temp
# directory at import, unless the caller chose a location through the environment.
if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "itirp-hypothesis")

SYMBOLS = ["AAPL", "MSFT", "TSLA", "NEW"]
SIGNS = {"BUY": 1, "SELL": -1}
ZERO = Decimal(0)
TINY = Decimal("1e-20")

prices = st.one_of(
    st.integers(1, 99_999_999).map(lambda n: Decimal(n).scaleb(-4)),  # up to 9999.9999
    st.integers(1, 500).map(Decimal),  # whole prices: a different exponent in the sums
)
sides = st.sampled_from(["BUY", "SELL"])
orders = st.tuples(st.sampled_from(SYMBOLS), sides, st.integers(1, 1_000), prices)
reserves = st.tuples(st.just("reserve"), orders)
submits = st.tuples(st.just("submit"), orders)
releases = st.tuples(st.just("release"), st.integers(0, 50))
fills = st.tuples(st.just("fill"), st.integers(0, 50), st.integers(0, 1_000), prices)
marks = st.tuples(st.just("mark"), st.sampled_from(SYMBOLS), prices)
new_days = st.tuples(st.just("new_day"))

Order = tuple[str, str, int, Decimal]

# A probe's price: fixed, or just above the symbol's current price (where the net is worth
# checking at both ends: a short symbol offsetting long ones can look smaller at the higher one).
probe_prices = st.one_of(
    prices.map(lambda price: ("at", price)),
    st.integers(1, 2_000).map(lambda cents: ("above", Decimal(cents).scaleb(-2))),
)


@dataclass
class Reference:
    """The obvious model: lists and loops, recomputed from nothing on every question."""

    orders: dict[str, tuple[str, int, int, Decimal]] = field(default_factory=dict)  # symbol, sign, left, price
    quantities: dict[str, int] = field(default_factory=dict)
    last: dict[str, Decimal] = field(default_factory=dict)
    marks: dict[str, Decimal] = field(default_factory=dict)
    executed: Decimal = ZERO
    #: Per symbol, the average-cost position (its own unit tests cover its arithmetic): the
    #: day's P&L is recomputed from these.
    held: dict[str, Position] = field(default_factory=dict)
    realized_today: Decimal = ZERO

    def price(self, symbol: str) -> Decimal | None:
        """The mark; unmarked, the highest of its working orders' prices and its last execution."""
        if symbol in self.marks:
            return self.marks[symbol]
        known = [price for s, _, _, price in self.orders.values() if s == symbol]
        known += [self.last[symbol]] if symbol in self.last else []
        return max(known, default=None)

    def extremes(self, symbol: str) -> tuple[int, int]:
        """(L, S): the position if every working buy fills / if every working sell fills."""
        held = self.quantities.get(symbol, 0)
        buys = sum(left for s, sign, left, _ in self.orders.values() if s == symbol and sign > 0)
        sells = sum(left for s, sign, left, _ in self.orders.values() if s == symbol and sign < 0)
        return held + buys, held - sells

    def valuations(self) -> dict[str, tuple[int, int, Decimal]]:
        """(L, S, price) of every symbol that has a price (one without has no quantity either)."""
        found = {}
        for symbol in SYMBOLS:
            price = self.price(symbol)
            if price is not None:
                found[symbol] = (*self.extremes(symbol), price)
            else:
                assert self.extremes(symbol) == (0, 0)
        return found

    def working_notional(self) -> Decimal:
        return sum((left * price for _, _, left, price in self.orders.values()), ZERO)

    def volume(self) -> Decimal:
        return self.executed + self.working_notional()

    def check(self, order: Order) -> dict[Violation, tuple[Decimal, Decimal]]:
        """The four figures `check` projects for `order`, each with the price it was valued at."""
        symbol, side, quantity, price = order
        values = self.valuations()
        current = self.price(symbol)
        p = price if current is None else max(current, price)
        long, short = self.extremes(symbol)
        if side == "BUY":
            long += quantity
        else:
            short -= quantity
        nets = [(net_magnitude({**values, symbol: (long, short, p)}), p)]
        if current is not None:
            nets.append((net_magnitude({**values, symbol: (long, short, current)}), current))
        values[symbol] = (long, short, p)
        return {
            Violation.POSITION_LIMIT: (max(abs(long), abs(short)) * p, p),
            Violation.DAILY_VOLUME_LIMIT: (self.volume() + quantity * p, p),
            Violation.NET_EXPOSURE_LIMIT: max(nets, key=lambda n: n[0]),  # the first on a tie: p
            Violation.GROSS_EXPOSURE_LIMIT: (gross(values), p),
        }

    def metrics(self) -> RiskMetrics:
        values = self.valuations()
        high = sum((long * p for long, _, p in values.values()), ZERO)
        low = sum((short * p for _, short, p in values.values()), ZERO)
        sizes = [abs(q) * (self.price(s) or ZERO) for s, q in self.quantities.items() if q != 0]
        credit = sum((max(long, 0) + max(-short, 0)) * p for long, short, p in values.values())
        unrealized = sum((p.unrealized_pnl for p in self.held.values()), ZERO)
        return RiskMetrics(
            net_exposure=high if abs(high) >= abs(low) else low,
            gross_exposure=gross(values),
            daily_volume=self.volume(),
            executed_volume=self.executed,
            working_exposure=self.working_notional(),
            total_positions=len(sizes),
            largest_position=max(sizes, default=ZERO),
            kill_switch_active=False,
            credit_used=credit + ZERO,
            daily_pnl=self.realized_today + unrealized,
        )

    def worst(self, symbol: str) -> tuple[Decimal, Decimal, Decimal]:
        """Worst-direction figures now: the symbol's position value, the net, the gross."""
        values = self.valuations()
        long, short, p = values.get(symbol, (0, 0, ZERO))
        return max(abs(long), abs(short)) * p, net_magnitude(values), gross(values)


def net_magnitude(values: dict[str, tuple[int, int, Decimal]]) -> Decimal:
    high = sum((long * p for long, _, p in values.values()), ZERO)
    low = sum((short * p for _, short, p in values.values()), ZERO)
    return max(abs(high), abs(low))


def gross(values: dict[str, tuple[int, int, Decimal]]) -> Decimal:
    return sum((max(abs(long), abs(short)) * p for long, short, p in values.values()), ZERO)


def pick(model: Reference, index: int) -> str | None:
    live = sorted(model.orders)
    return live[index % len(live)] if live else None


def apply(engine: RiskEngine, model: Reference, operation: tuple, counter: list[int]) -> None:
    """Apply one operation to both; a "submit" is only the reserve half (the caller checks)."""
    kind = operation[0]
    if kind in ("reserve", "submit"):
        symbol, side, quantity, price = operation[1]
        order_id = f"o{counter[0]}"
        counter[0] += 1
        engine.reserve(order_id, symbol=symbol, side=side, quantity=quantity, price=price)
        model.orders[order_id] = (symbol, SIGNS[side], quantity, price)
    elif kind == "release":
        order_id = pick(model, operation[1]) or "unknown"
        engine.release(order_id)
        model.orders.pop(order_id, None)
    elif kind == "fill":
        _, index, amount, price = operation
        order_id = pick(model, index)
        if order_id is None:
            return
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
        position = model.held.setdefault(symbol, Position(symbol, mark=model.marks.get(symbol)))
        model.realized_today += position.apply_fill("BUY" if sign > 0 else "SELL", quantity, price)
    elif kind == "mark":
        _, symbol, price = operation
        engine.set_mark(symbol, price)
        model.marks[symbol] = price
        if symbol in model.held:
            model.held[symbol].mark = price
    else:
        engine.reset_daily_volume()
        model.executed = ZERO
        model.realized_today = ZERO


def touched_symbol(model: Reference, operation: tuple) -> str | None:
    """The symbol a fill or release will touch, None for any other operation (or no order)."""
    if operation[0] not in ("fill", "release"):
        return None
    order_id = pick(model, operation[1])
    return None if order_id is None else model.orders[order_id][0]


@settings(max_examples=200, deadline=None, database=None)
@given(
    operations=st.lists(st.one_of(reserves, reserves, releases, fills, fills, marks, new_days), max_size=40),
    probe=st.tuples(st.sampled_from(SYMBOLS), sides, st.integers(1, 1_000), probe_prices),
)
def test_incremental_totals_always_equal_a_recomputation(
    operations: list[tuple], probe: tuple[str, str, int, tuple[str, Decimal]]
) -> None:
    # Arrange: zero limits, so every check reports every non-zero projected figure
    engine = RiskEngine(RiskLimits(ZERO, ZERO, ZERO, ZERO))
    model = Reference()
    counter = [0]

    for operation in operations:
        # Act
        apply(engine, model, operation, counter)

        # Assert: the state the engine reports
        assert engine.metrics() == model.metrics()
        assert abs(engine.running_daily_pnl() - model.metrics().daily_pnl) < TINY
        assert {s: p.quantity for s, p in engine.positions.items()} == model.quantities
        assert {s: p.mark for s, p in engine.positions.items()} == {s: model.marks.get(s) for s in model.quantities}

        # Assert: what check projects for a new order, and the price each figure was valued at
        symbol, side, quantity, (how, amount) = probe
        price = amount if how == "at" else (model.price(symbol) or ZERO) + amount
        expected = [
            (kind, figure, at)
            for kind, (figure, at) in model.check((symbol, side, quantity, price)).items()
            if figure > 0
        ]
        found = engine.check(symbol=symbol, side=side, quantity=quantity, price=price)
        assert [(v.violation, v.projected, v.reference_price) for v in found] == expected


limit_amounts = st.integers(0, 5_000_000).map(Decimal)


@settings(max_examples=200, deadline=None, database=None)
@given(
    operations=st.lists(st.one_of(submits, submits, submits, releases, fills, fills, marks, new_days), max_size=40),
    limits=st.builds(RiskLimits, limit_amounts, limit_amounts, limit_amounts, limit_amounts),
)
def test_an_approved_book_stays_within_its_limits_and_fills_and_cancels_never_make_it_worse(
    operations: list[tuple], limits: RiskLimits
) -> None:
    # Arrange
    engine = RiskEngine(limits)
    model = Reference()
    counter = [0]
    caps = {
        Violation.POSITION_LIMIT: limits.max_position_size,
        Violation.DAILY_VOLUME_LIMIT: limits.max_daily_volume,
        Violation.NET_EXPOSURE_LIMIT: limits.max_net_exposure,
        Violation.GROSS_EXPOSURE_LIMIT: limits.max_gross_exposure,
    }

    for operation in operations:
        symbol = touched_symbol(model, operation)
        before = model.worst(symbol) if symbol is not None else None
        if operation[0] == "submit":
            # Act: the server's accept path - check, and reserve only what passes
            symbol, side, quantity, price = order = operation[1]
            found = engine.check(symbol=symbol, side=side, quantity=quantity, price=price)
            figures = model.check(order)
            assert [(v.violation, v.projected) for v in found] == [
                (kind, figure) for kind, (figure, _) in figures.items() if figure > caps[kind]
            ]
            if found:
                continue
            apply(engine, model, operation, counter)

            # Assert: recomputed from nothing, with every working order, the book is within
            # every limit the approval checked (other symbols' positions may have been pushed
            # over theirs by a mark move: this order did not touch them)
            position, net, gross_now = model.worst(symbol)
            assert position <= limits.max_position_size
            assert net <= limits.max_net_exposure
            assert gross_now <= limits.max_gross_exposure
            assert model.volume() <= limits.max_daily_volume
        else:
            # Act
            apply(engine, model, operation, counter)

            # Assert: a fill or cancel in a marked symbol (a fixed price) never makes a figure worse
            if before is not None and symbol in model.marks:
                after = model.worst(symbol)
                assert all(a <= b for a, b in zip(after, before, strict=True)), (before, after)

        # Assert: the running totals equal the recomputation at every step (the day's P&L to the
        # rounding of average prices in the 28th significant digit)
        assert engine.metrics() == model.metrics()
        assert abs(engine.running_daily_pnl() - model.metrics().daily_pnl) < TINY


@settings(max_examples=300, deadline=None, database=None)
@given(
    marked=st.lists(prices, min_size=len(SYMBOLS), max_size=len(SYMBOLS)),
    book=st.lists(st.tuples(st.sampled_from(SYMBOLS), sides, st.integers(1, 1_000), st.booleans()), max_size=12),
    probe=st.tuples(st.sampled_from(SYMBOLS), sides, st.integers(1, 1_000), st.integers(1, 2_000)),
)
def test_the_net_is_the_worst_over_the_ordered_symbols_price_range(
    marked: list[Decimal], book: list[tuple[str, str, int, bool]], probe: tuple[str, str, int, int]
) -> None:
    # Arrange: every symbol marked; positions (filled orders) and working orders at the marks
    engine = RiskEngine(RiskLimits(ZERO, ZERO, ZERO, ZERO))
    model = Reference()
    counter = [0]
    for symbol, mark in zip(SYMBOLS, marked, strict=True):
        apply(engine, model, ("mark", symbol, mark), counter)
    for symbol, side, quantity, filled in book:
        mark = model.marks[symbol]
        apply(engine, model, ("reserve", (symbol, side, quantity, mark)), counter)
        if filled:  # the whole order: 1 + (quantity - 1) % quantity
            index = sorted(model.orders).index(f"o{counter[0] - 1}")
            apply(engine, model, ("fill", index, quantity - 1, mark), counter)

    # Act: an order priced just above its symbol's mark
    symbol, side, quantity, cents = probe
    price = model.marks[symbol] + Decimal(cents).scaleb(-2)
    found = engine.check(symbol=symbol, side=side, quantity=quantity, price=price)

    # Assert
    net = [(v.projected, v.reference_price) for v in found if v.violation is Violation.NET_EXPOSURE_LIMIT]
    figure, at = model.check((symbol, side, quantity, price))[Violation.NET_EXPOSURE_LIMIT]
    assert net == ([(figure, at)] if figure > 0 else [])
