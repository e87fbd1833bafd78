"""A position in one symbol, kept by the average-cost method.

Average cost is what a trading desk reconciles against: one average entry price per open
position, P&L realized only on the part a fill closes, and a fill that crosses zero treated as a
close followed by a fresh open at the fill price. Quantities are signed (+ long, - short) so a
single formula covers both directions.

Valuation (market value, unrealized P&L) is at the symbol's mark, the reference price from the
market data feed, once there is one: a desk's own execution is not the market, and valuing at it
would let a 1-lot trade at 0.01 re-price the whole holding. Before the first mark the last
execution price is all there is, and it is used (these are reporting figures; the risk engine
values unmarked symbols more conservatively, see `itirp.domain.risk`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

__all__ = ["BUY", "SELL", "Position", "side_sign", "validate_order"]

BUY: Final = "BUY"
SELL: Final = "SELL"

_SIGNS: Final = {BUY: 1, SELL: -1}
_ZERO: Final = Decimal(0)


def side_sign(side: str) -> int:
    """+1 for "BUY", -1 for "SELL"; `ValueError` for anything else (sides are case-sensitive)."""
    sign = _SIGNS.get(side)
    if sign is None:
        raise ValueError(f'side must be "BUY" or "SELL" (got {side!r})')
    return sign


def validate_order(side: str, quantity: int, price: Decimal) -> int:
    """Validate one order or fill and return its side's sign; shared with the risk engine.

    `bool` is refused as a quantity and `float` as a price: both would silently compute.
    """
    sign = side_sign(side)
    if type(quantity) is not int or quantity <= 0:
        raise ValueError(f"quantity must be a positive whole number (got {quantity!r})")
    if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
        raise ValueError(f"price must be a positive Decimal (got {price!r})")
    return sign


@dataclass(slots=True)
class Position:
    """The holding in one symbol; mutated in place by `apply_fill`."""

    symbol: str
    quantity: int = 0
    """Signed: positive long, negative short, 0 flat."""
    average_price: Decimal = _ZERO
    """Average entry price of the open quantity; 0 when flat."""
    realized_pnl: Decimal = _ZERO
    last_price: Decimal | None = None
    """Price of the last execution in this symbol, None until the first one. Never a valuation
    price once the symbol has a mark."""
    mark: Decimal | None = None
    """The symbol's reference price from the market data feed (set by the risk engine), None
    until the first one. A fill never changes it."""

    def apply_fill(self, side: str, quantity: int, price: Decimal) -> Decimal:
        """Apply an execution of `quantity` (> 0) at `price` and return the P&L it realized."""
        sign = validate_order(side, quantity, price)
        held = self.quantity
        realized = _ZERO
        if held == 0 or (held > 0) == (sign > 0):
            # Opening or adding: the new average weights old and new lots by size.
            size = abs(held)
            if size == 0:
                self.average_price = price
            else:
                self.average_price = (size * self.average_price + quantity * price) / (size + quantity)
            self.quantity = held + sign * quantity
        else:
            # Reducing, closing or flipping: only the part up to the held size closes.
            closed = min(quantity, abs(held))
            direction = 1 if held > 0 else -1
            realized = closed * (price - self.average_price) * direction
            self.realized_pnl += realized
            self.quantity = held + sign * quantity
            if self.quantity == 0:
                self.average_price = _ZERO
            elif quantity > closed:
                # Flipped through zero: the remainder is a new position opened at this price.
                self.average_price = price
        self.last_price = price
        return realized

    @property
    def valuation_price(self) -> Decimal | None:
        """The price the position is valued at: the mark, else the last execution price."""
        return self.last_price if self.mark is None else self.mark

    @property
    def market_value(self) -> Decimal:
        """Signed value at the valuation price (negative for a short); 0 when flat or unpriced."""
        price = self.valuation_price
        if price is None or self.quantity == 0:
            return _ZERO
        return self.quantity * price

    @property
    def unrealized_pnl(self) -> Decimal:
        """P&L the open quantity would realize at the valuation price; 0 when flat or unpriced."""
        price = self.valuation_price
        if price is None or self.quantity == 0:
            return _ZERO
        return (price - self.average_price) * self.quantity
