"""Pre-trade risk: exact, incremental, and free of check-then-act races.

An order passes `check` only if the book that would exist after it - current positions, every
order already accepted but not yet filled, and this order - stays within the limits. Counting
working orders is what stops a burst of orders that each fit alone from breaching together.
The engine is synchronous and single-writer, so the caller's `check` followed by `reserve`
(or `check_and_reserve`) happens with nothing in between.

`check` runs on every order, so it never walks the book: the engine keeps one aggregate per
symbol and running firm-wide totals, updated by each reserve, release and fill. Everything is
`Decimal` of limited-decimal inputs, so the running totals stay exactly equal to a recomputation.

Valuing a symbol: at its last execution price when it has one (the whole projected quantity,
so a sell nets against a long); otherwise, before any execution, each working order at its own
limit price.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Final

from itirp.domain.money import format_money
from itirp.domain.positions import Position, validate_order

__all__ = ["LIMIT_AMOUNTS", "RiskEngine", "RiskLimits", "RiskMetrics", "Violation", "ViolationDetail"]

_ZERO: Final = Decimal(0)


class Violation(StrEnum):
    """Why an order was refused; the value is the stable name sent to clients."""

    KILL_SWITCH_ACTIVE = "KILL_SWITCH_ACTIVE"
    POSITION_LIMIT = "POSITION_LIMIT"
    DAILY_VOLUME_LIMIT = "DAILY_VOLUME_LIMIT"
    NET_EXPOSURE_LIMIT = "NET_EXPOSURE_LIMIT"
    GROSS_EXPOSURE_LIMIT = "GROSS_EXPOSURE_LIMIT"


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Firm-wide limits, in currency. Immutable: change them by `RiskEngine.set_limits`."""

    max_position_size: Decimal = Decimal("1000000")
    """Largest absolute value one symbol may reach."""
    max_daily_volume: Decimal = Decimal("10000000")
    """Largest notional traded today, executed plus working."""
    max_net_exposure: Decimal = Decimal("5000000")
    """Largest absolute sum of signed symbol values (long minus short)."""
    max_gross_exposure: Decimal = Decimal("15000000")
    """Largest sum of absolute symbol values (long plus short)."""
    kill_switch_enabled: bool = False
    """When on, every new order is refused, whatever the numbers say."""

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "kill_switch_enabled":
                if not isinstance(value, bool):
                    raise TypeError(f"kill_switch_enabled must be a bool (got {value!r})")
            elif not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                # A float limit would compare inexactly; a negative one can never be met.
                raise ValueError(f"{field.name} must be a non-negative Decimal (got {value!r})")


#: The amount limits (everything in RiskLimits but the kill switch), in declaration order.
LIMIT_AMOUNTS: Final = tuple(f.name for f in fields(RiskLimits) if f.name != "kill_switch_enabled")


@dataclass(frozen=True, slots=True)
class ViolationDetail:
    """One breached limit: what, by how much, and a sentence for the trader."""

    violation: Violation
    limit: Decimal | None
    """The limit breached; None for the kill switch."""
    projected: Decimal | None
    """The figure compared with the limit (an absolute value); None for the kill switch."""
    message: str


@dataclass(frozen=True, slots=True)
class RiskMetrics:
    """A snapshot of the firm-wide figures the limits apply to (without any new order)."""

    net_exposure: Decimal
    gross_exposure: Decimal
    daily_volume: Decimal
    """Executed today plus working."""
    executed_volume: Decimal
    working_exposure: Decimal
    """Notional of the working (reserved, unfilled) orders, each at its own price."""
    total_positions: int
    """Symbols with a non-zero position."""
    largest_position: Decimal
    """Largest absolute position value at the last execution price; 0 when none."""
    kill_switch_active: bool


_KILL_SWITCH: Final = ViolationDetail(
    Violation.KILL_SWITCH_ACTIVE, None, None, "kill switch is active: no new orders are accepted"
)


class _SymbolExposure:
    """Everything the engine knows about one symbol, and its current projected value."""

    __slots__ = ("position", "value", "working_orders", "working_qty", "working_value")

    def __init__(self, symbol: str) -> None:
        self.position = Position(symbol)
        self.working_orders = 0
        self.working_qty = 0
        """Signed quantity of the working orders."""
        self.working_value = _ZERO
        """Signed value of the working orders, each at its own price."""
        self.value = _ZERO
        """Projected value (position plus working), as counted in the engine's totals."""

    def projected(self) -> Decimal:
        last = self.position.last_price
        if last is None:
            return self.working_value
        return (self.position.quantity + self.working_qty) * last


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

    `positions` is live state, exposed for reading: mutate it only through `fill`.
    """

    def __init__(self, limits: RiskLimits = RiskLimits()) -> None:  # frozen, so one shared default is safe
        self.limits = limits
        self.positions: dict[str, Position] = {}
        self._exposures: dict[str, _SymbolExposure] = {}
        self._orders: dict[str, _Order] = {}
        self._net = _ZERO
        self._gross = _ZERO
        self._working_notional = _ZERO
        self._executed_volume = _ZERO

    def set_limits(self, limits: RiskLimits) -> None:
        """Replace the limits; they apply from the next check (working orders stay accepted)."""
        if not isinstance(limits, RiskLimits):
            raise TypeError(f"expected RiskLimits, got {type(limits).__name__}")
        self.limits = limits

    def check(self, *, symbol: str, side: str, quantity: int, price: Decimal) -> list[ViolationDetail]:
        """Every limit this order would breach, in a fixed order; empty if it may go.

        With the kill switch on, only that is reported. Reading only: reserve separately
        (with no await in between) or use `check_and_reserve`.
        """
        sign = validate_order(side, quantity, price)
        limits = self.limits
        if limits.kill_switch_enabled:
            return [_KILL_SWITCH]
        signed = sign * quantity
        exposure = self._exposures.get(symbol)
        if exposure is None:
            old = _ZERO
            new = signed * price
        else:
            old = exposure.value
            last = exposure.position.last_price
            if last is None:
                new = exposure.working_value + signed * price
            else:
                new = (exposure.position.quantity + exposure.working_qty + signed) * last

        violations: list[ViolationDetail] = []
        size = abs(new)
        if size > limits.max_position_size:
            short = " short" if new < 0 else ""
            violations.append(
                _breach(
                    Violation.POSITION_LIMIT,
                    f"projected {symbol}{short} position",
                    size,
                    "max_position_size",
                    limits.max_position_size,
                )
            )
        volume = self._executed_volume + self._working_notional + quantity * price
        if volume > limits.max_daily_volume:
            violations.append(
                _breach(
                    Violation.DAILY_VOLUME_LIMIT,
                    "projected daily volume",
                    volume,
                    "max_daily_volume",
                    limits.max_daily_volume,
                )
            )
        net = self._net - old + new
        if abs(net) > limits.max_net_exposure:
            short = " short" if net < 0 else ""
            violations.append(
                _breach(
                    Violation.NET_EXPOSURE_LIMIT,
                    f"projected net{short} exposure",
                    abs(net),
                    "max_net_exposure",
                    limits.max_net_exposure,
                )
            )
        gross = self._gross - abs(old) + size
        if gross > limits.max_gross_exposure:
            violations.append(
                _breach(
                    Violation.GROSS_EXPOSURE_LIMIT,
                    "projected gross exposure",
                    gross,
                    "max_gross_exposure",
                    limits.max_gross_exposure,
                )
            )
        return violations

    def reserve(self, order_id: str, *, symbol: str, side: str, quantity: int, price: Decimal) -> None:
        """Count an accepted order as working: from now on every check sees it."""
        sign = validate_order(side, quantity, price)
        if order_id in self._orders:
            raise ValueError(f"order {order_id!r} is already reserved")
        exposure = self._exposures.get(symbol)
        if exposure is None:
            exposure = self._exposures[symbol] = _SymbolExposure(symbol)
        self._orders[order_id] = _Order(exposure, side, sign, quantity, price)
        exposure.working_orders += 1
        exposure.working_qty += sign * quantity
        exposure.working_value += sign * quantity * price
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

    def release(self, order_id: str) -> None:
        """The order was rejected downstream or cancelled: stop counting what is left of it."""
        order = self._orders.get(order_id)
        if order is None:
            return
        exposure = order.exposure
        self._unreserve(order_id, order, order.remaining)
        self._revalue(exposure)
        if exposure.working_orders == 0 and exposure.position.last_price is None:
            # Never executed and nothing working: its value is exactly 0 again; forget it.
            del self._exposures[exposure.position.symbol]

    def fill(self, order_id: str, *, quantity: int, price: Decimal) -> Decimal:
        """The order executed `quantity` at `price`: move it from working to the position.

        Returns the realized P&L of the fill. `KeyError` for an unknown order; `ValueError`
        (state untouched) for a bad quantity or price, or more than the order has left.
        """
        order = self._orders.get(order_id)
        if order is None:
            raise KeyError(order_id)
        validate_order(order.side, quantity, price)
        if quantity > order.remaining:
            raise ValueError(
                f"fill of {quantity} exceeds the {order.remaining} left on order {order_id!r}"
            )
        exposure = order.exposure
        realized = exposure.position.apply_fill(order.side, quantity, price)
        self._unreserve(order_id, order, quantity)
        self.positions.setdefault(exposure.position.symbol, exposure.position)
        self._executed_volume += quantity * price
        self._revalue(exposure)
        return realized

    def reset_daily_volume(self) -> Decimal:
        """Start a new trading day: executed volume back to 0 (the previous value is returned).

        Working orders stay reserved and keep counting toward the new day's volume.
        """
        previous = self._executed_volume
        self._executed_volume = _ZERO
        return previous

    def metrics(self) -> RiskMetrics:
        """The current firm-wide figures (walks the positions: not for the per-order path)."""
        open_positions = [p for p in self.positions.values() if p.quantity != 0]
        return RiskMetrics(
            net_exposure=self._net,
            gross_exposure=self._gross,
            daily_volume=self._executed_volume + self._working_notional,
            executed_volume=self._executed_volume,
            working_exposure=self._working_notional,
            total_positions=len(open_positions),
            largest_position=max((abs(p.market_value) for p in open_positions), default=_ZERO),
            kill_switch_active=self.limits.kill_switch_enabled,
        )

    def positions_view(self) -> list[Position]:
        """Copies of the open positions, and of flat ones with realized P&L, by symbol."""
        return [
            replace(position)
            for symbol, position in sorted(self.positions.items())
            if position.quantity != 0 or position.realized_pnl != 0
        ]

    def _unreserve(self, order_id: str, order: _Order, quantity: int) -> None:
        """Stop counting `quantity` of a working order (the caller revalues its symbol)."""
        exposure = order.exposure
        exposure.working_qty -= order.sign * quantity
        exposure.working_value -= order.sign * quantity * order.price
        self._working_notional -= quantity * order.price
        order.remaining -= quantity
        if order.remaining == 0:
            del self._orders[order_id]
            exposure.working_orders -= 1

    def _revalue(self, exposure: _SymbolExposure) -> None:
        """Recompute one symbol's projected value and move the totals by the difference."""
        new = exposure.projected()
        old = exposure.value
        self._net += new - old
        self._gross += abs(new) - abs(old)
        exposure.value = new


def _breach(violation: Violation, what: str, projected: Decimal, name: str, limit: Decimal) -> ViolationDetail:
    message = f"{what} {_grouped(projected)} above {name} {_grouped_limit(limit)}"
    return ViolationDetail(violation, limit, projected, message)


def _grouped(value: Decimal) -> str:
    """Money for people: the wire form with thousands separators (1,505,000.00).

    Built on Decimal's own grouping (`,f`, exact digits, no exponent) because rejections are
    on the order path too; only a value with more than 8 decimals takes the rounding detour.
    """
    whole, _, fraction = f"{value:,f}".partition(".")
    if len(fraction) > 8:
        text = format_money(value)
        sign = "-" if text.startswith("-") else ""
        whole, _, fraction = text.removeprefix("-").partition(".")
        return f"{sign}{int(whole):,}.{fraction}"
    fraction = fraction.rstrip("0").ljust(2, "0")
    if fraction == "00" and whole in ("0", "-0"):
        return "0.00"
    return f"{whole}.{fraction}"


@lru_cache(maxsize=64)
def _grouped_limit(limit: Decimal) -> str:
    """Limits change rarely and recur in every rejection: format each once."""
    return _grouped(limit)
