"""A limit order book for one symbol: price-time priority, integer ticks inside, exact decimals outside.

Prices cross the edge as `Decimal` and become integer ticks at once (`price_to_ticks` refuses a
price off the tick grid rather than rounding it: a rounded price is an order the trader did not
send). Inside, everything is `int`, so matching never does decimal arithmetic; prices turn back
into `Decimal` only when a result is read.

Shape, chosen for the hot path (a resting limit order, a cancel, a marketable order; measured in
bench/bench_book.py):

* Each side maps a *key* to a level. Keys are signed ticks, +ticks for asks and -ticks for bids,
  so on both sides the best level has the smallest key and "the opposite best crosses my limit"
  is `best_key <= limit_key`: one matching loop serves buyers and sellers. The best key is
  cached; all keys are also in a `SortedList` for depth and for finding the next best level.
* A level is a FIFO (`deque`) of resting orders plus its aggregate quantity, so depth is a read,
  not a sum. Cancelling marks the order dead (empties its record) instead of searching the deque;
  dead entries are skipped when they reach the front and compacted if a level collects many.
* A level that empties stays, with quantity 0, until a side holds about twice as many levels as
  it has live ones: levels near the touch empty and refill all the time, and keeping them spares
  the `SortedList` an insert and a removal each time.
* An index `order_id -> resting order` makes cancel and amend O(1). A resting order is a small
  list (the cheapest mutable record to build), the results are tuples with named properties that
  turn ticks into `Decimal` only when read: on this path, object construction is the cost.

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

from collections import deque
from decimal import Decimal
from itertools import islice
from operator import itemgetter
from typing import NamedTuple

from sortedcontainers import SortedList

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

BUY = "BUY"
SELL = "SELL"
LIMIT = "LIMIT"
MARKET = "MARKET"
GTC = "GTC"
IOC = "IOC"
FOK = "FOK"
DAY = "DAY"
CANCEL_RESTING = "CANCEL_RESTING"
CANCEL_INCOMING = "CANCEL_INCOMING"
CANCEL_BOTH = "CANCEL_BOTH"
DEFAULT_STP = CANCEL_RESTING
"""The incoming order is the newer instruction; see the module docstring."""

# What became of the incoming order (`SubmitResult.status`).
RESTING = "RESTING"  # in the book with `resting_quantity` left (possibly after fills)
FILLED = "FILLED"  # completely filled
CANCELLED = "CANCELLED"  # the remainder was cancelled; `reason` says why
KILLED = "KILLED"  # FOK that could not fill completely: nothing happened

# Why a remainder was cancelled (`SubmitResult.reason`).
REASON_IOC = "IOC"
REASON_MARKET = "MARKET"  # a MARKET order ran out of opposite liquidity
REASON_FOK = "FOK"
REASON_SELF_TRADE = "SELF_TRADE"

_TIFS = {GTC: 0, DAY: 1, IOC: 2, FOK: 3}  # >= 2: never rests
_STP_MODES = frozenset({CANCEL_RESTING, CANCEL_INCOMING, CANCEL_BOTH})

_EMPTY = 1 << 62
"""The best key of an empty side: above every valid key, so nothing crosses it."""
_MAX_TICKS = _EMPTY - 1
"""Prices are refused at or above this many ticks (a 4.6e14 price at a 0.0001 tick)."""
_MARKET_LIMIT = _MAX_TICKS
"""A MARKET order's limit key: crosses every level."""



class InvalidOrder(ValueError):
    """A request the book refuses; `field` names the argument at fault."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.field = field_name
        self.problem = problem


class UnknownOrder(LookupError):
    """`amend` of an order that is not resting (never was, or already filled/cancelled/expired)."""

    def __init__(self, order_id: object) -> None:
        super().__init__(f"order {order_id!r} is not resting in the book")
        self.order_id = order_id


# --- prices at the edge -------------------------------------------------------------------------


def price_to_ticks(price: Decimal, tick_size: Decimal) -> int:
    """`price` as a whole number of ticks; `InvalidOrder` if it is not a positive multiple.

    Exact: the decimal is taken as the fraction it denotes, so "100.05" is 1000500 ticks of
    0.0001 and "100.00005" is refused, never rounded. A float is refused like everywhere else.
    """
    if not isinstance(price, Decimal):
        raise InvalidOrder("price", f"must be a Decimal (got {type(price).__name__})")
    num, den = tick_size.as_integer_ratio()
    return _ratio_to_ticks(price, num, den, tick_size)


def _ratio_to_ticks(price: Decimal, tick_num: int, tick_den: int, tick_size: Decimal) -> int:
    try:
        num, den = price.as_integer_ratio()
    except (ValueError, OverflowError):  # NaN, infinity
        raise InvalidOrder("price", f"must be a finite number (got {price})") from None
    ticks, off_grid = divmod(num * tick_den, den * tick_num)
    if off_grid:
        raise InvalidOrder("price", f"{price} is not a multiple of the tick size {tick_size}")
    if not 0 < ticks < _MAX_TICKS:
        raise InvalidOrder("price", f"must be positive and below {_MAX_TICKS} ticks (got {price})")
    return ticks


def ticks_to_price(ticks: int, tick_size: Decimal) -> Decimal:
    """The price of `ticks`, with the tick size's decimals ("100.0500" at a 0.0001 tick)."""
    return ticks * tick_size


# --- results -------------------------------------------------------------------------------------


class Fill(NamedTuple):
    """One trade: the incoming (taker) order against one resting (maker) order, at the maker's price."""

    taker_order_id: str
    maker_order_id: str
    price: Decimal
    quantity: int
    taker_user_id: str
    maker_user_id: str


class LevelChange(NamedTuple):
    """A price level's new aggregate quantity (0: the level is gone), for incremental market data."""

    side: str
    price: Decimal
    quantity: int


class SelfTradeCancel(NamedTuple):
    """A resting order cancelled by self-trade prevention, with the incoming order that caused it."""

    order_id: str
    user_id: str
    side: str
    price: Decimal
    quantity: int
    """What was left of it, now cancelled."""
    reason: str
    """The incoming order's STP mode: CANCEL_RESTING or CANCEL_BOTH."""
    incoming_order_id: str


class OrderView(NamedTuple):
    """A resting order as the book holds it."""

    order_id: str
    user_id: str
    side: str
    price: Decimal
    remaining_quantity: int
    time_in_force: str
    stp: str
    sequence: int


# The results are tuples (one call of the class builds one) holding ticks and plain tuples; the
# properties turn those into `Decimal` prices and NamedTuples when read, each read afresh (keep
# the list if you read it repeatedly). Building even this much is about a seventh of the cost of
# a call, so nothing more is built up front. Tuples also compare, which a replay test wants.

_SR_ORDER_ID, _SR_USER_ID, _SR_SIDE, _SR_STATUS, _SR_REASON = 0, 1, 2, 3, 4
_SR_FILLED, _SR_RESTING, _SR_CANCELLED, _SR_FILLS, _SR_STP, _SR_CHANGES, _SR_TICK = 5, 6, 7, 8, 9, 10, 11


class SubmitResult(tuple):
    """What `submit` did: fills, self-trade cancellations, the incoming order's fate, level changes.

    Quantities add up: `filled_quantity + resting_quantity + cancelled_quantity` is the quantity
    submitted. A KILLED order (FOK) has `cancelled_quantity` equal to all of it and nothing else.
    """

    __slots__ = ()
    _name = "SubmitResult"

    order_id = property(itemgetter(_SR_ORDER_ID))
    user_id = property(itemgetter(_SR_USER_ID))
    side = property(itemgetter(_SR_SIDE))
    status = property(itemgetter(_SR_STATUS), doc="RESTING, FILLED, CANCELLED or KILLED.")
    reason = property(itemgetter(_SR_REASON), doc='Why the remainder was cancelled ("" unless it was).')
    filled_quantity = property(itemgetter(_SR_FILLED))
    resting_quantity = property(itemgetter(_SR_RESTING))
    cancelled_quantity = property(itemgetter(_SR_CANCELLED))

    @property
    def fills(self) -> list[Fill]:
        """In execution order: best price first, then earliest order."""
        taker, user, tick = self[_SR_ORDER_ID], self[_SR_USER_ID], self[_SR_TICK]
        return [
            Fill(taker, maker, ticks * tick, qty, user, maker_user) for maker, maker_user, ticks, qty in self[_SR_FILLS]
        ]

    @property
    def self_trade_cancels(self) -> list[SelfTradeCancel]:
        """Resting orders cancelled by STP (the incoming order's own fate is in `status`/`reason`)."""
        return list(self[_SR_STP])

    @property
    def level_changes(self) -> list[LevelChange]:
        """Every level this call changed, once each, with its quantity afterwards."""
        tick = self[_SR_TICK]
        return [LevelChange(side, ticks * tick, qty) for side, ticks, qty in self[_SR_CHANGES]]

    @property
    def rests(self) -> bool:
        return self[_SR_STATUS] == RESTING

    def __repr__(self) -> str:
        return (
            f"{self._name}(order_id={self.order_id!r}, status={self.status}, reason={self.reason!r},"
            f" filled={self.filled_quantity}, resting={self.resting_quantity}, cancelled={self.cancelled_quantity},"
            f" fills={self.fills}, self_trade_cancels={self.self_trade_cancels},"
            f" level_changes={self.level_changes}{self._extra_repr()})"
        )

    def _extra_repr(self) -> str:
        return ""


class _Rested(SubmitResult):
    """A limit order that rested without matching, the common case, in a shorter tuple.

    Layout: (order_id, user_id, side, quantity, ticks, level quantity, tick size); the fields a
    resting order does not have are constants of the class. (So it does not compare equal to a
    general `SubmitResult` saying the same; the same calls always build the same class.)
    """

    __slots__ = ()

    status = RESTING
    reason = ""
    filled_quantity = 0
    cancelled_quantity = 0
    resting_quantity = property(itemgetter(3))
    rests = True

    @property
    def fills(self) -> list[Fill]:
        return []

    @property
    def self_trade_cancels(self) -> list[SelfTradeCancel]:
        return []

    @property
    def level_changes(self) -> list[LevelChange]:
        return [LevelChange(self[2], self[4] * self[6], self[5])]


class AmendResult(SubmitResult):
    """What `amend` did; as `SubmitResult`, the quantities referring to the amended open quantity."""

    __slots__ = ()
    _name = "AmendResult"

    priority_kept = property(itemgetter(12), doc="True when the order kept its place in the queue.")

    def _extra_repr(self) -> str:
        return f", priority_kept={self.priority_kept}"


class CancelResult(tuple):
    """A cancelled order: what was left of it and its level's new aggregate quantity."""

    __slots__ = ()

    order_id = property(itemgetter(0))
    user_id = property(itemgetter(1))
    side = property(itemgetter(2))
    quantity = property(itemgetter(4), doc="The open quantity that was cancelled.")

    @property
    def price(self) -> Decimal:
        return self[3] * self[6]

    @property
    def level_change(self) -> LevelChange:
        return LevelChange(self[2], self[3] * self[6], self[5])

    def __repr__(self) -> str:
        return (
            f"CancelResult(order_id={self.order_id!r}, user_id={self.user_id!r}, side={self.side},"
            f" price={self.price}, quantity={self.quantity}, level_change={self.level_change})"
        )


# --- the book ------------------------------------------------------------------------------------

# A resting order is a list, the cheapest mutable record to build on the hot path; these name
# its slots. An order that dies while other entries are ahead of it in its deque (a cancel, an
# amend that moves it) is emptied: `not order` is then the "dead" test. Emptying it while it is
# in the cache releases its fields at once, and the test reads only the list's header, not its
# items: deep levels are cold by the time a compaction or a match walks them, and reading each
# entry's items there cost a cache miss or two per entry.
_REM, _ID, _USER, _KEY, _SIDE, _TIF, _STP, _SEQ = range(8)
_TIF_NAMES = (GTC, DAY, IOC, FOK)  # by the codes of `_TIFS`


class _Level(deque):
    """The FIFO of one price: resting orders, oldest first, and `qty`, the sum of the live ones.

    Cancelled orders stay in the deque, dead (emptied lists), until they reach the front
    (`dead` counts those behind it; past `_COMPACT_AT` and half the deque they are compacted
    away). A level that empties stays in the book with `qty` 0 until a sweep: levels near the touch empty and refill
    all the time, and keeping them spares the sorted keys that churn.
    """

    __slots__ = ("qty", "dead")

    qty: int
    dead: int


_COMPACT_AT = 32
_SWEEP_SLACK = 64
"""A side sweeps its empty levels when it holds more than twice its live ones plus this many."""
_SCAN = 4
"""When the best level empties, look this many ticks further before searching the sorted keys."""
_TICK_CACHE_SIZE = 4096


class _Side:
    """One side: levels by key (asks +ticks, bids -ticks), the sorted keys and the cached best."""

    __slots__ = ("name", "sign", "levels", "keys", "best", "sweep_at")

    def __init__(self, name: str, sign: int) -> None:
        self.name = name
        self.sign = sign  # key = sign * ticks, and ticks = sign * key
        self.levels: dict[int, _Level] = {}
        self.keys = SortedList()  # every key in `levels`, empty levels included
        self.best = _EMPTY  # the smallest key with quantity, or _EMPTY
        self.sweep_at = _SWEEP_SLACK

    def new_level(self, key: int) -> _Level:
        levels = self.levels
        if len(levels) >= self.sweep_at:
            empty = [k for k, level in levels.items() if not level.qty]
            for k in empty:
                del levels[k]
            self.keys = SortedList(levels)
            self.sweep_at = 2 * len(levels) + _SWEEP_SLACK
        level = _Level()
        level.qty = 0
        level.dead = 0
        levels[key] = level
        self.keys.add(key)
        return level

    def after(self, key: int) -> int:
        """The best key once the level at `key` (the best) has emptied."""
        levels = self.levels
        for k in range(key + 1, key + 1 + _SCAN):
            level = levels.get(k)
            if level is not None and level.qty:
                return k
        for k in self.keys.irange(minimum=key + 1 + _SCAN):
            if levels[k].qty:
                return k
        return _EMPTY

    def live_keys(self):
        """Keys of the levels with quantity, best first."""
        levels = self.levels
        return (key for key in self.keys if levels[key].qty)


class OrderBook:
    """The book of one symbol. See the module docstring for the rules; every method is synchronous."""

    __slots__ = ("symbol", "tick_size", "_tick_num", "_tick_den", "_tick_cache", "_bids", "_asks", "_orders", "_day")

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
        self._orders: dict[str, list] = {}
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
        """
        limit_key = opp.sign * ticks if ticks else _MARKET_LIMIT
        if tif == 3 and self._reach(opp, limit_key, quantity, user_id, stp)[1] > 0:
            fields = (order_id, user_id, side, KILLED, REASON_FOK, 0, 0, quantity, (), (), (), self.tick_size)
            return SubmitResult(fields)

        orders = self._orders
        day = self._day
        levels = opp.levels
        sign = opp.sign
        name = opp.name
        fills: list = []  # (maker_id, maker_user, ticks, quantity)
        changes: list = []  # (side, ticks, level quantity)
        stp_cancels: list | tuple = ()
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
                    level.popleft()
                    level_qty -= maker_left
                    del orders[maker_id]
                    if maker_tif:
                        del day[maker_id]
                    if not stp_cancels:
                        stp_cancels = []
                    stp_cancels.append(
                        SelfTradeCancel(maker_id, user_id, name, price * self.tick_size, maker_left, stp, order_id)
                    )
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
            key = own.sign * ticks
            order = [remaining, order_id, user_id, key, own, tif, stp, sequence]
            orders[order_id] = order
            level = own.levels.get(key)
            if level is None:
                level = own.new_level(key)
            level.append(order)
            level_qty = level.qty = level.qty + remaining
            if key < own.best:
                own.best = key
            if tif:
                day[order_id] = None
            changes.append((side, ticks, level_qty))
            fields = (order_id, user_id, side, RESTING, "", filled, remaining, 0, fills, stp_cancels, changes, tick)
            return SubmitResult(fields)
        fields = (order_id, user_id, side, CANCELLED, reason, filled, 0, remaining, fills, stp_cancels, changes, tick)
        return SubmitResult(fields)

    def _reach(self, opp: _Side, limit_key: int, quantity: int, user_id: str | None, stp: str) -> tuple[int, int]:
        """Walk `opp` as matching would for an incoming `quantity` from `user_id`, changing nothing:
        (the key of the last resting order it would trade with, or _EMPTY; what it would leave
        unfilled). The user's own orders count for nothing under CANCEL_RESTING (they would be
        cancelled and skipped); under CANCEL_INCOMING/CANCEL_BOTH the walk stops at the first of
        them, as matching would. FOK asks whether it fills (nothing left); `sweep_price` where
        it ends."""
        levels = opp.levels
        last = _EMPTY
        for key in opp.keys.irange(maximum=limit_key):
            for order in levels[key]:
                if not order:  # dead
                    continue
                if order[_USER] == user_id:
                    if stp == CANCEL_RESTING:
                        continue
                    return last, quantity  # matching would stop here, the incoming order cancelled
                last = key
                quantity -= order[_REM]
                if quantity <= 0:
                    return last, 0
        return last, quantity

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
    def _bury(level: _Level, order: list) -> None:
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

    def _unlink(self, order: list, side: _Side, key: int, left: int) -> int:
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
        side = order[_SIDE]
        key = order[_KEY]
        old_ticks = side.sign * key
        ticks = old_ticks if price is None else self.price_to_ticks(price)
        left = order[_REM]
        new_quantity = left if quantity is None else quantity
        tick_size = self.tick_size
        side_name = side.name
        user_id = order[_USER]

        if ticks == old_ticks:
            level = side.levels[key]
            if new_quantity <= left:  # down (or unchanged): keeps its place
                order[_REM] = new_quantity
                level.qty -= left - new_quantity
                changes = ((side_name, ticks, level.qty),) if new_quantity != left else ()
                return AmendResult(
                    (order_id, user_id, side_name, RESTING, "", 0, new_quantity, 0, (), (), changes, tick_size, True)
                )
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
            changes = ((side_name, ticks, level.qty),)
            fields = (order_id, user_id, side_name, RESTING, "", 0, new_quantity, 0, (), (), changes, tick_size, False)
            return AmendResult(fields)

        # A new price: out of the old level, then in again as a new order with the same identity.
        del self._orders[order_id]
        tif, stp, sequence = order[_TIF], order[_STP], order[_SEQ]  # before `_unlink` may empty it
        level_qty = self._unlink(order, side, key, left)
        if tif:
            del self._day[order_id]
        opp = self._asks if side is self._bids else self._bids
        fields = self._execute(order_id, user_id, side_name, new_quantity, ticks, tif, stp, sequence, side, opp)
        changes = [(side_name, old_ticks, level_qty), *fields[_SR_CHANGES]]
        return AmendResult((*fields[:_SR_CHANGES], changes, tick_size, False))

    def expire_day(self) -> list[str]:
        """End of the trading day: cancel every resting DAY order; their ids, in arrival order.

        GTC orders stay. The caller publishes the expiries (and reads `depth` for market data).
        """
        expired = list(self._day)
        for order_id in expired:
            self.cancel(order_id)
        return expired

    # --- reading ---

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
        last, _ = self._reach(opp, _MARKET_LIMIT, quantity, user_id, stp)
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
        return self._depth(self._bids, levels), self._depth(self._asks, levels)

    def _depth(self, side: _Side, count: int) -> list[tuple[Decimal, int]]:
        tick_size, sign, levels = self.tick_size, side.sign, side.levels
        return [(sign * key * tick_size, levels[key].qty) for key in islice(side.live_keys(), count)]

    def snapshot(self) -> tuple[tuple, tuple]:
        """(bids, asks), each `((price, ((order_id, remaining), ...)), ...)` best level first, FIFO order.

        Two books with equal snapshots hold the same orders in the same queues; for replay tests.
        """
        return self._snapshot(self._bids), self._snapshot(self._asks)

    def _snapshot(self, side: _Side) -> tuple:
        tick_size, sign, levels = self.tick_size, side.sign, side.levels
        return tuple(
            (sign * key * tick_size, tuple((o[_ID], o[_REM]) for o in levels[key] if o))
            for key in side.live_keys()
        )

    def __repr__(self) -> str:
        return (
            f"OrderBook({self.symbol!r}, tick_size={self.tick_size}, orders={len(self._orders)},"
            f" bid={self.best_bid()}, ask={self.best_ask()})"
        )
