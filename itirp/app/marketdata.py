"""Market data of the internal venue: durable aggregated books per symbol, snapshots and
depth-limited incremental streams. Plain Python: the gRPC servicer converts what comes out.

Only durable state is shown. The trading core applies an event before it is durable and reports
the book's level changes at once (`record`, the core's hook); the hub holds them until the store
announces that their events committed (`on_commit`, a store listener), then applies them to its
own copy of the book and publishes. A change whose event is already durable (the replay at
start-up) is applied at once. `record` for a live change is a single append: nothing else happens
on the order path.

Versions: every symbol's book has a version (`sequence`) that grows by one with each recorded
change batch (one event), plus the event sequence and timestamp of the last one. A snapshot
carries the version; each stream update carries the version after it and `previous_sequence`,
the version of the last message that subscriber was sent, so a client detects a gap.

Depth-limited streams: a subscriber with depth D sees the top D levels per side. Changes are
published once per commit and symbol; for each depth in use the hub works out what changed in
that view (a level whose quantity changed, a level that entered because a better one left, a
level pushed out by a better one, sent with quantity 0) and sends one update; nothing when the
view did not change (then the next update's `previous_sequence` still names the last message
sent, so the chain has no gap). A view is the same for every subscriber of the same depth, so
the work is done once per depth, not per subscriber, and skipped outright for a side whose view
is full when every touched price is worse than its worst level.

A subscription (`subscribe`) is read with `stream()`, which waits and sends heartbeats, or with
`poll()`, which never waits; its first item is a snapshot. A slow subscriber never slows the order
path and never grows memory without bound: its queue is bounded, and on overflow whatever is
queued is dropped and the subscriber is sent a fresh snapshot when it reads next (conflation; the
protocol says a snapshot replaces the book).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from operator import neg
from typing import Self

from sortedcontainers import SortedDict

from itirp.domain.book import BUY, SELL, LevelChange
from itirp.errors import Unavailable
from itirp.store import StoredEvent

__all__ = [
    "DEFAULT_MAX_QUEUE",
    "BookSnapshot",
    "BookSubscription",
    "BookUpdate",
    "Heartbeat",
    "MarketDataHub",
]

_log = logging.getLogger("itirp.marketdata")

DEFAULT_MAX_QUEUE = 1000
"""Updates queued per subscriber before it is conflated to a fresh snapshot."""

Level = tuple[Decimal, int]
"""(price, aggregate quantity)."""


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    symbol: str
    bids: tuple[Level, ...]
    """Best (highest) first."""
    asks: tuple[Level, ...]
    """Best (lowest) first."""
    sequence: int
    """The book's version (0: nothing ever changed it)."""
    event_sequence: int
    """Event log sequence of the last event reflected (0: none)."""
    timestamp_us: int
    """That event's timestamp (0: none)."""
    depth: int


@dataclass(frozen=True, slots=True)
class BookUpdate:
    symbol: str
    sequence: int
    """The book's version after this update."""
    previous_sequence: int
    """The version of the previous message sent to this subscriber."""
    levels: tuple[LevelChange, ...]
    """New quantities of the levels that changed in view; 0: gone or out of view."""
    event_sequence: int
    timestamp_us: int


@dataclass(frozen=True, slots=True)
class Heartbeat:
    head_sequence: int
    """The store's committed head."""


class _Subscriber:
    __slots__ = ("last", "max_queue", "queue", "stale", "wake")

    def __init__(self, max_queue: int) -> None:
        self.max_queue = max_queue
        self.queue: collections.deque[BookUpdate] = collections.deque()
        self.wake = asyncio.Event()
        self.stale = False  # overflowed: the queue was dropped, a snapshot is due
        self.last = 0  # the version of the last message given to this subscriber


class _View:
    """The top `depth` levels per side as every subscriber of that depth has them."""

    __slots__ = ("asks", "bids", "depth", "subscribers", "worst_ask", "worst_bid")

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.bids: dict[Decimal, int] = {}
        self.asks: dict[Decimal, int] = {}
        self.worst_bid: Decimal | None = None  # the view's worst level when the side is full
        self.worst_ask: Decimal | None = None
        self.subscribers: set[_Subscriber] = set()


class _SymbolDepth:
    __slots__ = (
        "asks",
        "bids",
        "event_sequence",
        "symbol",
        "timestamp_us",
        "touched_asks",
        "touched_bids",
        "version",
        "views",
    )

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids: SortedDict = SortedDict(neg)  # highest first
        self.asks: SortedDict = SortedDict()  # lowest first
        self.version = 0
        self.event_sequence = 0
        self.timestamp_us = 0
        self.views: dict[int, _View] = {}
        # Prices changed since the last publish; only collected while somebody subscribes.
        self.touched_bids: set[Decimal] = set()
        self.touched_asks: set[Decimal] = set()

    def apply(self, sequence: int, timestamp_us: int, changes: Sequence[LevelChange]) -> None:
        track = bool(self.views)
        for side, price, quantity in changes:
            if side == BUY:
                levels, touched = self.bids, self.touched_bids
            elif side == SELL:
                levels, touched = self.asks, self.touched_asks
            else:  # a bug in the caller; never raise here, on the store's listener path
                _log.error("level change with an unknown side ignored", extra={"side": repr(side)})
                continue
            if quantity > 0:
                levels[price] = quantity
            else:
                levels.pop(price, None)
            if track:
                touched.add(price)
        self.version += 1
        self.event_sequence = sequence
        self.timestamp_us = timestamp_us

    def top(self, depth: int) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        return tuple(islice(self.bids.items(), depth)), tuple(islice(self.asks.items(), depth))

    def fill_view(self, view: _View) -> None:
        view.bids = dict(islice(self.bids.items(), view.depth))
        view.asks = dict(islice(self.asks.items(), view.depth))
        view.worst_bid = _worst(view.bids, view.depth)
        view.worst_ask = _worst(view.asks, view.depth)

    def publish(self) -> None:
        """Send every view that changed since the last publish its update."""
        touched_bids, touched_asks = self.touched_bids, self.touched_asks
        if not touched_bids and not touched_asks:
            return
        best_touched_bid = max(touched_bids) if touched_bids else None
        best_touched_ask = min(touched_asks) if touched_asks else None
        for view in self.views.values():
            depth = view.depth
            out: list[LevelChange] = []
            worst = view.worst_bid
            # A full side whose every touched price is worse than its worst level is unchanged.
            if best_touched_bid is not None and (worst is None or best_touched_bid >= worst):
                view.bids = _diff(BUY, view.bids, dict(islice(self.bids.items(), depth)), out)
                view.worst_bid = _worst(view.bids, depth)
            worst = view.worst_ask
            if best_touched_ask is not None and (worst is None or best_touched_ask <= worst):
                view.asks = _diff(SELL, view.asks, dict(islice(self.asks.items(), depth)), out)
                view.worst_ask = _worst(view.asks, depth)
            if not out:
                continue
            levels = tuple(out)
            for subscriber in view.subscribers:
                if subscriber.stale:
                    continue
                queue = subscriber.queue
                if len(queue) >= subscriber.max_queue:
                    queue.clear()
                    subscriber.stale = True
                else:
                    queue.append(
                        BookUpdate(
                            self.symbol, self.version, subscriber.last, levels, self.event_sequence, self.timestamp_us
                        )
                    )
                    subscriber.last = self.version
                subscriber.wake.set()
        touched_bids.clear()
        touched_asks.clear()


def _worst(view: dict[Decimal, int], depth: int) -> Decimal | None:
    """The last (worst) price of a full view side; None while it holds fewer than `depth`."""
    if len(view) < depth:
        return None
    return next(reversed(view))  # dicts keep the best-first order they were built in


def _diff(side: str, old: dict[Decimal, int], new: dict[Decimal, int], out: list[LevelChange]) -> dict[Decimal, int]:
    get = old.get
    for price, quantity in new.items():
        if get(price) != quantity:
            out.append(LevelChange(side, price, quantity))
    for price in old:
        if price not in new:
            out.append(LevelChange(side, price, 0))
    return new


class BookSubscription:
    """One subscriber of one symbol's book at one depth; from `MarketDataHub.subscribe`.

    Read it with `stream()` (waits, heartbeats) or `poll()` (what is there now, never waits).
    The first item is always a snapshot; after falling more than `max_queue` updates behind,
    the queued updates are dropped and the next item is a fresh snapshot.
    """

    __slots__ = ("_book", "_hub", "_subscriber", "_view", "depth", "symbol")

    def __init__(self, hub: MarketDataHub, book: _SymbolDepth, view: _View, max_queue: int) -> None:
        self._hub = hub
        self._book = book
        self._view = view
        self.symbol = book.symbol
        self.depth = view.depth
        subscriber = self._subscriber = _Subscriber(max_queue)
        subscriber.stale = True  # the first item: a snapshot
        view.subscribers.add(subscriber)

    def _snapshot(self) -> BookSnapshot:
        self._subscriber.stale = False
        snapshot = self._hub.snapshot(self.symbol, self.depth)
        self._subscriber.last = snapshot.sequence
        return snapshot

    def poll(self) -> list[BookSnapshot | BookUpdate]:
        """Everything available now, in order (empty if nothing is); `Unavailable` once the
        streams are ended."""
        self._hub._check_open()
        subscriber = self._subscriber
        if subscriber.stale:  # then the queue is empty
            return [self._snapshot()]
        items: list[BookSnapshot | BookUpdate] = list(subscriber.queue)
        subscriber.queue.clear()
        return items

    async def stream(
        self, *, heartbeat_seconds: float, check: Callable[[], None] = lambda: None
    ) -> AsyncIterator[BookSnapshot | BookUpdate | Heartbeat]:
        """The items as they come, a `Heartbeat` after `heartbeat_seconds` of quiet. Ends with
        `Unavailable` on `end_streams`; `check()` runs at every wake-up and may raise to end the
        stream (a revoked token)."""
        hub = self._hub
        subscriber = self._subscriber
        queue = subscriber.queue
        while True:
            if subscriber.stale:
                yield self._snapshot()
                continue
            while queue:
                yield queue.popleft()
            if subscriber.stale:
                continue
            check()
            hub._check_open()
            subscriber.wake.clear()
            if queue:
                continue
            try:  # asyncio.timeout, not wait_for: 3.11's wait_for can lose a cancellation (gh-86296)
                async with asyncio.timeout(heartbeat_seconds):
                    await subscriber.wake.wait()
            except TimeoutError:
                check()
                hub._check_open()
                yield Heartbeat(hub._head())

    @property
    def queued(self) -> int:
        return len(self._subscriber.queue)

    def close(self) -> None:
        """Stop following; idempotent."""
        self._hub._unsubscribe(self._book, self._view, self._subscriber)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class MarketDataHub:
    """The durable books of every symbol and their subscribers; see the module docstring.

    `head()` is the store's committed head. Register `on_commit` as a store listener and give
    `record` to the trading core as its book-change hook.
    """

    def __init__(self, head: Callable[[], int], *, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be >= 1")
        self._head = head
        self._max_queue = max_queue
        self._books: dict[str, _SymbolDepth] = {}
        self._pending: collections.deque[tuple[int, int, str, Sequence[LevelChange]]] = collections.deque()
        self._closing = ""

    # --- the write side: the core's hook and the store listener ---

    def record(self, sequence: int, timestamp_us: int, symbol: str, changes: Sequence[LevelChange]) -> None:
        """One event's level changes. Applied at once if the event is already durable (replay),
        else held until it commits. The caller must not change `changes` afterwards."""
        pending = self._pending
        if pending or sequence > self._head():
            pending.append((sequence, timestamp_us, symbol, changes))
        elif changes:
            book = self._depth(symbol)
            book.apply(sequence, timestamp_us, changes)
            book.publish()

    def on_commit(self, events: Sequence[StoredEvent]) -> None:
        """Store listener: publish every held change whose event is now durable."""
        pending = self._pending
        if not events or not pending:
            return
        upto = events[-1].sequence
        books = self._books
        changed: dict[str, _SymbolDepth] = {}
        while pending and pending[0][0] <= upto:
            sequence, timestamp_us, symbol, changes = pending.popleft()
            if not changes:
                continue
            book = books.get(symbol)
            if book is None:
                book = books[symbol] = _SymbolDepth(symbol)
            book.apply(sequence, timestamp_us, changes)
            changed[symbol] = book
        for book in changed.values():
            book.publish()

    # --- the read side ---

    def snapshot(self, symbol: str, depth: int) -> BookSnapshot:
        """The top `depth` levels per side of `symbol`'s durable book; empty, version 0, if none."""
        if depth < 1:
            raise ValueError(f"depth must be >= 1 (got {depth})")
        book = self._books.get(symbol)
        if book is None:
            return BookSnapshot(symbol, (), (), 0, 0, 0, depth)
        bids, asks = book.top(depth)
        return BookSnapshot(symbol, bids, asks, book.version, book.event_sequence, book.timestamp_us, depth)

    def subscribe(self, symbol: str, depth: int, *, max_queue: int | None = None) -> BookSubscription:
        """Follow the top `depth` levels per side of `symbol`, from now on: the subscription's
        first item is a snapshot. Close it (or use it as a context manager) when done."""
        if depth < 1:
            raise ValueError(f"depth must be >= 1 (got {depth})")
        self._check_open()
        book = self._depth(symbol)
        view = book.views.get(depth)
        if view is None:
            view = book.views[depth] = _View(depth)
            book.fill_view(view)
        return BookSubscription(self, book, view, max_queue or self._max_queue)

    def _unsubscribe(self, book: _SymbolDepth, view: _View, subscriber: _Subscriber) -> None:
        view.subscribers.discard(subscriber)
        if view.subscribers or book.views.get(view.depth) is not view:
            return
        del book.views[view.depth]
        if not book.views:
            book.touched_bids.clear()
            book.touched_asks.clear()
            if not book.version and self._books.get(book.symbol) is book:
                del self._books[book.symbol]

    # --- lifecycle ---

    def end_streams(self, reason: str) -> None:
        """End every stream (server shutting down): each ends `Unavailable` with `reason`, and
        new subscriptions are refused."""
        self._closing = reason or "market data streams are closed"
        for book in self._books.values():
            for view in book.views.values():
                for subscriber in view.subscribers:
                    subscriber.wake.set()

    def close(self) -> None:
        """End the streams (if not yet) and drop changes that never committed."""
        if not self._closing:
            self.end_streams("market data is closed")
        self._pending.clear()

    # --- introspection ---

    @property
    def pending_changes(self) -> int:
        """Change batches recorded but not yet durable."""
        return len(self._pending)

    @property
    def subscriber_count(self) -> int:
        return sum(len(v.subscribers) for b in self._books.values() for v in b.views.values())

    def symbols(self) -> list[str]:
        """Symbols with a durable book (possibly empty now), sorted."""
        return sorted(s for s, b in self._books.items() if b.version)

    def _depth(self, symbol: str) -> _SymbolDepth:
        book = self._books.get(symbol)
        if book is None:
            book = self._books[symbol] = _SymbolDepth(symbol)
        return book

    def _check_open(self) -> None:
        if self._closing:
            raise Unavailable(f"{self._closing}; subscribe again for a fresh snapshot")
