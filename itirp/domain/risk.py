"""Pre-trade risk: exact, incremental, valued at marks, working orders in the worst direction.

An order passes `check` only if the book that would exist after it - current positions, every
order already accepted but not yet filled, and this order - stays within the limits. Counting
working orders is what stops a burst of orders that each fit alone from breaching together.
The engine is synchronous and single-writer, so the caller's `check` followed by `reserve`
(or `check_and_reserve`) happens with nothing in between.

Valuation. A symbol is valued at its mark, the reference price from the market data feed
(`set_mark`). A fill never sets it: a desk's own trade is not the market, and valuing at it let a
1-lot fill at 0.01 re-price a whole position to nothing. A symbol with no mark yet is valued at
the highest price the engine knows for it - its working orders' prices and its last execution
price - because with nothing from the market, the highest of our own prices is the one that
cannot understate a magnitude. All of a symbol's quantity is valued at one price p_s.

Worst direction. Resting orders on one side never make room for the other: per symbol,
L = position + working buys and S = position - working sells are the two extreme outcomes (every
buy fills / every sell fills), and a figure takes the worse of them:

* position: max(|L|, |S|) * p_s (as L >= S, that is max(L, -S) * p_s);
* net: max(|sum L * p_s|, |sum S * p_s|);
* gross: sum max(|L|, |S|) * p_s;
* daily volume: executed today + every working order at its reserved price.

During `check` the order joins L (a buy) or S (a sell) and its symbol is valued at
p = max(p_s, order price): position and gross only grow with the price, so p is their worst case
and covers whatever price the symbol is valued at once the order is reserved (the mark, or p
itself when unmarked). Net is not monotone in one symbol's price (a short TSLA offsets a long
AAPL more at a higher TSLA price) but it is convex in it, so the check takes the worse of the
net at p and at p_s - the two ends of the range - and this order's volume is counted at p.

`check` runs on every order, so it never walks the book: the engine keeps one aggregate per
symbol and running firm-wide totals (sum L*p, sum S*p, sum max(L,-S)*p, working notional,
executed volume), each moved by the symbol's new contribution minus its old one on every
reserve, release, fill and mark. Everything is `Decimal` of limited-decimal inputs, so the
running totals stay exactly equal to a recomputation.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Final

from itirp.domain.positions import Position, validate_order
from itirp.domain.risk_violations import (
    KILL_SWITCH,
    Figures,
    Violation,
    ViolationDetail,
    limit_violations,
    price_band_violation,
)

__all__ = [
    "INSTRUMENT_LIMITS",
    "LIMIT_AMOUNTS",
    "NO_LIMITS",
    "UNLIMITED",
    "InstrumentLimits",
    "RiskEngine",
    "RiskLimits",
    "RiskMetrics",
    "Violation",
    "ViolationDetail",
    "price_band_violation",
]

_ZERO: Final = Decimal(0)
#: A limit that is not set: every figure is below it.
UNLIMITED: Final = Decimal("Infinity")


def _check_amounts(limits: object, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(limits, name)
        if not isinstance(value, Decimal) or value.is_nan() or value < 0:
            # A float limit would compare inexactly; a negative one can never be met.
            raise ValueError(f"{name} must be a non-negative Decimal or UNLIMITED (got {value!r})")


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """The limits of one level (firm, desk, account or trader), in currency; `UNLIMITED` where a
    limit is not set. Immutable: change them by `RiskEngine.set_limits`."""

    max_position_size: Decimal = Decimal("1000000")
    """Largest absolute value one symbol may reach, working orders counted in the worst direction."""
    max_daily_volume: Decimal = Decimal("10000000")
    """Largest notional traded today, executed plus working."""
    max_net_exposure: Decimal = Decimal("5000000")
    """Largest absolute sum of signed symbol values (long minus short), in the worse extreme."""
    max_gross_exposure: Decimal = Decimal("15000000")
    """Largest sum of absolute symbol values (long plus short), each in its worse extreme."""
    kill_switch_enabled: bool = False
    """When on, every new order is refused, whatever the numbers say."""
    max_order_value: Decimal = UNLIMITED
    """Largest value of one order, quantity x price (fat finger)."""
    max_order_quantity: Decimal = UNLIMITED
    """Largest quantity of one order (fat finger); a whole number."""
    credit_limit: Decimal = UNLIMITED
    """Largest amount the level may owe: per symbol, the value of the long it could hold plus the
    short it could owe (max(L, 0) + max(-S, 0)) * price, summed."""
    daily_loss_limit: Decimal = UNLIMITED
    """Largest loss of the day (realized today + unrealized at the mark), a positive amount; the
    level turns REDUCING when it is reached (`RiskEngine.loss_reached`)."""

    def __post_init__(self) -> None:
        if not isinstance(self.kill_switch_enabled, bool):
            raise TypeError(f"kill_switch_enabled must be a bool (got {self.kill_switch_enabled!r})")
        _check_amounts(self, LIMIT_AMOUNTS)


#: The amount limits (everything in RiskLimits but the kill switch), in declaration order.
LIMIT_AMOUNTS: Final = tuple(f.name for f in fields(RiskLimits) if f.name != "kill_switch_enabled")
#: A level with no limit set.
NO_LIMITS: Final = RiskLimits(**{name: UNLIMITED for name in LIMIT_AMOUNTS})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class InstrumentLimits:
    """One instrument's overrides at a level: where set, they replace the level's own limit."""

    max_position_size: Decimal = UNLIMITED
    max_order_value: Decimal = UNLIMITED
    max_order_quantity: Decimal = UNLIMITED

    def __post_init__(self) -> None:
        _check_amounts(self, INSTRUMENT_LIMITS)


#: The limits an instrument can override.
INSTRUMENT_LIMITS: Final = ("max_position_size", "max_order_value", "max_order_quantity")


@dataclass(frozen=True, slots=True)
class RiskMetrics:
    """A snapshot of the firm-wide figures the limits apply to (without any new order).

    Symbols are valued as `check` values them (at the mark; unmarked, at the highest known
    price) and working orders count in the worst direction, so these are the figures the next
    order is measured against.
    """

    net_exposure: Decimal
    """The worse of the two extremes (every working buy fills / every working sell fills),
    signed: negative when the worse extreme is net short."""
    gross_exposure: Decimal
    """Sum over symbols of max(|L|, |S|) * price."""
    daily_volume: Decimal
    """Executed today plus working."""
    executed_volume: Decimal
    working_exposure: Decimal
    """Notional of the working (reserved, unfilled) orders, each at its reserved price."""
    total_positions: int
    """Symbols with a non-zero position."""
    largest_position: Decimal
    """Largest absolute position (without working orders) at its symbol's price; 0 when none."""
    kill_switch_active: bool
    credit_used: Decimal = _ZERO
    """What the level could owe (see `RiskLimits.credit_limit`)."""
    daily_pnl: Decimal = _ZERO
    """Realized today plus unrealized at the valuation prices (negative: a loss)."""


class _SymbolExposure:
    """Everything the engine knows about one symbol, and its contributions to the totals."""

    __slots__ = (
        "credit_value",
        "gross_value",
        "long_value",
        "mark",
        "position",
        "price",
        "prices",
        "short_value",
        "top_price",
        "unrealized",
        "working_buys",
        "working_orders",
        "working_sells",
    )

    def __init__(self, symbol: str) -> None:
        self.position = Position(symbol)
        self.mark: Decimal | None = None
        self.working_orders = 0
        self.working_buys = 0
        """Quantity of the working buys (>= 0)."""
        self.working_sells = 0
        """Quantity of the working sells (>= 0)."""
        self.prices: dict[Decimal, int] = {}
        """Working orders by price: what `top_price` is the maximum of."""
        self.top_price: Decimal | None = None
        """The highest working order price, None when nothing works."""
        self.price: Decimal | None = None
        """The valuation price p_s, as counted in the totals; None when the symbol has none."""
        self.long_value = _ZERO
        """L * p_s, as counted in the engine's totals."""
        self.short_value = _ZERO
        """S * p_s, as counted in the engine's totals."""
        self.gross_value = _ZERO
        """max(L, -S) * p_s, as counted in the engine's totals."""
        self.credit_value = _ZERO
        """(max(L, 0) + max(-S, 0)) * p_s, as counted in the engine's totals."""
        self.unrealized = _ZERO
        """The position's unrealized P&L, as counted in the engine's total."""

    def valuation_price(self) -> Decimal | None:
        """The mark; unmarked, the highest of the working orders' prices and the last execution."""
        mark = self.mark
        if mark is not None:
            return mark
        top = self.top_price
        last = self.position.last_price
        if last is None or (top is not None and top > last):
            return top
        return last

    def add_price(self, price: Decimal) -> None:
        self.prices[price] = self.prices.get(price, 0) + 1
        top = self.top_price
        if top is None or price > top:
            self.top_price = price

    def remove_price(self, price: Decimal) -> None:
        prices = self.prices
        left = prices[price] - 1
        if left:
            prices[price] = left
            return
        del prices[price]
        if price == self.top_price:
            # The only step that is not O(1): one max over this symbol's distinct working prices,
            # when the last order at the highest of them leaves.
            self.top_price = max(prices) if prices else None


class _Order:
    """A working order: the part of it not yet filled."""

    __slots__ = ("exposure", "price", "remaining", "side", "sign")

    def __init__(self, exposure: _SymbolExposure, side: str, sign: int, remaining: int, price: Decimal) -> None:
        self.exposure = exposure
        self.side = side
        self.sign = sign
        self.remaining = remaining
        self.price = price


class RiskEngine:
    """The firm-wide risk state and the pre-trade check. One writer; no I/O; no clock.

    `positions` is live state, exposed for reading: mutate it only through `fill` and `set_mark`.
    """

    def __init__(self, limits: RiskLimits = RiskLimits()) -> None:  # frozen, so one shared default is safe
        self.limits = limits
        #: Per-instrument overrides of max_position_size, max_order_value and max_order_quantity.
        self.instrument_limits: dict[str, InstrumentLimits] = {}
        self._own_caps = InstrumentLimits()
        self._caps: dict[str, InstrumentLimits] = {}
        self._recap()
        self.positions: dict[str, Position] = {}
        self._exposures: dict[str, _SymbolExposure] = {}
        self._orders: dict[str, _Order] = {}
        self._long = _ZERO
        """sum L * p_s: the net if every working buy fills."""
        self._short = _ZERO
        """sum S * p_s: the net if every working sell fills."""
        self._gross = _ZERO
        """sum max(L, -S) * p_s."""
        self._credit = _ZERO
        """sum (max(L, 0) + max(-S, 0)) * p_s."""
        self._working_notional = _ZERO
        self._executed_volume = _ZERO
        self._realized_today = _ZERO
        self._unrealized = _ZERO
        """sum of the positions' unrealized P&L (at the mark, else the last execution price)."""

    def set_limits(self, limits: RiskLimits) -> None:
        """Replace the limits; they apply from the next check (working orders stay accepted)."""
        if not isinstance(limits, RiskLimits):
            raise TypeError(f"expected RiskLimits, got {type(limits).__name__}")
        self.limits = limits
        self._recap()

    def set_mark(self, symbol: str, price: Decimal) -> None:
        """The symbol's reference price from the market data feed: value it at `price` from now on."""
        if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
            raise ValueError(f"mark must be a positive Decimal (got {price!r})")
        exposure = self._exposures.get(symbol)
        if exposure is None:
            exposure = self._exposures[symbol] = _SymbolExposure(symbol)
        exposure.mark = price
        exposure.position.mark = price
        self._revalue(exposure, position_moved=True)

    def check(self, *, symbol: str, side: str, quantity: int, price: Decimal) -> list[ViolationDetail]:
        """Every limit this order would breach, in a fixed order; empty if it may go.

        With the kill switch on, only that is reported. Reading only: reserve separately
        (with no await in between) or use `check_and_reserve`.
        """
        return self.check_valid(symbol, validate_order(side, quantity, price), quantity, price)

    def check_valid(self, symbol: str, sign: int, quantity: int, price: Decimal) -> list[ViolationDetail]:
        """`check` of an order already validated (`validate_order` gave `sign`): the levels check
        one order at four engines and validate it once."""
        limits = self.limits
        if limits.kill_switch_enabled:
            return [KILL_SWITCH]
        exposure = self._exposures.get(symbol)
        if exposure is None:
            current = None
            long = short = 0
            base_long, base_short, base_gross, base_credit = self._long, self._short, self._gross, self._credit
        else:
            current = exposure.price
            held = exposure.position.quantity
            long = held + exposure.working_buys
            short = held - exposure.working_sells
            base_long = self._long - exposure.long_value
            base_short = self._short - exposure.short_value
            base_gross = self._gross - exposure.gross_value
            base_credit = self._credit - exposure.credit_value
        if sign > 0:
            long += quantity
        else:
            short -= quantity
        p = price if current is None or price > current else current
        size = (long if long > -short else -short) * p
        # Every symbol's L * p >= S * p, so the totals keep high >= low and the worse extreme's
        # magnitude is max(high, -low): positive high when long, negative low when short.
        high = base_long + long * p
        low = base_short + short * p
        net, magnitude = (high, high) if high >= -low else (low, -low)
        net_price = p
        if current is not None and current < p:
            # Net is convex in this symbol's price, so its worst case over [current, p] is at an
            # end; at the lower end only an extreme in which the symbol offsets the rest can grow:
            # high when the symbol is short in both (long < 0), -low when long in both (short > 0).
            if long < 0:
                high = base_long + long * current
                if high > magnitude:
                    net = magnitude = high
                    net_price = current
            elif short > 0:
                low = base_short + short * current
                if -low > magnitude:
                    net, magnitude = low, -low
                    net_price = current
        gross = base_gross + size
        value = quantity * price
        volume = self._executed_volume + self._working_notional + quantity * p
        credit = base_credit + ((long if long > 0 else 0) - (short if short < 0 else 0)) * p
        caps = self._caps.get(symbol) or self._own_caps
        if (
            size > caps.max_position_size
            or volume > limits.max_daily_volume
            or magnitude > limits.max_net_exposure
            or gross > limits.max_gross_exposure
            or value > caps.max_order_value
            or quantity > caps.max_order_quantity
            or credit > limits.credit_limit
        ):
            mark = exposure.mark if exposure is not None else None
            figures = Figures(size, -short > long, volume, net, net_price, gross, value, quantity, credit)
            return limit_violations(limits, caps, symbol, mark, p, price, figures)
        return []

    def set_instrument_limits(self, symbol: str, overrides: InstrumentLimits | None) -> None:
        """Set (None: remove) one instrument's overrides at this level."""
        if overrides is None:
            self.instrument_limits.pop(symbol, None)
        else:
            self.instrument_limits[symbol] = overrides
        self._recap()

    def _recap(self) -> None:
        """The per-order and position caps by symbol: an instrument's overrides where set, else
        the level's own (computed when limits change, not per check)."""
        limits = self.limits
        own = InstrumentLimits(limits.max_position_size, limits.max_order_value, limits.max_order_quantity)
        self._own_caps = own
        self._caps = {
            symbol: InstrumentLimits(
                *(
                    getattr(overrides, name) if getattr(overrides, name).is_finite() else getattr(own, name)
                    for name in INSTRUMENT_LIMITS
                )
            )
            for symbol, overrides in self.instrument_limits.items()
        }

    def reserve(self, order_id: str, *, symbol: str, side: str, quantity: int, price: Decimal) -> None:
        """Count an accepted order as working at `price`: from now on every check sees it."""
        self.reserve_valid(order_id, symbol, side, validate_order(side, quantity, price), quantity, price)

    def reserve_valid(self, order_id: str, symbol: str, side: str, sign: int, quantity: int, price: Decimal) -> None:
        """`reserve` of an order already validated (`validate_order` gave `sign`)."""
        if order_id in self._orders:
            raise ValueError(f"order {order_id!r} is already reserved")
        exposure = self._exposures.get(symbol)
        if exposure is None:
            exposure = self._exposures[symbol] = _SymbolExposure(symbol)
        self._orders[order_id] = _Order(exposure, side, sign, quantity, price)
        exposure.working_orders += 1
        if sign > 0:
            exposure.working_buys += quantity
        else:
            exposure.working_sells += quantity
        exposure.add_price(price)
        self._working_notional += quantity * price
        self._revalue(exposure)

    def check_and_reserve(
        self, order_id: str, *, symbol: str, side: str, quantity: int, price: Decimal
    ) -> list[ViolationDetail]:
        """`check`, then `reserve` if nothing was breached; returns the violations."""
        if order_id in self._orders:
            raise ValueError(f"order {order_id!r} is already reserved")
        violations = self.check(symbol=symbol, side=side, quantity=quantity, price=price)
        if not violations:
            self.reserve(order_id, symbol=symbol, side=side, quantity=quantity, price=price)
        return violations

    def working(self, order_id: str) -> bool:
        """Whether the order is reserved here (approved, something left to fill)."""
        return order_id in self._orders

    def release(self, order_id: str) -> None:
        """The order was rejected downstream or cancelled: stop counting what is left of it."""
        order = self._orders.get(order_id)
        if order is None:
            return
        exposure = order.exposure
        self._unreserve(order_id, order, order.remaining)
        self._revalue(exposure)
        if exposure.working_orders == 0 and exposure.position.last_price is None and exposure.mark is None:
            # Never executed, never marked, nothing working: its contributions are exactly 0 again.
            del self._exposures[exposure.position.symbol]

    def fill(self, order_id: str, *, quantity: int, price: Decimal) -> Decimal:
        """The order executed `quantity` at `price`: move it from working to the position.

        Returns the realized P&L of the fill. The fill price never becomes the symbol's mark.
        `KeyError` for an unknown order; `ValueError` (state untouched) for a bad quantity or
        price, or more than the order has left.
        """
        order = self._orders.get(order_id)
        if order is None:
            raise KeyError(order_id)
        validate_order(order.side, quantity, price)
        if quantity > order.remaining:
            raise ValueError(f"fill of {quantity} exceeds the {order.remaining} left on order {order_id!r}")
        exposure = order.exposure
        realized = exposure.position.apply_fill(order.side, quantity, price)
        self._unreserve(order_id, order, quantity)
        self.positions.setdefault(exposure.position.symbol, exposure.position)
        self._executed_volume += quantity * price
        self._realized_today += realized
        self._revalue(exposure, position_moved=True)
        return realized

    def reset_daily_volume(self) -> Decimal:
        """Start a new trading day: executed volume back to 0 (the previous value is returned).

        Working orders stay reserved and keep counting toward the new day's volume.
        """
        previous = self._executed_volume
        self._executed_volume = _ZERO
        self._realized_today = _ZERO
        return previous

    def daily_pnl(self) -> Decimal:
        """Realized today plus unrealized at the valuation prices (the mark, else the last
        execution price), recomputed from the positions: exact, for reports."""
        return self._realized_today + sum(
            (p.unrealized_pnl for p in self.positions.values() if p.quantity), start=_ZERO
        )

    def running_daily_pnl(self) -> Decimal:
        """`daily_pnl` from running totals, O(1), for the check of every order. It moves by each
        position's change, so it can differ from the recomputation in the 28th significant digit
        (average prices are rounded there), never more."""
        return self._realized_today + self._unrealized

    def loss_reached(self) -> bool:
        """Whether the day's loss has reached daily_loss_limit (never without a limit)."""
        limit = self.limits.daily_loss_limit
        return limit.is_finite() and -self.running_daily_pnl() >= limit

    def reduces(self, symbol: str, side: str, quantity: int) -> bool:
        """Whether the order only reduces the position here: it is on the other side of it and,
        with every working order on its side, no larger than the position."""
        exposure = self._exposures.get(symbol)
        if exposure is None:
            return False
        held = exposure.position.quantity
        if side == "SELL":
            return held > 0 and exposure.working_sells + quantity <= held
        return held < 0 and exposure.working_buys + quantity <= -held

    def metrics(self) -> RiskMetrics:
        """The current firm-wide figures (walks the positions: not for the per-order path)."""
        exposures = self._exposures
        sizes = [abs(p.quantity) * (exposures[s].price or _ZERO) for s, p in self.positions.items() if p.quantity != 0]
        net = self._long if self._long >= -self._short else self._short  # see `check`: _long >= _short
        return RiskMetrics(
            net_exposure=net,
            gross_exposure=self._gross,
            daily_volume=self._executed_volume + self._working_notional,
            executed_volume=self._executed_volume,
            working_exposure=self._working_notional,
            total_positions=len(sizes),
            largest_position=max(sizes, default=_ZERO),
            kill_switch_active=self.limits.kill_switch_enabled,
            credit_used=self._credit,
            daily_pnl=self.daily_pnl(),
        )

    def positions_view(self) -> list[Position]:
        """Copies of the open positions, and of flat ones with realized P&L, by symbol.

        Each carries its symbol's mark, so its market value and unrealized P&L are at the mark
        (at the last execution price while the symbol has no mark).
        """
        return [
            replace(position)
            for symbol, position in sorted(self.positions.items())
            if position.quantity != 0 or position.realized_pnl != 0
        ]

    def _unreserve(self, order_id: str, order: _Order, quantity: int) -> None:
        """Stop counting `quantity` of a working order (the caller revalues its symbol)."""
        exposure = order.exposure
        if order.sign > 0:
            exposure.working_buys -= quantity
        else:
            exposure.working_sells -= quantity
        self._working_notional -= quantity * order.price
        order.remaining -= quantity
        if order.remaining == 0:
            del self._orders[order_id]
            exposure.working_orders -= 1
            exposure.remove_price(order.price)

    def _revalue(self, exposure: _SymbolExposure, *, position_moved: bool = False) -> None:
        """Recompute one symbol's contributions and move the totals by the difference;
        `position_moved`: the position or its mark changed (a fill, a mark), so its unrealized P&L
        is recomputed too."""
        price = exposure.valuation_price()
        if price is None:
            # No mark, no execution, nothing working: no quantity to value either.
            long_value = short_value = gross_value = credit_value = _ZERO
        else:
            held = exposure.position.quantity
            long = held + exposure.working_buys
            short = held - exposure.working_sells
            long_value = long * price
            short_value = short * price
            gross_value = (long if long > -short else -short) * price
            credit_value = ((long if long > 0 else 0) - (short if short < 0 else 0)) * price
        self._long += long_value - exposure.long_value
        self._short += short_value - exposure.short_value
        self._gross += gross_value - exposure.gross_value
        self._credit += credit_value - exposure.credit_value
        if position_moved:
            unrealized = exposure.position.unrealized_pnl
            self._unrealized += unrealized - exposure.unrealized
            exposure.unrealized = unrealized
        exposure.price = price
        exposure.long_value = long_value
        exposure.short_value = short_value
        exposure.gross_value = gross_value
        exposure.credit_value = credit_value
