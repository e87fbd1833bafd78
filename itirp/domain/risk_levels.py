"""Pre-trade risk at every level an order touches: firm, desk, account and trader.

Each level is a `RiskEngine` of its own: the same worst-direction arithmetic, the same running
totals, over the orders and positions of that level alone. An order is reserved, filled and
released in the four engines of its levels at once, so the desk's figures are the sum of its
accounts' and the firm's the sum of everything, and a check asks each of the four whether the
order fits. One synchronous call checks all four and reserves in all four (or none): the
single-writer core makes that atomic, as it was at one level.

A violation names its level and limit: `scope` "ACCOUNT:EQ-PROP", `limit_name`
"max_position_size", and a message that starts "ACCOUNT:EQ-PROP/max_position_size: ...".
Levels with no limit set still keep their figures (positions, P&L and exposure per account,
desk and trader). Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from itirp.domain.accounts import FIRM, Scope
from itirp.domain.positions import Position, validate_order
from itirp.domain.risk import NO_LIMITS, InstrumentLimits, RiskEngine, RiskLimits, RiskMetrics, ViolationDetail

__all__ = ["RiskLevels"]


class RiskLevels:
    """The engines of every level, by scope; the firm's is `firm`. One writer; no I/O."""

    def __init__(self, firm_limits: RiskLimits = RiskLimits()) -> None:  # noqa: B008 (frozen: one shared default is safe)
        self.firm = RiskEngine(firm_limits)
        self.engines: dict[Scope, RiskEngine] = {FIRM: self.firm}
        self._marks: dict[str, Decimal] = {}
        self._orders: dict[str, tuple[RiskEngine, ...]] = {}

    # ------------------------------------------------------------------ the firm's, as before

    @property
    def limits(self) -> RiskLimits:
        return self.firm.limits

    @property
    def positions(self) -> dict[str, Position]:
        return self.firm.positions

    def metrics(self) -> RiskMetrics:
        return self.firm.metrics()

    def positions_view(self) -> list[Position]:
        return self.firm.positions_view()

    # ------------------------------------------------------------------ levels

    def engine(self, scope: Scope) -> RiskEngine:
        """The engine of `scope`, created (no limits, every known mark) on first use."""
        engine = self.engines.get(scope)
        if engine is None:
            engine = self.engines[scope] = RiskEngine(NO_LIMITS)
            for symbol, price in self._marks.items():
                engine.set_mark(symbol, price)
        return engine

    def known(self, scope: Scope) -> RiskEngine | None:
        """The engine of `scope` if it has one (it has had limits or orders)."""
        return self.engines.get(scope)

    def set_limits(self, limits: RiskLimits, scope: Scope = FIRM) -> None:
        self.engine(scope).set_limits(limits)

    def set_instrument_limits(self, scope: Scope, symbol: str, overrides: InstrumentLimits | None) -> None:
        self.engine(scope).set_instrument_limits(symbol, overrides)

    def set_mark(self, symbol: str, price: Decimal) -> None:
        """The symbol's reference price, at every level."""
        self._marks[symbol] = price
        for engine in self.engines.values():
            engine.set_mark(symbol, price)

    # ------------------------------------------------------------------ the order path

    def check(
        self, *, symbol: str, side: str, quantity: int, price: Decimal, levels: tuple[Scope, ...] = (FIRM,)
    ) -> list[ViolationDetail]:
        """Every limit the order would breach at any of its levels, level by level (firm first);
        each named by its scope and limit. Reading only."""
        sign = validate_order(side, quantity, price)
        found: list[ViolationDetail] = []
        engines = self.engines
        for scope in levels:
            engine = engines.get(scope)
            if engine is None:
                continue  # a level never used has no limits and no figures to breach
            violations = engine.check_valid(symbol, sign, quantity, price)
            if violations:
                found.extend(_named(v, scope) for v in violations)
        return found

    def reserve(
        self,
        order_id: str,
        *,
        symbol: str,
        side: str,
        quantity: int,
        price: Decimal,
        levels: tuple[Scope, ...] = (FIRM,),
    ) -> None:
        """Count an approved order as working at each of its levels."""
        if order_id in self._orders:
            raise ValueError(f"order {order_id!r} is already reserved")
        sign = validate_order(side, quantity, price)
        engines = tuple(self.engine(scope) for scope in (levels if levels[0] == FIRM else (FIRM, *levels)))
        for engine in engines:
            engine.reserve_valid(order_id, symbol, side, sign, quantity, price)
        self._orders[order_id] = engines

    def release(self, order_id: str) -> None:
        for engine in self._orders.pop(order_id, ()):
            engine.release(order_id)

    def fill(self, order_id: str, *, quantity: int, price: Decimal) -> Decimal:
        """The fill at every level of the order; returns the realized P&L (the same at each)."""
        engines = self._orders.get(order_id)
        if engines is None:
            raise KeyError(order_id)
        realized = Decimal(0)
        for engine in engines:
            realized = engine.fill(order_id, quantity=quantity, price=price)
        if not engine.working(order_id):
            del self._orders[order_id]
        return realized

    def reset_daily_volume(self) -> Decimal:
        """A new trading day at every level; returns the firm's previous executed volume."""
        for engine in self.engines.values():
            if engine is not self.firm:
                engine.reset_daily_volume()
        return self.firm.reset_daily_volume()


def _named(violation: ViolationDetail, scope: Scope) -> ViolationDetail:
    name = f"{scope}/{violation.limit_name}" if violation.limit_name else str(scope)
    return replace(violation, scope=str(scope), message=f"{name}: {violation.message}")
