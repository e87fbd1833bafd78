"""The venue interface, and a simulated lit market for the desk's tests and demos.

A venue knows an order by our order id (FIX `ClOrdID`): `submit` of an id it already has answers
that order's state and never makes a second order, so a retry after a timeout is safe, and the
executor asks `status` first anyway. Every answer is an `ExecutionReport` of the order's whole
state there; fills that happen later (a resting order the market reaches) are reported to the
listener. A call fails with `TransientVenueError` (worth retrying: a timeout, a dropped
connection, a busy venue; the request may or may not have been processed) or
`PermanentVenueError` (a refusal that retrying cannot change).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from itirp.domain.instruments import Mark
from itirp.domain.venue import ExecutionReport, Fill, VenueOrder, VenueOrderState
from itirp.ids import random_hex

log = logging.getLogger("itirp.venue")

__all__ = [
    "ExecutionReport",
    "Fill",
    "PermanentVenueError",
    "SimulatedVenue",
    "TransientVenueError",
    "Venue",
    "VenueOrder",
    "VenueOrderState",
]

ReportListener = Callable[[ExecutionReport], None]


class TransientVenueError(Exception):
    """The call failed; another may succeed. The request may have been processed."""


class PermanentVenueError(Exception):
    """The venue refused; never retried."""


class Venue(Protocol):
    name: str

    async def submit(self, order: VenueOrder) -> ExecutionReport:
        """Send an order (a repeat of an id answers the existing order)."""
        ...

    async def cancel(self, order_id: str) -> ExecutionReport:
        """Cancel what is open of an order; the answer says what is true now (it may have filled)."""
        ...

    async def status(self, order_id: str) -> ExecutionReport | None:
        """The order's state at the venue; None when the venue has no order by that id."""
        ...

    def listen(self, on_report: ReportListener) -> None:
        """Where to report what happens to orders between calls (fills of resting orders)."""
        ...

    async def run(self) -> None:
        """The venue's own work until cancelled (a venue with none returns at once)."""
        ...


@dataclass(slots=True)
class _SimOrder:
    """An order at the simulated venue (`order` is None for the tombstone of a cancel that came
    before its order)."""

    order: VenueOrder | None
    state: VenueOrderState = VenueOrderState.WORKING
    passive: bool = False
    """It rested without crossing: the market comes to it, at its limit."""
    fills: list[Fill] = field(default_factory=list)
    reason: str = ""

    @property
    def open_quantity(self) -> int:
        if self.order is None or self.state is not VenueOrderState.WORKING:
            return 0
        return self.order.quantity - sum(f.quantity for f in self.fills)

    def report(self, order_id: str) -> ExecutionReport:
        return ExecutionReport(order_id, self.state, tuple(self.fills), self.reason, accepted=self.order is not None)


class SimulatedVenue:
    """A lit market simulated from the market data feed's quotes (`prices`, the latest quote of a
    symbol). Each quote offers `depth` on each side, shared by the orders that trade with it: a
    new quote offers it again. A limit buy at or above the ask (a sell at or below the bid) takes
    liquidity at the quote; the rest of it (and an order that does not cross) rests, and is
    looked at again every `match_seconds`: the rest of a crossing order takes what a new quote
    offers, at the quote; an order that rested below the market (passive) fills at its limit when
    the market comes to it. IOC
    cancels what does not fill on arrival; FOK fills whole on arrival or not at all. Without a quote for the symbol (no
    feed) an order fills whole at its limit on arrival.

    Each call takes `latency_seconds` and fails with probability `failure_rate` (seeded): half of
    the failures lose the request, half lose the answer (the order was processed), as on a real
    line. Symbols in `reject_symbols` are rejected. State lives in this process: after a restart
    the venue has no record of earlier orders (as a venue that cancels on disconnect)."""

    name = "simulated"

    def __init__(
        self,
        *,
        latency_seconds: float = 0.0,
        failure_rate: float = 0.0,
        seed: int | None = None,
        reject_symbols: frozenset[str] = frozenset(),
        depth: int = 1000,
        prices: Callable[[str], Mark | None] | None = None,
        match_seconds: float = 0.1,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_closed: int = 100_000,
    ) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure rate must be between 0 and 1")
        if depth <= 0:
            raise ValueError("depth must be positive")
        self.latency_seconds = latency_seconds
        self.failure_rate = failure_rate
        self.reject_symbols = reject_symbols
        self.depth = depth
        #: The latest quote of a symbol (set to the feed's board when there is a feed).
        self.prices = prices
        self.match_seconds = match_seconds
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._orders: dict[str, _SimOrder] = {}
        self._resting: dict[str, _SimOrder] = {}
        #: Per symbol and side: the quote last traded with and what it still offers.
        self._liquidity: dict[tuple[str, str], tuple[Mark, int]] = {}
        self._closed: deque[str] = deque()  # closed order ids, oldest first
        self._max_closed = max_closed
        self._listeners: list[ReportListener] = []
        self.calls = 0
        """Calls answered or failed (submit, cancel, status)."""
        self.orders_received = 0
        """Distinct orders that reached the venue (a repeated id is not a new order)."""

    def listen(self, on_report: ReportListener) -> None:
        self._listeners.append(on_report)

    async def _line(self) -> tuple[bool, bool]:
        """One call on the line: the latency, then (request lost, answer lost)."""
        self.calls += 1
        failing = self.failure_rate > 0 and self._rng.random() < self.failure_rate
        lose_answer = failing and self._rng.random() < 0.5
        if self.latency_seconds > 0:
            await self._sleep(self.latency_seconds)
        return failing and not lose_answer, lose_answer

    @staticmethod
    def _lost() -> TransientVenueError:
        return TransientVenueError("simulated venue: transient failure (connection reset)")

    async def submit(self, order: VenueOrder) -> ExecutionReport:
        request_lost, answer_lost = await self._line()
        if request_lost:
            raise self._lost()
        entry = self._orders.get(order.order_id)
        if entry is None:
            entry = self._arrive(order)
        if answer_lost:
            raise self._lost()
        return entry.report(order.order_id)

    async def cancel(self, order_id: str) -> ExecutionReport:
        request_lost, answer_lost = await self._line()
        if request_lost:
            raise self._lost()
        entry = self._orders.get(order_id)
        if entry is None:  # the cancel overtook its order: the order will be refused when it comes
            entry = _SimOrder(None, VenueOrderState.CANCELLED, reason="cancelled before the order arrived")
            self._keep(order_id, entry)
        elif entry.state is VenueOrderState.WORKING:
            self._close(order_id, entry, VenueOrderState.CANCELLED, "cancelled on request")
        if answer_lost:
            raise self._lost()
        return entry.report(order_id)

    async def status(self, order_id: str) -> ExecutionReport | None:
        request_lost, answer_lost = await self._line()
        if request_lost or answer_lost:
            raise self._lost()
        entry = self._orders.get(order_id)
        return entry.report(order_id) if entry is not None else None

    async def run(self) -> None:
        """Fill resting orders as the market reaches them; report each change to the listeners."""
        while True:
            await self._sleep(self.match_seconds)
            self.match_resting()

    def match_resting(self) -> list[ExecutionReport]:
        """One pass over the resting orders at the current quotes; the reports of those that filled."""
        reports: list[ExecutionReport] = []
        for order_id, entry in list(self._resting.items()):
            if self._match(entry, arriving=False):
                if entry.open_quantity == 0:
                    self._close(order_id, entry, VenueOrderState.FILLED)
                report = entry.report(order_id)
                reports.append(report)
                for listener in self._listeners:
                    try:
                        listener(report)
                    except Exception:  # one listener's failure must not stop the market
                        log.exception("a venue report listener failed", extra={"order_id": order_id})
        return reports

    # ------------------------------------------------------------------ the market

    def _arrive(self, order: VenueOrder) -> _SimOrder:
        self.orders_received += 1
        entry = _SimOrder(order)
        self._keep(order.order_id, entry)
        if order.symbol in self.reject_symbols:
            self._close(order.order_id, entry, VenueOrderState.REJECTED, f"{order.symbol}: symbol not tradable")
            return entry
        if order.time_in_force == "FOK" and self._available(order, arriving=True, passive=False)[0] < order.quantity:
            self._close(order.order_id, entry, VenueOrderState.CANCELLED, "FOK: not enough at the limit to fill whole")
            return entry
        self._match(entry, arriving=True)
        if entry.open_quantity == 0:
            self._close(order.order_id, entry, VenueOrderState.FILLED)
        elif order.time_in_force in ("IOC", "FOK"):
            self._close(order.order_id, entry, VenueOrderState.CANCELLED, "IOC: the unfilled rest cancelled")
        else:
            self._resting[order.order_id] = entry
        return entry

    def _available(self, order: VenueOrder, *, arriving: bool, passive: bool) -> tuple[int, Decimal, Mark | None]:
        """(quantity the market offers this order now, at which price, the quote it comes from)."""
        quote = self.prices(order.symbol) if self.prices is not None else None
        if quote is None:  # no market data: a new order crosses at its limit, a resting one waits
            return (order.quantity if arriving else 0), order.price, None
        if not self._crosses(order, quote):
            return 0, order.price, quote
        last, left = self._liquidity.get((order.symbol, order.side), (None, 0))
        available = left if last is quote else self.depth  # a new quote (a new tick) offers depth again
        if passive:  # the market came to a resting order: it trades at its limit
            return available, order.price, quote
        touch = quote.ask if order.side == "BUY" else quote.bid
        return available, (touch if touch is not None else quote.price), quote

    def _match(self, entry: _SimOrder, *, arriving: bool) -> bool:
        """Fill what the market offers; whether anything filled."""
        order = entry.order
        assert order is not None
        available, price, quote = self._available(order, arriving=arriving, passive=entry.passive)
        quantity = min(available, entry.open_quantity)
        if quantity <= 0:
            if quote is not None and not self._crosses(order, quote):
                entry.passive = True  # it rests below the market, which must come to it
            return False
        if quote is not None:
            self._liquidity[(order.symbol, order.side)] = (quote, available - quantity)
        entry.fills.append(Fill(quantity, price, f"sim-{random_hex(8)}", not entry.passive))
        return True

    @staticmethod
    def _crosses(order: VenueOrder, quote: Mark) -> bool:
        if order.side == "BUY":
            return (quote.ask if quote.ask is not None else quote.price) <= order.price
        return (quote.bid if quote.bid is not None else quote.price) >= order.price

    def _close(self, order_id: str, entry: _SimOrder, state: VenueOrderState, reason: str = "") -> None:
        entry.state = state
        entry.reason = reason
        self._resting.pop(order_id, None)
        self._closed.append(order_id)
        while len(self._closed) > self._max_closed:  # the oldest closed orders are forgotten
            self._orders.pop(self._closed.popleft(), None)

    def _keep(self, order_id: str, entry: _SimOrder) -> None:
        """Remember an order (or a tombstone) by id."""
        self._orders[order_id] = entry
        if entry.state is not VenueOrderState.WORKING:
            self._close(order_id, entry, entry.state, entry.reason)
