"""The order book's storage: price levels, the two sides, and the resting-order record.

Part of `itirp.domain.book` (internal: only `book.py` uses it). Shape, chosen for the hot path
(a resting limit order, a cancel, a marketable order; measured in bench/bench_book.py):

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
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from decimal import Decimal
from itertools import islice
from typing import Any, Protocol

from sortedcontainers import SortedList

from itirp.domain.book_results import _EMPTY, CANCEL_RESTING, DAY, FOK, GTC, IOC

# A resting order is a list, the cheapest mutable record to build on the hot path; these name
# its slots. An order that dies while other entries are ahead of it in its deque (a cancel, an
# amend that moves it) is emptied: `not order` is then the "dead" test. Emptying it while it is
# in the cache releases its fields at once, and the test reads only the list's header, not its
# items: deep levels are cold by the time a compaction or a match walks them, and reading each
# entry's items there cost a cache miss or two per entry.
_REM, _ID, _USER, _KEY, _SIDE, _TIF, _STP, _SEQ = range(8)
_TIF_NAMES = (GTC, DAY, IOC, FOK)  # by the codes of `_TIFS`

_Order = list[Any]
"""A resting order: [remaining, order_id, user_id, key, side, tif code, stp, sequence], or [] once
dead. Mixed types in one list, hence `Any`: a class with slots would type it, at a cost per order."""


SideSnapshot = tuple[tuple[Decimal, tuple[tuple[str, int], ...]], ...]
"""One side of `OrderBook.snapshot()`: `((price, ((order_id, remaining), ...)), ...)`."""


class _SortedKeys(Protocol):
    """The part of `sortedcontainers.SortedList` (which has no type information) a side uses."""

    def __iter__(self) -> Iterator[int]: ...

    def add(self, value: int) -> None: ...

    def irange(self, minimum: int | None = None, maximum: int | None = None) -> Iterator[int]: ...


class _Level(deque[_Order]):
    """The FIFO of one price: resting orders, oldest first, and `qty`, the sum of the live ones.

    Cancelled orders stay in the deque, dead (emptied lists), until they reach the front
    (`dead` counts those behind it; past `book._COMPACT_AT` and half the deque they are compacted
    away). A level that empties stays in the book with `qty` 0 until a sweep: levels near the
    touch empty and refill all the time, and keeping them spares the sorted keys that churn.
    """

    __slots__ = ("dead", "qty")

    qty: int
    dead: int


_SWEEP_SLACK = 64
"""A side sweeps its empty levels when it holds more than twice its live ones plus this many."""
_SCAN = 4
"""When the best level empties, look this many ticks further before searching the sorted keys."""


class _Side:
    """One side: levels by key (asks +ticks, bids -ticks), the sorted keys and the cached best."""

    __slots__ = ("best", "keys", "levels", "name", "sign", "sweep_at")

    def __init__(self, name: str, sign: int) -> None:
        self.name = name
        self.sign = sign  # key = sign * ticks, and ticks = sign * key
        self.levels: dict[int, _Level] = {}
        self.keys: _SortedKeys = SortedList()  # every key in `levels`, empty levels included
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

    def live_keys(self) -> Iterator[int]:
        """Keys of the levels with quantity, best first."""
        levels = self.levels
        return (key for key in self.keys if levels[key].qty)

    def reach(self, limit_key: int, quantity: int, user_id: str | None, stp: str) -> tuple[int, int]:
        """Walk the side as matching would for an incoming `quantity` from `user_id`, changing nothing:
        (the key of the last resting order it would trade with, or _EMPTY; what it would leave
        unfilled). The user's own orders count for nothing under CANCEL_RESTING (they would be
        cancelled and skipped); under CANCEL_INCOMING/CANCEL_BOTH the walk stops at the first of
        them, as matching would. FOK asks whether it fills (nothing left); `sweep_price` where
        it ends."""
        levels = self.levels
        last = _EMPTY
        for key in self.keys.irange(maximum=limit_key):
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

    def depth(self, count: int, tick_size: Decimal) -> list[tuple[Decimal, int]]:
        """Up to `count` aggregated `(price, quantity)`, best first."""
        sign, levels = self.sign, self.levels
        return [(sign * key * tick_size, levels[key].qty) for key in islice(self.live_keys(), count)]

    def snapshot(self, tick_size: Decimal) -> SideSnapshot:
        """`((price, ((order_id, remaining), ...)), ...)`, best level first, each in FIFO order."""
        sign, levels = self.sign, self.levels
        return tuple(
            (sign * key * tick_size, tuple((o[_ID], o[_REM]) for o in levels[key] if o)) for key in self.live_keys()
        )
