"""The order book's vocabulary: its constants, errors, tick conversion and result types.

Part of `itirp.domain.book`, which re-exports everything here: import from there. The results
are tuples whose properties turn integer ticks into `Decimal` only when read (see the comment
above `SubmitResult`); the book that builds them is in `book.py`, the rules in its docstring.
"""

from __future__ import annotations

from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

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


class SubmitResult(tuple[Any, ...]):
    """What `submit` did: fills, self-trade cancellations, the incoming order's fate, level changes.

    Quantities add up: `filled_quantity + resting_quantity + cancelled_quantity` is the quantity
    submitted. A KILLED order (FOK) has `cancelled_quantity` equal to all of it and nothing else.
    """

    __slots__ = ()
    _name = "SubmitResult"

    if TYPE_CHECKING:  # what the `itemgetter` properties below read (a checker cannot see through them)
        order_id: str
        user_id: str
        side: str
        status: str
        reason: str
        filled_quantity: int
        resting_quantity: int
        cancelled_quantity: int
    else:  # C-level getters: reading a field costs no Python call
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
        return self.status == RESTING

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

    if not TYPE_CHECKING:  # constants of the class, and one getter; `SubmitResult` declares their types
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

    if TYPE_CHECKING:
        priority_kept: bool
    else:
        priority_kept = property(itemgetter(12), doc="True when the order kept its place in the queue.")

    def _extra_repr(self) -> str:
        return f", priority_kept={self.priority_kept}"


class CancelResult(tuple[Any, ...]):
    """A cancelled order: what was left of it and its level's new aggregate quantity.

    Layout: (order_id, user_id, side, ticks, quantity, level quantity, tick size).
    """

    __slots__ = ()

    if TYPE_CHECKING:
        order_id: str
        user_id: str
        side: str
        quantity: int
    else:
        order_id = property(itemgetter(0))
        user_id = property(itemgetter(1))
        side = property(itemgetter(2))
        quantity = property(itemgetter(4), doc="The open quantity that was cancelled.")

    @property
    def price(self) -> Decimal:
        ticks: int = self[3]
        tick_size: Decimal = self[6]
        return ticks * tick_size

    @property
    def level_change(self) -> LevelChange:
        return LevelChange(self.side, self.price, self[5])

    def __repr__(self) -> str:
        return (
            f"CancelResult(order_id={self.order_id!r}, user_id={self.user_id!r}, side={self.side},"
            f" price={self.price}, quantity={self.quantity}, level_change={self.level_change})"
        )
