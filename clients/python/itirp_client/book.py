"""A local copy of one symbol's order book, kept up to date from `StreamOrderBook`.

`AsyncClient.order_book_stream()` yields an `OrderBook` after the first snapshot and after every
update it applies: an immutable value (safe to keep, compare or hand to another thread) with the
levels best first, the book's `sequence`, and what a terminal needs to draw a ladder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

from google.protobuf.timestamp_pb2 import Timestamp

from itirp.v1 import common_pb2, market_data_pb2

__all__ = ["Level", "OrderBook"]


class Level(NamedTuple):
    """The quantity resting at one price. `price` is the server's decimal string."""

    price: str
    quantity: int

    @property
    def value(self) -> Decimal:
        return Decimal(self.price)


def _timestamp(ts: Timestamp) -> datetime | None:
    seconds, nanos = ts.seconds, ts.nanos
    if not seconds and not nanos:
        return None
    return datetime.fromtimestamp(seconds + nanos / 1e9, UTC)


@dataclass(frozen=True, slots=True)
class OrderBook:
    """One symbol's book as the server showed it at `sequence` (the top `depth` levels per side)."""

    symbol: str
    depth: int
    bids: tuple[Level, ...]
    """Best (highest) first."""
    asks: tuple[Level, ...]
    """Best (lowest) first."""
    sequence: int
    """The book's version: it grows with every change to the symbol's book."""
    event_sequence: int
    """The event log sequence of the last event reflected."""
    timestamp: datetime | None
    """When that event happened (None: the book never changed)."""
    snapshot: bool = True
    """True when this state is a snapshot from the server (the first one, one the server sent to
    replace the book, or the one after a gap); False when it is a snapshot plus updates."""
    update: market_data_pb2.OrderBookUpdate | None = None
    """The update that produced this state (None for a snapshot): its `levels` are what changed."""
    resubscriptions: int = 0
    """How many times the stream had to resubscribe so far (a gap, or a dropped connection)."""

    @classmethod
    def from_snapshot(cls, snap: market_data_pb2.OrderBookSnapshot, *, resubscriptions: int = 0) -> OrderBook:
        """The value of a `GetOrderBook` reply's `book` (or of a stream snapshot)."""
        return cls(
            symbol=snap.symbol,
            depth=snap.depth,
            bids=tuple(Level(lv.price, lv.quantity) for lv in snap.bids),
            asks=tuple(Level(lv.price, lv.quantity) for lv in snap.asks),
            sequence=snap.sequence,
            event_sequence=snap.event_sequence,
            timestamp=_timestamp(snap.timestamp),
            resubscriptions=resubscriptions,
        )

    def to_snapshot(self) -> market_data_pb2.OrderBookSnapshot:
        """The same book as an `OrderBookSnapshot` message (e.g. for JSON output)."""
        snap = market_data_pb2.OrderBookSnapshot(
            symbol=self.symbol,
            bids=[market_data_pb2.PriceLevel(price=lv.price, quantity=lv.quantity) for lv in self.bids],
            asks=[market_data_pb2.PriceLevel(price=lv.price, quantity=lv.quantity) for lv in self.asks],
            sequence=self.sequence,
            event_sequence=self.event_sequence,
            depth=self.depth,
        )
        if self.timestamp is not None:
            snap.timestamp.FromDatetime(self.timestamp)
        return snap

    def same_levels(self, other: OrderBook | market_data_pb2.OrderBookSnapshot) -> bool:
        """Whether both show the same prices and quantities (prices compared as numbers)."""
        if isinstance(other, market_data_pb2.OrderBookSnapshot):
            other = OrderBook.from_snapshot(other)

        def key(levels: Iterable[Level]) -> list[tuple[Decimal, int]]:
            return [(lv.value, lv.quantity) for lv in levels]

        return key(self.bids) == key(other.bids) and key(self.asks) == key(other.asks)

    # ------------------------------------------------------------------ for a terminal

    @property
    def best_bid(self) -> Level | None:
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> Level | None:
        return self.asks[0] if self.asks else None

    @property
    def spread(self) -> Decimal | None:
        """Best ask minus best bid; None when a side is empty."""
        if not self.bids or not self.asks:
            return None
        return self.asks[0].value - self.bids[0].value

    @property
    def empty(self) -> bool:
        return not self.bids and not self.asks

    def ladder(self) -> list[tuple[Level | None, Level | None]]:
        """(bid, ask) pairs row by row, best first; None where one side has fewer levels."""
        rows = max(len(self.bids), len(self.asks))
        return [
            (self.bids[i] if i < len(self.bids) else None, self.asks[i] if i < len(self.asks) else None)
            for i in range(rows)
        ]


class LiveBook:
    """The mutable book behind a stream: a snapshot replaces it, an update is applied on top."""

    __slots__ = ("asks", "bids", "depth", "event_sequence", "sequence", "symbol", "timestamp")

    def __init__(self, snap: market_data_pb2.OrderBookSnapshot) -> None:
        self.symbol = snap.symbol
        self.depth = snap.depth
        self.sequence = snap.sequence
        self.event_sequence = snap.event_sequence
        self.timestamp = _timestamp(snap.timestamp)
        # keyed by the price's value, so that "150.5" and "150.50" are one level
        self.bids: dict[Decimal, Level] = {Decimal(lv.price): Level(lv.price, lv.quantity) for lv in snap.bids}
        self.asks: dict[Decimal, Level] = {Decimal(lv.price): Level(lv.price, lv.quantity) for lv in snap.asks}

    def follows(self, update: market_data_pb2.OrderBookUpdate) -> bool:
        """Whether the update applies on top of this book (else there is a gap)."""
        return update.previous_sequence == self.sequence

    def apply(self, update: market_data_pb2.OrderBookUpdate) -> None:
        for change in update.levels:
            if change.side == common_pb2.SIDE_BUY:
                side = self.bids
            elif change.side == common_pb2.SIDE_SELL:
                side = self.asks
            else:
                continue
            price = Decimal(change.price)
            if change.quantity > 0:
                side[price] = Level(change.price, change.quantity)
            else:
                side.pop(price, None)
        self.sequence = update.sequence
        self.event_sequence = update.event_sequence or self.event_sequence
        self.timestamp = _timestamp(update.timestamp) or self.timestamp

    def _top(self, side: dict[Decimal, Level], best_first_reverse: bool) -> tuple[Level, ...]:
        ordered = sorted(side.items(), reverse=best_first_reverse)
        if self.depth and len(ordered) > self.depth:  # only the levels in view (the server says which)
            for price, _ in ordered[self.depth :]:
                del side[price]
            ordered = ordered[: self.depth]
        return tuple(level for _, level in ordered)

    def freeze(self, *, update: market_data_pb2.OrderBookUpdate | None = None, resubscriptions: int = 0) -> OrderBook:
        return OrderBook(
            symbol=self.symbol,
            depth=self.depth,
            bids=self._top(self.bids, True),
            asks=self._top(self.asks, False),
            sequence=self.sequence,
            event_sequence=self.event_sequence,
            timestamp=self.timestamp,
            snapshot=update is None,
            update=update,
            resubscriptions=resubscriptions,
        )
