"""The market data feed: the walk, the replay file, the mark rate, and the price a submit uses.

The pure parts (the walk's step, the CSV parser and its gaps, the rate rule) run without an event
loop, seeded; the recorder runs its synchronous step against the core harness; the submit runs
the real trading service over an in-memory store.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from decimal import Decimal

import pytest

from itirp.app.application import build_trading
from itirp.app.feed import (
    FeedFileError,
    QuoteBoard,
    ReplayFeed,
    ReplayRow,
    SimulatedMarket,
    on_grid,
    parse_replay_csv,
    quote,
    replay_delays,
    walk_rng,
    walk_step,
)
from itirp.app.feed_recorder import MarkRate, MarkRecorder
from itirp.core.commands import SubmitOrder
from itirp.core.journal import Journal
from itirp.domain.instruments import Instrument, Mark
from itirp.domain.orders import Side
from itirp.store import MemoryEventStore
from tests.conftest import make_config

from ..core.harness import SECOND, START_US, actor, list_instruments, open_harness

TICK = Decimal("0.01")


def instrument(symbol: str = "AAPL", price: str | None = "150.00", tick: Decimal = TICK) -> Instrument:
    return Instrument(
        symbol=symbol,
        name=f"{symbol} test",
        currency="USD",
        tick_size=tick,
        reference_price=Decimal(price) if price is not None else None,
    )


def walk(seed: int, steps: int, start: str = "150.00", volatility: float = 0.01) -> list[Decimal]:
    rng, price, path = walk_rng(seed, "AAPL"), Decimal(start), []
    for _ in range(steps):
        price = walk_step(price, TICK, volatility, rng)
        path.append(price)
    return path


# -- the walk -------------------------------------------------------------------------------------


def test_the_walk_is_the_same_for_the_same_seed_and_differs_for_another() -> None:
    assert walk(7, 200) == walk(7, 200)
    assert walk(7, 200) != walk(8, 200)


def test_the_walk_moves_and_stays_on_the_tick_grid() -> None:
    path = walk(7, 500)

    assert len(set(path)) > 50
    assert all(p % TICK == 0 for p in path)


def test_the_walk_never_reaches_zero_even_when_very_volatile() -> None:
    path = walk(3, 2000, start="0.05", volatility=2.0)

    assert min(path) >= TICK
    assert all(p > 0 and p % TICK == 0 for p in path)


def test_on_grid_rounds_to_the_nearest_tick_and_keeps_at_least_one() -> None:
    assert on_grid(Decimal("150.004"), TICK) == Decimal("150.00")
    assert on_grid(Decimal("150.006"), TICK) == Decimal("150.01")
    assert on_grid(Decimal("-3"), TICK) == TICK
    assert on_grid(Decimal("2712.4"), Decimal(1)) == Decimal(2712)


def test_a_quote_has_bid_and_ask_one_tick_either_side_and_no_bid_at_one_tick() -> None:
    assert quote("AAPL", Decimal("150.00"), TICK, source="simulated", priced_us=1) == Mark(
        symbol="AAPL", price=Decimal("150.00"), bid=Decimal("149.99"), ask=Decimal("150.01"), source="simulated",
        priced_us=1,
    )  # fmt: skip
    assert quote("AAPL", TICK, TICK, source="simulated", priced_us=1).bid is None


def test_the_simulated_market_starts_at_the_reference_price_and_picks_up_instruments_listed_later() -> None:
    listed = [instrument("AAPL", "150.00"), instrument("NOPRICE", None)]
    references = {"AAPL": Mark(symbol="AAPL", price=Decimal("150.004"))}
    market = SimulatedMarket(
        lambda: listed, references.get, tick_seconds=1.0, volatility=0.01, seed=1, clock_us=lambda: START_US
    )

    first = market.step()
    listed.append(instrument("MSFT", "400.00"))
    references["MSFT"] = Mark(symbol="MSFT", price=Decimal("400.00"))
    second = market.step()

    assert [(m.symbol, m.price) for m in first] == [("AAPL", Decimal("150.00"))]  # no reference: not quoted
    assert [m.symbol for m in second] == ["AAPL", "MSFT"]
    assert second[1].price == Decimal("400.00")
    assert all(m.source == "simulated" and m.priced_us == START_US for m in first + second)


def test_an_instruments_path_does_not_depend_on_the_others_listed() -> None:
    def path(symbols: list[str]) -> list[Decimal]:
        listed = [instrument(s) for s in symbols]
        market = SimulatedMarket(
            lambda: listed,
            lambda s: Mark(symbol=s, price=Decimal("150.00")),
            tick_seconds=1.0,
            volatility=0.01,
            seed=42,
            clock_us=lambda: 0,
        )
        return [next(m.price for m in market.step() if m.symbol == "AAPL") for _ in range(50)]

    assert path(["AAPL"]) == path(["AAPL", "IBM", "MSFT"])


# -- the replay file ------------------------------------------------------------------------------


REPLAY = """\
timestamp,symbol,price,bid,ask
# the open
2026-12-01T14:30:00Z,AAPL,229.50,229.49,229.51
2026-12-01T14:30:01.5+00:00,MSFT,431.20

1796135460,AAPL,229.55
"""


def test_the_replay_parser_reads_iso_and_epoch_times_with_and_without_bid_and_ask() -> None:
    rows = parse_replay_csv(REPLAY)

    assert [(r.symbol, r.price, r.bid, r.ask) for r in rows] == [
        ("AAPL", Decimal("229.50"), Decimal("229.49"), Decimal("229.51")),
        ("MSFT", Decimal("431.20"), None, None),
        ("AAPL", Decimal("229.55"), None, None),
    ]
    assert rows[1].at_seconds - rows[0].at_seconds == 1.5
    assert rows[2].at_seconds == 1796135460.0


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("yesterday,AAPL,1.00", "neither ISO 8601 nor epoch seconds"),
        ("1,aapl,1.00", "symbol 'aapl'"),
        ("1,AAPL,abc", "price 'abc' is not a decimal number"),
        ("1,AAPL,-1", "price '-1' must be positive"),
        ("1,AAPL,1.00,0.99", "4 fields"),
        ("1,AAPL,1.00,1.01,1.02", "does not hold"),
        ("nan,AAPL,1.00", "not a moment"),
    ],
)
def test_the_replay_parser_names_the_bad_line(line: str, problem: str) -> None:
    text = "timestamp,symbol,price\n1,AAPL,1.00\n" + line + "\n"

    with pytest.raises(FeedFileError) as refused:
        parse_replay_csv(text)

    assert str(refused.value).startswith("line 3: ")
    assert problem in str(refused.value)


def test_replay_gaps_are_the_recorded_ones_scaled_and_bounded() -> None:
    rows = [ReplayRow(t, "AAPL", Decimal(1)) for t in (100.0, 101.0, 101.0, 99.0, 400.0)]

    assert replay_delays(rows) == [0.0, 1.0, 0.0, 0.0, 10.0]
    assert replay_delays(rows, speed=4.0, max_gap_seconds=30.0) == [0.0, 0.25, 0.0, 0.0, 30.0]


async def test_the_replay_feed_puts_the_rows_on_the_board_in_order_with_their_gaps() -> None:
    slept: list[float] = []
    seen: list[Mark | None] = []
    board = QuoteBoard()

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        seen.append(board.latest("AAPL"))

    feed = ReplayFeed(parse_replay_csv(REPLAY), clock_us=lambda: START_US, sleep=sleep)
    await feed.run(board)

    assert slept == [1.5, 10.0]
    assert [m.price if m else None for m in seen] == [Decimal("229.50"), Decimal("229.50")]
    latest = board.latest("AAPL")
    assert latest is not None
    assert (latest.price, latest.source) == (Decimal("229.55"), "replay")
    assert [m.symbol for m in board.quotes()] == ["AAPL", "MSFT"]


# -- the mark rate --------------------------------------------------------------------------------


def test_the_rate_rule_allows_one_mark_per_interval_per_instrument() -> None:
    rate = MarkRate(1.0)

    assert rate.due("AAPL", 10.0)
    rate.recorded("AAPL", 10.0)
    assert not rate.due("AAPL", 10.999)
    assert rate.due("MSFT", 10.5)  # per instrument
    assert rate.due("AAPL", 11.0)


def test_the_recorder_records_at_most_one_mark_per_interval_but_always_the_changed_price_after_it() -> None:
    h = open_harness(instruments=[instrument("AAPL", "150.00")])
    board, now = QuoteBoard(), [START_US / SECOND]
    recorder = MarkRecorder(
        h.core.reference,
        h.core.queries,
        board,
        durable=_never_awaited,
        interval_seconds=1.0,
        clock=lambda: now[0],
    )
    rng = random.Random(5)
    recorded_at: list[float] = []
    for _ in range(400):  # the price changes every 10 ms for 4 s
        now[0] += 0.01
        board.put(quote("AAPL", on_grid(Decimal(150 + rng.random()), TICK), TICK, source="test", priced_us=0))
        if recorder.record_due():
            recorded_at.append(now[0])

    gaps = [b - a for a, b in itertools.pairwise(recorded_at)]
    assert len(recorded_at) == 4
    assert all(gap >= 1.0 - 1e-9 for gap in gaps)
    last_quote = board.latest("AAPL")
    # the last change came after the last mark: it is recorded as soon as the interval has passed
    assert h.core.queries.reference("AAPL") != last_quote
    now[0] = recorded_at[-1] + 1.0
    assert recorder.record_due()
    recorded = h.core.queries.reference("AAPL")
    assert recorded is not None
    assert last_quote is not None
    assert (recorded.price, recorded.bid, recorded.ask) == (last_quote.price, last_quote.bid, last_quote.ask)
    assert recorded.sequence == h.events()[-1].sequence
    # nothing new on the board: nothing recorded, however long it waits
    now[0] += 60
    assert recorder.record_due() == 0


def test_the_recorder_skips_unlisted_symbols() -> None:
    h = open_harness(instruments=[instrument("AAPL", "150.00")])
    board = QuoteBoard()
    recorder = MarkRecorder(
        h.core.reference, h.core.queries, board, durable=_never_awaited, interval_seconds=1.0, clock=lambda: 0.0
    )
    board.put(quote("ZZZ", Decimal("1.00"), TICK, source="test", priced_us=0))

    assert recorder.record_due() == 0
    assert "MARK_RECORDED" not in h.event_types()


async def _never_awaited(sequence: int) -> None:  # the synchronous step does not await durability
    raise AssertionError("not awaited by record_due")


# -- the price a decision used --------------------------------------------------------------------


async def test_a_submit_records_the_feeds_price_it_uses_before_the_orders_events(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = MemoryEventStore()
    await store.open()
    try:
        parts = build_trading(
            make_config(tmp_path),
            Journal(clock_us=lambda: START_US),
            store,
            clock=lambda: START_US / SECOND,
            venue=None,
        )
        list_instruments(parts.core, [instrument("AAPL", "150.00")], START_US)
        feed_price = quote("AAPL", Decimal("151.25"), TICK, source="simulated", priced_us=START_US)
        parts.trading.prices = {"AAPL": feed_price}.get
        command = SubmitOrder(
            actor=actor(correlation_id="corr-1"), symbol="AAPL", side=Side.BUY, quantity=10, price="151.00"
        )

        order = await parts.trading.submit(command)
        await parts.trading.stop(0)

        events = await store.read()
        types = [e.event_type for e in events]
        mark_at = types.index("MARK_RECORDED")
        assert types[mark_at + 1] == "ORDER_CREATED"
        assert events[mark_at].correlation_id == order.correlation_id == "corr-1"
        recorded = parts.core.queries.reference("AAPL")
        assert recorded is not None
        assert (recorded.price, recorded.sequence) == (Decimal("151.25"), mark_at + 1)
        # the same price again says nothing new: no second mark
        await parts.trading.submit(dataclasses.replace(command, client_order_id="again"))
        await parts.trading.stop(0)
        assert [e.event_type for e in await store.read()].count("MARK_RECORDED") == 1
    finally:
        await store.close()
