"""Recording the feed's prices: the `MarkRecorder` (at most one mark per instrument per interval,
and a changed price always recorded once the interval has passed), and `RunningFeed`, the feed and
the recorder as two tasks started and stopped together. `open_feed` builds the feed the config
asks for."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

from itirp.app.feed import FeedFileError, MarketFeed, QuoteBoard, ReplayFeed, SimulatedMarket, parse_replay_csv
from itirp.config_sections import ConfigError, FeedConfig
from itirp.core.commands import RecordMark
from itirp.core.queries import TradingQueries
from itirp.core.reference import ReferenceCommands
from itirp.domain.instruments import Mark
from itirp.store import StoreError

__all__ = ["MarkRate", "MarkRecorder", "RunningFeed", "differs", "open_feed"]

log = logging.getLogger("itirp.feed")

Sleep = Callable[[float], Awaitable[None]]

#: The recorder looks at the board this many times per mark interval (at most every 0.25 s).
_LOOKS_PER_INTERVAL = 4


def differs(quote: Mark, recorded: Mark | None) -> bool:
    """Whether a quote says something the recorded reference price does not."""
    return recorded is None or (quote.price, quote.bid, quote.ask) != (recorded.price, recorded.bid, recorded.ask)


class MarkRate:
    """The rate rule, pure: an instrument may have a mark recorded when none was recorded by this
    rule in the last `interval_seconds`."""

    def __init__(self, interval_seconds: float) -> None:
        self.interval_seconds = interval_seconds
        self._last: dict[str, float] = {}

    def due(self, symbol: str, now_seconds: float) -> bool:
        last = self._last.get(symbol)
        return last is None or now_seconds - last >= self.interval_seconds

    def recorded(self, symbol: str, now_seconds: float) -> None:
        self._last[symbol] = now_seconds

    def select(self, quotes: Iterable[Mark], reference: Callable[[str], Mark | None], now_seconds: float) -> list[Mark]:
        """The quotes to record now: those that differ from the recorded reference price, of
        instruments that are due."""
        return [q for q in quotes if self.due(q.symbol, now_seconds) and differs(q, reference(q.symbol))]


class MarkRecorder:
    """Records the board's prices (`record_due`, synchronous, one core step per mark) and, as a
    task (`run`), looks again a few times per interval and awaits each batch's durability."""

    def __init__(
        self,
        commands: ReferenceCommands,
        queries: TradingQueries,
        board: QuoteBoard,
        durable: Callable[[int], Awaitable[None]],
        *,
        interval_seconds: float,
        clock: Callable[[], float],
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._commands = commands
        self._queries = queries
        self._board = board
        self._durable = durable
        self._rate = MarkRate(interval_seconds)
        self._clock = clock
        self._sleep = sleep
        self._look_every = min(interval_seconds / _LOOKS_PER_INTERVAL, 0.25)

    def record_due(self) -> int:
        """Record every due, changed quote; the last sequence recorded (0: none)."""
        now = self._clock()
        last = 0
        for mark in self._rate.select(self._board.quotes(), self._queries.reference, now):
            committed = self._commands.record_mark(RecordMark(mark=mark), int(now * 1_000_000))
            self._rate.recorded(mark.symbol, now)  # also when refused (an unlisted symbol): try again later
            if committed is not None and committed.events:
                last = committed.last_sequence
        return last

    async def run(self) -> None:
        while True:
            try:
                last = self.record_due()
                if last:
                    await self._durable(last)
            except StoreError as exc:  # the store failed: nothing more can be recorded
                log.error("the mark recorder stopped: the event log cannot record", extra={"problem": str(exc)})
                return
            await self._sleep(self._look_every)


class RunningFeed:
    """The feed and the recorder, as tasks; `stop()` cancels both and waits for them."""

    def __init__(self, feed: MarketFeed, recorder: MarkRecorder, board: QuoteBoard) -> None:
        self.feed = feed
        self.recorder = recorder
        self.board = board
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self.feed.run(self.board), name=f"itirp-feed-{self.feed.source}"),
            asyncio.create_task(self.recorder.run(), name="itirp-mark-recorder"),
        ]
        log.info("market data feed started", extra={"feed": self.feed.source})

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []


async def open_feed(config: FeedConfig, queries: TradingQueries, *, clock: Callable[[], float]) -> MarketFeed | None:
    """The feed `config` describes (None: `off`). A replay file that cannot be read or parsed is a
    `ConfigError` naming the file and the line."""

    def clock_us() -> int:
        return int(clock() * 1_000_000)

    if config.kind == "simulated":
        return SimulatedMarket(
            queries.instruments,
            queries.reference,
            tick_seconds=config.tick_seconds,
            volatility=config.volatility,
            seed=config.seed,
            clock_us=clock_us,
        )
    if config.kind == "replay":
        path = Path(config.replay_file)
        try:
            rows = parse_replay_csv(await asyncio.to_thread(path.read_text))
        except OSError as exc:
            raise ConfigError(f"cannot read the feed replay file {path}: {exc}") from None
        except FeedFileError as exc:
            raise ConfigError(f"the feed replay file {path}: {exc}") from None
        return ReplayFeed(rows, clock_us=clock_us)
    return None
