"""The read side of the order book: views of orders, best prices, depth, snapshots, sweep prices.

Part of `itirp.domain.book` (internal: `OrderBook` has `_BookViews` as its base; import the book
from there). Nothing here changes the book.
"""

from __future__ import annotations

from decimal import Decimal

from itirp.domain.book_levels import _KEY, _REM, _SEQ, _SIDE, _STP, _TIF, _TIF_NAMES, _USER, SideSnapshot, _Order, _Side
from itirp.domain.book_results import _EMPTY, _MARKET_LIMIT, BUY, DEFAULT_STP, SELL, InvalidOrder, OrderView


class _BookViews:
    """The methods of `OrderBook` that only read it; `OrderBook` holds the state declared here."""

    __slots__ = ()

    symbol: str
    tick_size: Decimal
    _bids: _Side
    _asks: _Side
    _orders: dict[str, _Order]
    _day: dict[str, None]  # resting DAY orders, in arrival order

    def day_orders(self) -> list[str]:
        """The resting DAY orders' ids, in arrival order (what `expire_day` would cancel)."""
        return list(self._day)

    def sweep_price(
        self, side: str, quantity: int, user_id: str | None = None, stp: str = DEFAULT_STP
    ) -> Decimal | None:
        """The worst price an incoming `side` order for `quantity` from `user_id` would reach taking
        the opposite side in matching order: the price of the last resting order it needs, or of
        the last one there is when the side holds less. Self-trade prevention counts as in
        matching: under CANCEL_RESTING the user's own orders are skipped (they would be cancelled),
        under CANCEL_INCOMING/CANCEL_BOTH the walk stops at the first of them. None when there is
        nothing it could trade with.

        What pre-trade risk prices a MARKET order at: no fill of it can be worse.
        """
        if side not in (BUY, SELL):
            raise InvalidOrder("side", f'must be "BUY" or "SELL" (got {side!r})')
        opp = self._asks if side == BUY else self._bids
        last, _ = opp.reach(_MARKET_LIMIT, quantity, user_id, stp)
        return None if last == _EMPTY else opp.sign * last * self.tick_size

    def __len__(self) -> int:
        """Resting orders."""
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def order(self, order_id: str) -> OrderView | None:
        order = self._orders.get(order_id)
        if order is None:
            return None
        side = order[_SIDE]
        price = side.sign * order[_KEY] * self.tick_size
        tif = _TIF_NAMES[order[_TIF]]
        return OrderView(order_id, order[_USER], side.name, price, order[_REM], tif, order[_STP], order[_SEQ])

    def best_bid(self) -> Decimal | None:
        best = self._bids.best
        return None if best == _EMPTY else -best * self.tick_size

    def best_ask(self) -> Decimal | None:
        best = self._asks.best
        return None if best == _EMPTY else best * self.tick_size

    def depth(self, levels: int = 10) -> tuple[list[tuple[Decimal, int]], list[tuple[Decimal, int]]]:
        """Up to `levels` aggregated `(price, quantity)` per side, best first: (bids, asks)."""
        if type(levels) is not int or levels < 0:
            raise ValueError(f"levels must be a whole number >= 0 (got {levels!r})")
        return self._bids.depth(levels, self.tick_size), self._asks.depth(levels, self.tick_size)

    def snapshot(self) -> tuple[SideSnapshot, SideSnapshot]:
        """(bids, asks), each `((price, ((order_id, remaining), ...)), ...)` best level first, FIFO order.

        Two books with equal snapshots hold the same orders in the same queues; for replay tests.
        """
        return self._bids.snapshot(self.tick_size), self._asks.snapshot(self.tick_size)

    def __repr__(self) -> str:
        return (
            f"OrderBook({self.symbol!r}, tick_size={self.tick_size}, orders={len(self._orders)},"
            f" bid={self.best_bid()}, ask={self.best_ask()})"
        )
