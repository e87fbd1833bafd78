"""The market data feed: where reference prices (marks) come from before they are recorded.

A `MarketFeed` puts quotes on a `QuoteBoard` (the latest quote per symbol); the `MarkRecorder`
(`itirp.app.feed_recorder`) records the board's prices as MARK_RECORDED events at a bounded rate,
and a submit records the price it uses first (`TradingService.prices`). Two feeds:

* `SimulatedMarket`: a seeded random walk per listed instrument, from its reference price, on its
  tick grid, never at or below zero, bid and ask one tick either side.
* `ReplayFeed`: the rows of a CSV (`timestamp,symbol,price[,bid,ask]`), in file order, with the
  recorded gaps between them (scaled by a speed, each gap bounded).

The moves, the parsing and the gaps are plain functions (seeded, deterministic, no event loop);
the feeds only add the loop that sleeps between them.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Protocol

from itirp.domain.instruments import Instrument, Mark
from itirp.domain.orders import SYMBOL_RULE, valid_symbol

__all__ = [
    "MAX_REPLAY_GAP_SECONDS",
    "FeedFileError",
    "MarketFeed",
    "QuoteBoard",
    "ReplayFeed",
    "ReplayRow",
    "SimulatedMarket",
    "on_grid",
    "parse_replay_csv",
    "quote",
    "replay_delays",
    "walk_rng",
    "walk_step",
]

log = logging.getLogger("itirp.feed")

Sleep = Callable[[float], Awaitable[None]]

#: The longest pause between two replayed rows, whatever the file's timestamps say.
MAX_REPLAY_GAP_SECONDS = 10.0


class MarketFeed(Protocol):
    """A source of quotes. `run` puts them on the board until it is cancelled (or, for a finite
    source, until it has no more)."""

    source: str

    async def run(self, board: QuoteBoard) -> None: ...


class QuoteBoard:
    """The latest quote the feed gave per symbol (not yet recorded: the recorder and a submit
    record what they use)."""

    def __init__(self) -> None:
        self._quotes: dict[str, Mark] = {}

    def put(self, mark: Mark) -> None:
        self._quotes[mark.symbol] = mark

    def latest(self, symbol: str) -> Mark | None:
        return self._quotes.get(symbol)

    def quotes(self) -> list[Mark]:
        """Every symbol's latest quote, by symbol."""
        return [self._quotes[s] for s in sorted(self._quotes)]


# ------------------------------------------------------------------------------ the random walk


def on_grid(price: Decimal, tick: Decimal) -> Decimal:
    """`price` rounded to the nearest multiple of `tick`, and at least one tick."""
    steps = (price / tick).to_integral_value(rounding=ROUND_HALF_EVEN)
    return max(steps, Decimal(1)) * tick


def walk_step(price: Decimal, tick: Decimal, volatility: float, rng: random.Random) -> Decimal:
    """One move of the walk: a normal move with standard deviation `volatility` x `price`,
    rounded to the tick grid, never below one tick."""
    move = Decimal(repr(rng.gauss(0.0, volatility))) * price
    return on_grid(price + move, tick)


def walk_rng(seed: int | None, symbol: str) -> random.Random:
    """Each instrument walks on its own generator, so that its path depends on the seed and its
    symbol only (not on which other instruments are listed, or when)."""
    return random.Random(f"{seed}:{symbol}") if seed is not None else random.Random()


def quote(symbol: str, price: Decimal, tick: Decimal, *, source: str, priced_us: int) -> Mark:
    """A quote at `price` with bid and ask one tick either side (no bid when that would be zero)."""
    bid = price - tick
    return Mark(
        symbol=symbol,
        price=price,
        bid=bid if bid > 0 else None,
        ask=price + tick,
        source=source,
        priced_us=priced_us,
    )


class SimulatedMarket:
    """One move per listed instrument every `tick_seconds`. An instrument starts from its
    reference price when first seen (so instruments listed later join; after a restart the walk
    goes on from the last recorded mark); one without a reference price is not quoted."""

    source = "simulated"

    def __init__(
        self,
        instruments: Callable[[], Sequence[Instrument]],
        reference: Callable[[str], Mark | None],
        *,
        tick_seconds: float,
        volatility: float,
        seed: int | None,
        clock_us: Callable[[], int],
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._instruments = instruments
        self._reference = reference
        self._tick_seconds = tick_seconds
        self._volatility = volatility
        self._seed = seed
        self._clock_us = clock_us
        self._sleep = sleep
        self._prices: dict[str, Decimal] = {}
        self._rngs: dict[str, random.Random] = {}

    def step(self) -> list[Mark]:
        """The next quote of every listed instrument: its start price the first time, then a move."""
        now_us = self._clock_us()
        quotes: list[Mark] = []
        for instrument in self._instruments():
            symbol, tick = instrument.symbol, instrument.tick_size
            price = self._prices.get(symbol)
            if price is None:
                start = self._reference(symbol)
                if start is None:
                    continue
                price = on_grid(start.price, tick)
                self._rngs[symbol] = walk_rng(self._seed, symbol)
            else:
                price = walk_step(price, tick, self._volatility, self._rngs[symbol])
            self._prices[symbol] = price
            quotes.append(quote(symbol, price, tick, source=self.source, priced_us=now_us))
        return quotes

    async def run(self, board: QuoteBoard) -> None:
        while True:
            for mark in self.step():
                board.put(mark)
            await self._sleep(self._tick_seconds)


# ------------------------------------------------------------------------------ replay


class FeedFileError(ValueError):
    """A replay file that cannot be used; the message names the line."""


@dataclass(frozen=True, slots=True)
class ReplayRow:
    at_seconds: float
    """When the row was priced, seconds since the epoch (only the gaps between rows are used)."""
    symbol: str
    price: Decimal
    bid: Decimal | None = None
    ask: Decimal | None = None


def _timestamp(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            raise ValueError(f"timestamp {text!r} is not a moment")
        return seconds
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"timestamp {text!r} is neither ISO 8601 nor epoch seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _price(name: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{name} {text!r} is not a decimal number") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{name} {text!r} must be positive")
    return value


def _replay_row(cells: list[str]) -> ReplayRow:
    if len(cells) not in (3, 5):
        raise ValueError(f"expected timestamp,symbol,price[,bid,ask]: {len(cells)} fields")
    at, symbol, price = _timestamp(cells[0]), cells[1], _price("price", cells[2])
    if not valid_symbol(symbol):
        raise ValueError(f"symbol {symbol!r}: {SYMBOL_RULE}")
    if len(cells) == 3:
        return ReplayRow(at, symbol, price)
    bid, ask = _price("bid", cells[3]), _price("ask", cells[4])
    if not bid <= price <= ask:
        raise ValueError(f"bid {bid} <= price {price} <= ask {ask} does not hold")
    return ReplayRow(at, symbol, price, bid, ask)


def parse_replay_csv(text: str) -> list[ReplayRow]:
    """The rows of a replay file, in file order. Blank lines, `#` comments and a header line
    (starting with `timestamp`) are skipped; anything else that cannot be read raises
    `FeedFileError` naming its line."""
    rows: list[ReplayRow] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or (not rows and stripped.lower().startswith("timestamp")):
            continue
        try:
            rows.append(_replay_row([cell.strip() for cell in stripped.split(",")]))
        except ValueError as exc:
            raise FeedFileError(f"line {number}: {exc}") from None
    return rows


def replay_delays(
    rows: Sequence[ReplayRow], *, speed: float = 1.0, max_gap_seconds: float = MAX_REPLAY_GAP_SECONDS
) -> list[float]:
    """The pause before each row: the recorded gap from the row before, divided by `speed`, at
    most `max_gap_seconds`; 0 for the first row and for a timestamp that goes back."""
    delays: list[float] = []
    previous: float | None = None
    for row in rows:
        gap = 0.0 if previous is None else max(0.0, row.at_seconds - previous) / speed
        delays.append(min(gap, max_gap_seconds))
        previous = row.at_seconds
    return delays


class ReplayFeed:
    """The rows of a replay file on the board, in order, with their gaps; then it ends (the board
    keeps the last prices)."""

    source = "replay"

    def __init__(
        self,
        rows: Iterable[ReplayRow],
        *,
        clock_us: Callable[[], int],
        speed: float = 1.0,
        max_gap_seconds: float = MAX_REPLAY_GAP_SECONDS,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if speed <= 0:
            raise ValueError("replay speed must be positive")
        self._rows = list(rows)
        self._delays = replay_delays(self._rows, speed=speed, max_gap_seconds=max_gap_seconds)
        self._clock_us = clock_us
        self._sleep = sleep

    async def run(self, board: QuoteBoard) -> None:
        for row, delay in zip(self._rows, self._delays, strict=True):
            if delay:
                await self._sleep(delay)
            board.put(
                Mark(
                    symbol=row.symbol,
                    price=row.price,
                    bid=row.bid,
                    ask=row.ask,
                    source=self.source,
                    priced_us=self._clock_us(),
                )
            )
        log.info("the replay feed reached the end of its file", extra={"rows": len(self._rows)})
