"""A limit order book for one symbol: price-time priority, integer ticks inside, exact decimals outside.

Prices cross the edge as `Decimal` and become integer ticks at once (`price_to_ticks` refuses a
price off the tick grid rather than rounding it: a rounded price is an order the trader did not
send). Inside, everything is `int`, so matching never does decimal arithmetic; prices turn back
into `Decimal` only when a result is read.

In four modules; import from this one. It holds the book's rules and the methods that change
it; `book_results` its vocabulary (sides, order types, statuses, errors, tick conversion, the
result types), all re-exported here; `book_levels` its storage (levels, sides, the resting-order
record) and why that is shaped as it is for the hot path (measured in bench/bench_book.py);
`book_views` the methods that only read it (`OrderBook`'s base class).

Pure and synchronous like the rest of the domain: no I/O, no clock, no randomness. The same
calls in the same order give the same book and the same results, so replaying the events that
produced the calls rebuilds an identical book (`snapshot()` makes that checkable). The book does
not emit events: it returns plain results and the caller (the trading core) turns them into
events and market data.

Rules a caller has to know:

* Self-trade prevention (STP) applies when an incoming order would trade with a resting order
  of the same `user_id`; the incoming order's `stp` mode decides. The default is
  `CANCEL_RESTING`: the incoming order is the user's latest instruction, the resting one is the
  older, possibly stale, intent, and cancelling it lets the new order go on trading with
  everybody else. `CANCEL_INCOMING` suits a user who prefers to keep queue position.
* FOK fills completely at once or does nothing at all: no fill, no STP cancellation, no level
  change. It executes exactly when the matching walk would fill it: the user's own resting orders
  count for nothing under `CANCEL_RESTING` (they would be cancelled and skipped), and under
  `CANCEL_INCOMING`/`CANCEL_BOTH` only what precedes the first own order counts (matching would
  stop there).
* A MARKET order takes no price (one given is refused as ambiguous: a price means a limit
  order) and never rests: whatever is left when the opposite side runs out is cancelled, whatever
  its time in force, except FOK, which keeps its all-or-nothing meaning.
* `amend` takes the new *open* quantity (what is left to fill), not a new original size.
  Lowering it at the same price keeps the order's place; raising it or changing the price sends
  the order to the back of its (new) level, and a new price that crosses matches like a new order.
* Order ids must be unique among resting orders; the book forgets an order once it is filled,
  cancelled or expired, so uniqueness over all time is the caller's business.
"""

from __future__ import annotations

from decimal import Decimal

from itirp.domain.book_levels import (
    _ID,
    _KEY,
    _REM,
    _SEQ,
    _SIDE,
    _STP,
    _TIF,
    _USER,
    _Level,
    _Order,
    _Side,
)
from itirp.domain.book_results import (
    _MARKET_LIMIT,
    _SR_CHANGES,
    _STP_MODES,
    _TIFS,
    BUY,
    CANCEL_BOTH,
    CANCEL_INCOMING,
    CANCEL_RESTING,
    CANCELLED,
    DAY,
    DEFAULT_STP,
    FILLED,
    FOK,
    GTC,
    IOC,
    KILLED,
    LIMIT,
    MARKET,
    REASON_FOK,
    REASON_IOC,
    REASON_MARKET,
    REASON_SELF_TRADE,
    RESTING,
    SELL,
    AmendResult,
    CancelResult,
    Fill,
    InvalidOrder,
    LevelChange,
    OrderView,
    SelfTradeCancel,
    SubmitResult,
    UnknownOrder,
    _ratio_to_ticks,
    _Rested,
    price_to_ticks,
    ticks_to_price,
)
from itirp.domain.book_views import _BookViews

__all__ = [
    "BUY",
    "CANCELLED",
    "CANCEL_BOTH",
    "CANCEL_INCOMING",
    "CANCEL_RESTING",
    "DAY",
    "DEFAULT_STP",
    "FILLED",
    "FOK",
    "GTC",
    "IOC",
    "KILLED",
    "LIMIT",
    "MARKET",
    "REASON_FOK",
    "REASON_IOC",
    "REASON_MARKET",
    "REASON_SELF_TRADE",
    "RESTING",
    "SELL",
    "AmendResult",
    "CancelResult",
    "Fill",
    "InvalidOrder",
    "LevelChange",
    "OrderBook",
    "OrderView",
    "SelfTradeCancel",
    "SubmitResult",
    "UnknownOrder",
    "price_to_ticks",
    "ticks_to_price",
]

_COMPACT_AT = 32
"""A level compacts its dead entries once it holds this many and they are half of it (here, not in
`book_levels`, so that a test can lower it for the whole book)."""
_TICK_CACHE_SIZE = 4096


class OrderBook(_BookViews):
    """The book of one symbol. See the module docstring for the rules; every method is synchronous.

    The methods that only read it (depth, snapshot, views, prices) are in its base, `_BookViews`.
    """

    __slots__ = ("_asks", "_bids", "_day", "_orders", "_tick_cache", "_tick_den", "_tick_num", "symbol", "tick_size")

    def __init__(self, symbol: str, tick_size: Decimal = Decimal("0.0001")) -> None:
        if not isinstance(tick_size, Decimal) or not tick_size.is_finite() or tick_size <= 0:
            raise ValueError(f"tick_size must be a positive Decimal (got {tick_size!r})")
        self.symbol = symbol
        self.tick_size = tick_size
        self._tick_num, self._tick_den = tick_size.as_integer_ratio()
        # str(price) -> ticks. `str` of a Decimal is exact and cheap (a fresh Decimal's hash is
        # not), so a price seen before converts with one dict lookup. Only valid prices get in.
        self._tick_cache: dict[str, int] = {}
        self._bids = _Side(BUY, -1)
        self._asks = _Side(SELL, 1)
        self._orders: dict[str, _Order] = {}
        self._day: dict[str, None] = {}  # resting DAY orders, in arrival order

    # --- conversions ---

    def price_to_ticks(self, price: Decimal) -> int:
        """`price` in ticks of this book; `InvalidOrder` if off the grid, not positive or not a Decimal."""
        if not isinstance(price, Decimal):
            raise InvalidOrder("price", f"must be a Decimal (got {type(price).__name__})")
        return _ratio_to_ticks(price, self._tick_num, self._tick_den, self.tick_size)

    def ticks_to_price(self, ticks: int) -> Decimal:
        return ticks * self.tick_size

    def _learn(self, price: Decimal | None) -> int:
        """`price_to_ticks` for a price not in the cache, which it then joins."""
        if price is None:
            raise InvalidOrder("price", "a LIMIT order needs a price")
        ticks = self.price_to_ticks(price)
        if type(price) is Decimal:
            cache = self._tick_cache
            if len(cache) >= _TICK_CACHE_SIZE:
                cache.clear()
            cache[str(price)] = ticks
        return ticks

    # --- orders ---

    def submit(
        self,
        order_id: str,
        user_id: str,
        side: str,
        quantity: int,
        price: Decimal | None = None,
        order_type: str = LIMIT,
        time_in_force: str = GTC,
        stp: str = DEFAULT_STP,
        sequence: int = 0,
    ) -> SubmitResult:
        """Match an incoming order, then rest, cancel or kill what is left; see the module docstring.

        Raises `InvalidOrder`, and changes nothing, for a bad argument or an order id that is
        already resting.

        Pass `order_type`, `time_in_force`, `stp` and `sequence` by keyword. They are not
        keyword-only on purpose: CPython 3.11 fills missing keyword-only arguments with one dict
        lookup each, on every call, which cost this method about 6% of its throughput.
        """
        if type(quantity) is not int or quantity <= 0:
            raise InvalidOrder("quantity", f"must be a positive whole number (got {quantity!r})")
        if side == BUY:
            own = self._bids
            opp = self._asks
        elif side == SELL:
            own = self._asks
            opp = self._bids
        else:
            raise InvalidOrder("side", f'must be "BUY" or "SELL" (got {side!r})')
        tif: int | None
        if time_in_force is GTC:  # the default object: skip the lookup
            tif = 0
        else:
            tif = _TIFS.get(time_in_force)
            if tif is None:
                raise InvalidOrder("time_in_force", f"must be GTC, IOC, FOK or DAY (got {time_in_force!r})")
        if stp is not DEFAULT_STP and stp not in _STP_MODES:
            raise InvalidOrder("stp", f"must be CANCEL_RESTING, CANCEL_INCOMING or CANCEL_BOTH (got {stp!r})")

        if order_type is LIMIT or order_type == LIMIT:
            if type(price) is Decimal:
                ticks = self._tick_cache.get(str(price))
                if ticks is None:
                    ticks = self._learn(price)
            else:
                ticks = self._learn(price)
            key = own.sign * ticks
            if tif < 2 and opp.best > -key:  # the opposite side's keys have the other sign
                # The common case: a limit order that does not cross rests, no matching at all.
                orders = self._orders
                if order_id in orders:
                    raise InvalidOrder("order_id", f"{order_id!r} is already resting in the book")
                order = orders[order_id] = [quantity, order_id, user_id, key, own, tif, stp, sequence]
                # Subscripting beats `.get` (no method call); the miss is rare, levels stay when they empty.
                try:
                    level = own.levels[key]
                except KeyError:
                    level = own.new_level(key)
                level.append(order)
                level_qty = level.qty = level.qty + quantity
                if key < own.best:
                    own.best = key
                if tif:
                    self._day[order_id] = None
                return _Rested((order_id, user_id, side, quantity, ticks, level_qty, self.tick_size))
        elif order_type == MARKET:
            if price is not None:
                raise InvalidOrder("price", "a MARKET order takes no price (send a LIMIT order to cap it)")
            ticks = 0
        else:
            raise InvalidOrder("order_type", f'must be "LIMIT" or "MARKET" (got {order_type!r})')
        if order_id in self._orders:
            raise InvalidOrder("order_id", f"{order_id!r} is already resting in the book")
        return self._execute(order_id, user_id, side, quantity, ticks, tif, stp, sequence, own, opp)

    # long function: the matching hot loop; a split costs ~6% on marketable orders (bench/bench_book.py)
    def _execute(
        self,
        order_id: str,
        user_id: str,
        side: str,
        quantity: int,
        ticks: int,
        tif: int,
        stp: str,
        sequence: int,
        own: _Side,
        opp: _Side,
    ) -> SubmitResult:
        """Everything but a limit order that rests at once: match, then rest or cancel what is left.

        Takes liquidity from `opp` while its best key is <= the limit key. Builds the
        `SubmitResult` itself (`amend` takes its fields apart): one tuple less than returning the
        fields for the caller to wrap. `ticks` is 0 for a MARKET order.

        Longer than our 80 lines on purpose: the matching loop is the hot path of every marketable
        order, and it keeps its state (what is left, the level's quantity, the best key) in locals.
        Moving the walk of one level into a method, which hands that state back per level, made
        marketable orders 3-6% slower (bench/bench_book.py's marketable p50; the commit that added
        this note has the figures). The rare paths (self-trade prevention, resting what is left)
        are methods.
        """
        limit_key = opp.sign * ticks if ticks else _MARKET_LIMIT
        if tif == 3 and opp.reach(limit_key, quantity, user_id, stp)[1] > 0:
            killed = (order_id, user_id, side, KILLED, REASON_FOK, 0, 0, quantity, (), (), (), self.tick_size)
            return SubmitResult(killed)

        orders = self._orders
        day = self._day
        levels = opp.levels
        sign = opp.sign
        name = opp.name
        fills: list[tuple[str, str, int, int]] = []  # (maker_id, maker_user, ticks, quantity)
        changes: list[tuple[str, int, int]] = []  # (side, ticks, level quantity)
        stp_cancels: list[SelfTradeCancel] | tuple[()] = ()
        remaining = quantity
        stopped = False
        best = opp.best
        # The innermost loop unpacks each live maker at once (one instruction, where reading its
        # slots one by one took two each); `maker_tif` nonzero means DAY.
        while best <= limit_key:
            level = levels[best]
            price = sign * best
            level_qty = before = level.qty
            while True:
                maker = level[0]
                if not maker:  # dead (emptied): cancelled or moved
                    level.popleft()
                    level.dead -= 1
                    continue
                maker_left, maker_id, maker_user, _, _, maker_tif, _, _ = maker
                if maker_user == user_id:
                    if stp == CANCEL_INCOMING:
                        stopped = True
                        break
                    # CANCEL_RESTING or CANCEL_BOTH: the resting order goes
                    stp_cancels = self._cancel_own(stp_cancels, level, name, price, stp, order_id)
                    level_qty -= maker_left
                    if stp == CANCEL_BOTH:
                        stopped = True
                        break
                    if not level_qty:
                        break
                    continue
                if maker_left > remaining:  # the maker stays, partly filled
                    maker[0] = maker_left - remaining
                    level_qty -= remaining
                    fills.append((maker_id, maker_user, price, remaining))
                    remaining = 0
                    break
                level.popleft()  # filled: out of the level and the index, unreachable, no need to mark it
                del orders[maker_id]
                if maker_tif:
                    del day[maker_id]
                fills.append((maker_id, maker_user, price, maker_left))
                remaining -= maker_left
                level_qty -= maker_left
                if not remaining or not level_qty:
                    break
            if level_qty != before:
                level.qty = level_qty
                changes.append((name, price, level_qty))
                if not level_qty:
                    level.clear()
                    level.dead = 0
                    following = levels.get(best + 1)  # most often the next tick has orders
                    if following is not None and following.qty:
                        best = opp.best = best + 1
                    else:
                        best = opp.best = opp.after(best)
            if stopped or not remaining:
                break

        filled = quantity - remaining
        tick = self.tick_size
        if not remaining:
            return SubmitResult((order_id, user_id, side, FILLED, "", filled, 0, 0, fills, stp_cancels, changes, tick))
        if stopped:
            reason = REASON_SELF_TRADE
        elif not ticks:
            reason = REASON_MARKET
        elif tif >= 2:
            reason = REASON_IOC
        else:
            order = [remaining, order_id, user_id, own.sign * ticks, own, tif, stp, sequence]
            changes.append((side, ticks, self._rest(own, order)))
            rested = (order_id, user_id, side, RESTING, "", filled, remaining, 0, fills, stp_cancels, changes, tick)
            return SubmitResult(rested)
        cut = (order_id, user_id, side, CANCELLED, reason, filled, 0, remaining, fills, stp_cancels, changes, tick)
        return SubmitResult(cut)

    def _cancel_own(
        self,
        cancels: list[SelfTradeCancel] | tuple[()],
        level: _Level,
        side: str,
        ticks: int,
        stp: str,
        incoming_order_id: str,
    ) -> list[SelfTradeCancel]:
        """Self-trade prevention cancels the live order at the front of `level` (the caller lowers
        the level's quantity): out of the level, the index and the DAY orders. `cancels` with it."""
        left, order_id, user_id, _, _, tif, _, _ = level.popleft()
        del self._orders[order_id]
        if tif:
            del self._day[order_id]
        cancelled = SelfTradeCancel(order_id, user_id, side, ticks * self.tick_size, left, stp, incoming_order_id)
        if isinstance(cancels, list):
            cancels.append(cancelled)
            return cancels
        return [cancelled]

    def _rest(self, side: _Side, order: _Order) -> int:
        """Put a new `order` (what is left of an incoming one) at the back of its level; the level's new quantity."""
        order_id: str = order[_ID]
        key: int = order[_KEY]
        quantity: int = order[_REM]
        self._orders[order_id] = order
        level = side.levels.get(key)
        if level is None:
            level = side.new_level(key)
        level.append(order)
        level_qty = level.qty = level.qty + quantity
        if key < side.best:
            side.best = key
        if order[_TIF]:
            self._day[order_id] = None
        return level_qty

    def cancel(self, order_id: str) -> CancelResult | None:
        """Cancel a resting order; None if it is not resting (unknown, filled, already cancelled).

        None rather than an error because the race is normal: a cancel may arrive just after the
        fill that finished the order.
        """
        order = self._orders.pop(order_id, None)
        if order is None:
            return None
        # `_unlink` and `_bury`, inlined: cancels are a quarter of a typical flow. (Unpacking the
        # record is one instruction; reading five slots one by one was ten.)
        left, _, user_id, key, side, tif, _, _ = order
        level = side.levels[key]
        level_qty = level.qty = level.qty - left
        if not level_qty:
            level.clear()
            level.dead = 0
            if key == side.best:
                side.best = side.after(key)
        elif level[0] is order:
            level.popleft()
        else:
            order.clear()
            dead = level.dead = level.dead + 1
            if dead >= _COMPACT_AT and dead * 2 >= len(level):
                self._compact(level)
        if tif:
            del self._day[order_id]
        return CancelResult((order_id, user_id, side.name, side.sign * key, left, level_qty, self.tick_size))

    @staticmethod
    def _bury(level: _Level, order: _Order) -> None:
        """`order`, behind the front of `level`, dies there: empty it, count it, compact when they pile up."""
        order.clear()
        dead = level.dead = level.dead + 1
        if dead >= _COMPACT_AT and dead * 2 >= len(level):
            OrderBook._compact(level)

    @staticmethod
    def _compact(level: _Level) -> None:
        live = list(filter(None, level))  # the live entries: dead ones are empty lists
        level.clear()
        level.extend(live)
        level.dead = 0

    def _unlink(self, order: _Order, side: _Side, key: int, left: int) -> int:
        """Take a live order out of its level (not out of the index); the level's new quantity.

        The order may be emptied (when it dies behind the front): read what you need first.
        """
        level = side.levels[key]
        level_qty = level.qty = level.qty - left
        if not level_qty:
            level.clear()
            level.dead = 0
            if key == side.best:
                side.best = side.after(key)
        elif level[0] is order:
            level.popleft()
        else:
            self._bury(level, order)
        return level_qty

    def amend(self, order_id: str, *, quantity: int | None = None, price: Decimal | None = None) -> AmendResult:
        """Change a resting order's open quantity and/or price.

        Lower quantity at the same price: in place, the order keeps its priority. Higher quantity
        or a new price: the order goes to the back of its level, and a new price that crosses
        matches like a new order with the order's own time in force and STP mode. Raises
        `UnknownOrder` if the order is not resting, `InvalidOrder` for a bad value (nothing changes).
        """
        order = self._orders.get(order_id)
        if order is None:
            raise UnknownOrder(order_id)
        if quantity is None and price is None:
            raise InvalidOrder("amend", "give a new quantity, a new price or both")
        if quantity is not None and (type(quantity) is not int or quantity <= 0):
            raise InvalidOrder("quantity", f"must be a positive whole number (got {quantity!r}); cancel to remove")
        side: _Side = order[_SIDE]
        key: int = order[_KEY]
        left: int = order[_REM]
        user_id: str = order[_USER]
        old_ticks = side.sign * key
        ticks = old_ticks if price is None else self.price_to_ticks(price)
        new_quantity = left if quantity is None else quantity
        tick_size = self.tick_size
        side_name = side.name

        if ticks == old_ticks:
            level = side.levels[key]
            if new_quantity <= left:  # down (or unchanged): keeps its place
                order[_REM] = new_quantity
                level.qty -= left - new_quantity
                change = ((side_name, ticks, level.qty),) if new_quantity != left else ()
                kept = (order_id, user_id, side_name, RESTING, "", 0, new_quantity, 0, (), (), change, tick_size, True)
                return AmendResult(kept)
            # up: to the back of the same level as a fresh entry; the old one is left dead
            moved = order.copy()
            moved[_REM] = new_quantity
            if level[0] is order:
                level.popleft()
            else:
                self._bury(level, order)
            level.append(moved)
            level.qty += new_quantity - left
            self._orders[order_id] = moved
            change = ((side_name, ticks, level.qty),)
            back = (order_id, user_id, side_name, RESTING, "", 0, new_quantity, 0, (), (), change, tick_size, False)
            return AmendResult(back)

        # A new price: out of the old level, then in again as a new order with the same identity.
        del self._orders[order_id]
        tif, stp, sequence = order[_TIF], order[_STP], order[_SEQ]  # before `_unlink` may empty it
        level_qty = self._unlink(order, side, key, left)
        if tif:
            del self._day[order_id]
        opp = self._asks if side is self._bids else self._bids
        executed = self._execute(order_id, user_id, side_name, new_quantity, ticks, tif, stp, sequence, side, opp)
        changes = [(side_name, old_ticks, level_qty), *executed[_SR_CHANGES]]
        return AmendResult((*executed[:_SR_CHANGES], changes, tick_size, False))

    def expire_day(self) -> list[str]:
        """End of the trading day: cancel every resting DAY order; their ids, in arrival order.

        GTC orders stay. The caller publishes the expiries (and reads `depth` for market data).
        """
        expired = list(self._day)
        for order_id in expired:
            self.cancel(order_id)
        return expired
