"""The simulated venue: a lit market made from a quote board. Orders cross the quote on arrival (at the
quote, `depth` at a time), the rest rests and fills at its limit when the quote reaches it; IOC and FOK;
idempotent by order id; cancels (also of an order not seen yet); rejected symbols; a seeded schedule of
transient failures that lose either the request or the answer; the matching loop driven by an injected
`sleep`. Nothing here waits on the wall clock."""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from itirp.domain.instruments import Mark
from itirp.execution.venue import (
    ExecutionReport,
    Fill,
    SimulatedVenue,
    TransientVenueError,
    VenueOrder,
    VenueOrderState,
)

SEED = 20240301
EXECUTION_ID = re.compile(r"sim-[0-9a-f]{16}")

WORKING = VenueOrderState.WORKING
FILLED = VenueOrderState.FILLED
CANCELLED = VenueOrderState.CANCELLED
REJECTED = VenueOrderState.REJECTED


def order(
    order_id: str = "ord-1",
    *,
    symbol: str = "AAPL",
    side: str = "BUY",
    quantity: int = 100,
    price: str = "100.00",
    tif: str = "GTC",
    attempt: int = 1,
) -> VenueOrder:
    return VenueOrder(order_id, symbol, side, quantity, Decimal(price), attempt, tif)


class Board:
    """The latest quote of each symbol, as the market data feed's board: settable by the test."""

    def __init__(self) -> None:
        self.marks: dict[str, Mark] = {}
        self.asked: list[str] = []

    def quote(self, symbol: str, bid: str | None, ask: str | None, last: str = "100.00") -> None:
        self.marks[symbol] = Mark(
            symbol=symbol,
            price=Decimal(last),
            bid=None if bid is None else Decimal(bid),
            ask=None if ask is None else Decimal(ask),
            source="simulated",
        )

    def clear(self, symbol: str) -> None:
        del self.marks[symbol]

    def __call__(self, symbol: str) -> Mark | None:
        self.asked.append(symbol)
        return self.marks.get(symbol)


def quoted_venue(
    bid: str | None = "99.90", ask: str | None = "100.10", *, symbol: str = "AAPL", **kwargs: object
) -> tuple[SimulatedVenue, Board]:
    board = Board()
    board.quote(symbol, bid, ask)
    return SimulatedVenue(prices=board, **kwargs), board  # type: ignore[arg-type]


def collect(venue: SimulatedVenue) -> list[ExecutionReport]:
    reports: list[ExecutionReport] = []
    venue.listen(reports.append)
    return reports


def quantities(report: ExecutionReport) -> list[int]:
    return [f.quantity for f in report.fills]


# --------------------------------------------------------------------------- no quote: fills at the limit


async def test_without_prices_a_new_order_fills_whole_at_its_limit() -> None:
    # Arrange
    venue = SimulatedVenue()

    # Act
    report = await venue.submit(order(quantity=250, price="99.0001"))

    # Assert
    assert report.order_id == "ord-1"
    assert report.state is FILLED
    assert report.reason == ""
    assert len(report.fills) == 1
    fill = report.fills[0]
    assert isinstance(fill, Fill)
    assert fill.quantity == 250
    assert fill.price == Decimal("99.0001")
    assert fill.aggressor is True
    assert EXECUTION_ID.fullmatch(fill.execution_id)
    assert report.filled_quantity == 250
    assert venue.orders_received == 1
    assert venue.calls == 1


@pytest.mark.parametrize("side", ["BUY", "SELL"])
async def test_a_symbol_the_board_has_no_quote_for_fills_whole_at_its_limit(side: str) -> None:
    # Arrange: the board quotes AAPL only
    venue, board = quoted_venue(depth=10)

    # Act: far more than `depth`, at a price nowhere near AAPL's quote
    report = await venue.submit(order(symbol="MSFT", side=side, quantity=500, price="3.5"))

    # Assert
    assert board.asked == ["MSFT"]
    assert report.state is FILLED
    assert [(f.quantity, f.price, f.aggressor) for f in report.fills] == [(500, Decimal("3.5"), True)]


async def test_each_fill_gets_its_own_execution_id() -> None:
    # Arrange
    venue = SimulatedVenue()

    # Act
    reports = [await venue.submit(order(f"ord-{i}")) for i in range(50)]

    # Assert
    ids = [r.fills[0].execution_id for r in reports]
    assert len(set(ids)) == 50
    assert all(EXECUTION_ID.fullmatch(i) for i in ids)


async def test_execution_ids_are_unique_across_the_partial_fills_of_one_order() -> None:
    # Arrange: 100 against a depth of 10, crossing on arrival and then every new quote
    venue, board = quoted_venue(depth=10)
    await venue.submit(order(quantity=100, price="100.10"))

    # Act
    for _ in range(9):
        board.quote("AAPL", "99.90", "100.10")  # the next tick, at the same prices
        venue.match_resting()

    # Assert
    report = await venue.status("ord-1")
    assert report is not None
    assert report.state is FILLED
    assert len({f.execution_id for f in report.fills}) == 10


async def test_orders_received_counts_distinct_orders() -> None:
    # Arrange
    venue = SimulatedVenue()

    # Act
    for i in range(7):
        await venue.submit(order(f"ord-{i}"))
    await venue.status("ord-0")

    # Assert
    assert venue.orders_received == 7
    assert venue.calls == 8


# --------------------------------------------------------------------------- a quote: crossing on arrival


@pytest.mark.parametrize("limit", ["100.10", "100.11", "105.00"])
async def test_a_buy_at_or_above_the_ask_fills_at_the_ask(limit: str) -> None:
    # Arrange
    venue, _ = quoted_venue(bid="99.90", ask="100.10")

    # Act
    report = await venue.submit(order(side="BUY", quantity=100, price=limit))

    # Assert
    assert report.state is FILLED
    assert [(f.quantity, f.price, f.aggressor) for f in report.fills] == [(100, Decimal("100.10"), True)]


@pytest.mark.parametrize("limit", ["99.90", "99.89", "95.00"])
async def test_a_sell_at_or_below_the_bid_fills_at_the_bid(limit: str) -> None:
    # Arrange
    venue, _ = quoted_venue(bid="99.90", ask="100.10")

    # Act
    report = await venue.submit(order(side="SELL", quantity=100, price=limit))

    # Assert
    assert report.state is FILLED
    assert [(f.quantity, f.price, f.aggressor) for f in report.fills] == [(100, Decimal("99.90"), True)]


@pytest.mark.parametrize(("side", "crossing", "resting"), [("BUY", "100.00", "99.99"), ("SELL", "100.00", "100.01")])
async def test_a_quote_without_bid_and_ask_trades_at_its_last_price(side: str, crossing: str, resting: str) -> None:
    # Arrange: a one-price quote (no bid, no ask)
    venue, _ = quoted_venue(bid=None, ask=None)

    # Act
    crossed = await venue.submit(order("cross", side=side, price=crossing))
    rests = await venue.submit(order("rest", side=side, price=resting))

    # Assert
    assert crossed.state is FILLED
    assert crossed.fills[0].price == Decimal("100.00")
    assert rests.state is WORKING
    assert rests.fills == ()


@pytest.mark.parametrize(("side", "price", "at"), [("BUY", "100.50", "100.10"), ("SELL", "99.00", "99.90")])
async def test_size_beyond_depth_fills_depth_and_the_rest_rests(side: str, price: str, at: str) -> None:
    # Arrange
    venue, _ = quoted_venue(depth=30)

    # Act
    report = await venue.submit(order(side=side, quantity=100, price=price))

    # Assert
    assert report.state is WORKING
    assert report.reason == ""
    assert [(f.quantity, f.price, f.aggressor) for f in report.fills] == [(30, Decimal(at), True)]
    assert report.filled_quantity == 30
    assert await venue.status("ord-1") == report


async def test_exactly_depth_fills_whole_in_one_fill() -> None:
    venue, _ = quoted_venue(depth=30)

    report = await venue.submit(order(quantity=30, price="100.10"))

    assert report.state is FILLED
    assert quantities(report) == [30]


@pytest.mark.parametrize(("side", "price"), [("BUY", "100.09"), ("BUY", "50"), ("SELL", "99.91"), ("SELL", "150")])
async def test_an_order_that_does_not_cross_rests_with_no_fills(side: str, price: str) -> None:
    # Arrange
    venue, _ = quoted_venue(bid="99.90", ask="100.10")

    # Act
    report = await venue.submit(order(side=side, price=price))

    # Assert
    assert report == ExecutionReport("ord-1", WORKING, (), "")
    assert await venue.status("ord-1") == report
    assert venue.orders_received == 1


async def test_day_orders_rest_like_gtc() -> None:
    venue, _ = quoted_venue(depth=10)

    report = await venue.submit(order(quantity=25, price="100.10", tif="DAY"))

    assert report.state is WORKING
    assert quantities(report) == [10]


# --------------------------------------------------------------------------- resting orders: match_resting


async def test_match_resting_does_nothing_while_the_quote_does_not_reach_the_limit() -> None:
    # Arrange
    venue, board = quoted_venue(bid="99.90", ask="100.10")
    reports = collect(venue)
    await venue.submit(order(side="BUY", price="99.50"))
    board.quote("AAPL", "99.40", "99.51")

    # Act
    matched = venue.match_resting()

    # Assert
    assert matched == []
    assert reports == []
    assert (await venue.status("ord-1")) == ExecutionReport("ord-1", WORKING)


async def test_a_quote_moving_through_a_resting_buy_fills_it_at_its_limit_depth_at_a_time() -> None:
    # Arrange: a buy 100 @ 99.50 rests under the 100.10 ask
    venue, board = quoted_venue(bid="99.90", ask="100.10", depth=40)
    reports = collect(venue)
    await venue.submit(order(side="BUY", quantity=100, price="99.50"))

    # Act: the ask falls through the limit
    board.quote("AAPL", "99.00", "99.20")
    first = venue.match_resting()

    # Assert: filled at its own limit (not the ask), as the passive side
    assert len(first) == 1
    report = first[0]
    assert report.order_id == "ord-1"
    assert report.state is WORKING
    assert [(f.quantity, f.price, f.aggressor) for f in report.fills] == [(40, Decimal("99.50"), False)]
    assert reports == first


async def test_a_quote_moving_through_a_resting_sell_fills_it_at_its_limit() -> None:
    # Arrange
    venue, board = quoted_venue(bid="99.90", ask="100.10", depth=1000)
    await venue.submit(order(side="SELL", quantity=100, price="100.50"))

    # Act
    board.quote("AAPL", "100.80", "100.90")
    (report,) = venue.match_resting()

    # Assert
    assert report.state is FILLED
    assert [(f.quantity, f.price, f.aggressor) for f in report.fills] == [(100, Decimal("100.50"), False)]


@pytest.mark.parametrize(("side", "bid", "ask"), [("BUY", "99.40", "99.50"), ("SELL", "99.50", "99.60")])
async def test_a_quote_reaching_exactly_the_limit_fills_a_resting_order(side: str, bid: str, ask: str) -> None:
    # Arrange: resting at 99.50 inside a 99.00/100.00 market
    venue, board = quoted_venue(bid="99.00", ask="100.00")
    await venue.submit(order(side=side, price="99.50"))

    # Act
    board.quote("AAPL", bid, ask)
    matched = venue.match_resting()

    # Assert
    assert [r.state for r in matched] == [FILLED]
    assert matched[0].fills[0].price == Decimal("99.50")


async def test_the_listener_receives_the_cumulative_report_on_each_pass_until_filled() -> None:
    # Arrange
    venue, board = quoted_venue(depth=40)
    reports = collect(venue)
    await venue.submit(order(side="BUY", quantity=100, price="99.50"))

    # Act: three ticks through the bid
    passes = []
    for _ in range(3):
        board.quote("AAPL", "99.00", "99.20")
        passes.append(venue.match_resting())

    # Assert
    assert [len(p) for p in passes] == [1, 1, 1]
    assert reports == [p[0] for p in passes]
    assert [r.state for r in reports] == [WORKING, WORKING, FILLED]
    assert [quantities(r) for r in reports] == [[40], [40, 40], [40, 40, 20]]
    assert [r.filled_quantity for r in reports] == [40, 80, 100]
    # each later report carries the earlier fills unchanged
    assert reports[1].fills[:1] == reports[0].fills
    assert reports[2].fills[:2] == reports[1].fills
    assert all(not f.aggressor for f in reports[2].fills)


async def test_a_fully_filled_resting_order_is_filled_and_no_longer_matched() -> None:
    # Arrange
    venue, board = quoted_venue(depth=1000)
    reports = collect(venue)
    await venue.submit(order(side="BUY", quantity=100, price="99.50"))
    board.quote("AAPL", "99.00", "99.20")
    venue.match_resting()

    # Act
    again = [venue.match_resting() for _ in range(3)]

    # Assert
    assert again == [[], [], []]
    assert len(reports) == 1
    status = await venue.status("ord-1")
    assert status is not None
    assert status.state is FILLED
    assert status.filled_quantity == 100


async def test_the_rest_of_a_partly_crossed_order_takes_each_new_quote_at_the_quote() -> None:
    # Arrange: 100 @ 100.50 against a 100.10 ask, depth 30: 30 cross at the ask, 70 rest
    venue, board = quoted_venue(depth=30)
    arrived = await venue.submit(order(side="BUY", quantity=100, price="100.50"))

    # Act: the same quote has nothing more to give; each new one (still crossing) gives its depth
    same_quote = venue.match_resting()
    passes = []
    for _ in range(3):
        board.quote("AAPL", "99.90", "100.10")
        passes.append(venue.match_resting())

    # Assert: the rest takes liquidity at the quote (it never trades at its own, worse limit)
    assert quantities(arrived) == [30]
    assert same_quote == []
    final = passes[-1][0]
    assert final.state is FILLED
    assert [(f.quantity, f.price, f.aggressor) for f in final.fills] == [
        (30, Decimal("100.10"), True),
        (30, Decimal("100.10"), True),
        (30, Decimal("100.10"), True),
        (10, Decimal("100.10"), True),
    ]


async def test_orders_share_the_liquidity_of_one_quote() -> None:
    # Arrange: two buyers cross the same 100.10 ask, which offers 50
    venue, board = quoted_venue(depth=50)

    # Act
    first = await venue.submit(order("first", quantity=40, price="100.10"))
    second = await venue.submit(order("second", quantity=40, price="100.10"))
    board.quote("AAPL", "99.90", "100.10")  # the next tick offers 50 again
    later = venue.match_resting()

    # Assert
    assert (first.filled_quantity, second.filled_quantity) == (40, 10)
    assert [(r.order_id, r.filled_quantity) for r in later] == [("second", 40)]


async def test_a_report_already_given_is_a_snapshot_that_later_fills_do_not_change() -> None:
    # Arrange
    venue, board = quoted_venue(depth=10)
    first = await venue.submit(order(side="BUY", quantity=30, price="99.50"))

    # Act
    for _ in range(2):
        board.quote("AAPL", "99.00", "99.20")
        venue.match_resting()

    # Assert
    assert first == ExecutionReport("ord-1", WORKING)
    now = await venue.status("ord-1")
    assert now is not None
    assert now.filled_quantity == 20


async def test_only_the_resting_orders_the_market_reaches_are_matched() -> None:
    # Arrange: three resting orders on two symbols
    board = Board()
    board.quote("AAPL", "99.90", "100.10")
    board.quote("MSFT", "49.90", "50.10")
    venue = SimulatedVenue(prices=board)
    await venue.submit(order("a-low", symbol="AAPL", price="99.00"))
    await venue.submit(order("a-high", symbol="AAPL", price="99.80"))
    await venue.submit(order("m", symbol="MSFT", price="49.00"))

    # Act: AAPL's ask falls to 99.70: it reaches a-high only
    board.quote("AAPL", "99.50", "99.70")
    matched = venue.match_resting()

    # Assert
    assert [(r.order_id, r.state) for r in matched] == [("a-high", FILLED)]
    assert (await venue.status("a-low")) == ExecutionReport("a-low", WORKING)
    assert (await venue.status("m")) == ExecutionReport("m", WORKING)


async def test_every_listener_receives_each_report() -> None:
    # Arrange
    venue, board = quoted_venue()
    first = collect(venue)
    second = collect(venue)
    await venue.submit(order(price="99.50"))
    board.quote("AAPL", "99.00", "99.20")

    # Act
    matched = venue.match_resting()

    # Assert
    assert first == matched
    assert second == matched


async def test_fills_on_arrival_are_answered_not_sent_to_the_listener() -> None:
    venue, _ = quoted_venue()
    reports = collect(venue)

    await venue.submit(order(price="100.10"))

    assert reports == []


async def test_a_resting_order_waits_while_its_symbol_has_no_quote() -> None:
    # Arrange: rests under the quote, then the quote goes away
    venue, board = quoted_venue()
    await venue.submit(order(price="99.50"))
    board.clear("AAPL")

    # Act
    matched = venue.match_resting()

    # Assert: without market data a resting order does not trade
    assert matched == []
    assert (await venue.status("ord-1")) == ExecutionReport("ord-1", WORKING)


# --------------------------------------------------------------------------- IOC and FOK


async def test_ioc_cancels_the_unfilled_rest_with_a_reason() -> None:
    # Arrange
    venue, board = quoted_venue(depth=30)

    # Act
    report = await venue.submit(order(quantity=100, price="100.10", tif="IOC"))

    # Assert
    assert report.state is CANCELLED
    assert "IOC" in report.reason
    assert [(f.quantity, f.price, f.aggressor) for f in report.fills] == [(30, Decimal("100.10"), True)]
    # and nothing of it rests
    board.quote("AAPL", "99.00", "99.20")
    assert venue.match_resting() == []
    assert await venue.status("ord-1") == report


async def test_ioc_that_does_not_cross_is_cancelled_with_no_fills() -> None:
    venue, _ = quoted_venue()

    report = await venue.submit(order(price="99.00", tif="IOC"))

    assert report.state is CANCELLED
    assert report.fills == ()
    assert "IOC" in report.reason


async def test_ioc_that_fills_whole_is_filled() -> None:
    venue, _ = quoted_venue(depth=100)

    report = await venue.submit(order(quantity=100, price="100.10", tif="IOC"))

    assert report.state is FILLED
    assert report.reason == ""
    assert quantities(report) == [100]


@pytest.mark.parametrize("price", ["100.10", "100.50"])
async def test_fok_is_cancelled_whole_when_depth_is_short(price: str) -> None:
    # Arrange
    venue, board = quoted_venue(depth=99)

    # Act
    report = await venue.submit(order(quantity=100, price=price, tif="FOK"))

    # Assert
    assert report.state is CANCELLED
    assert report.fills == ()
    assert "FOK" in report.reason
    board.quote("AAPL", "99.00", "99.20")
    assert venue.match_resting() == []
    assert venue.orders_received == 1


async def test_fok_that_does_not_cross_is_cancelled_whole() -> None:
    venue, _ = quoted_venue()

    report = await venue.submit(order(price="99.00", tif="FOK"))

    assert report.state is CANCELLED
    assert report.fills == ()
    assert "FOK" in report.reason


@pytest.mark.parametrize("depth", [100, 1000])
async def test_fok_fills_whole_when_depth_suffices(depth: int) -> None:
    venue, _ = quoted_venue(depth=depth)

    report = await venue.submit(order(quantity=100, price="100.50", tif="FOK"))

    assert report.state is FILLED
    assert [(f.quantity, f.price, f.aggressor) for f in report.fills] == [(100, Decimal("100.10"), True)]


@pytest.mark.parametrize("tif", ["IOC", "FOK"])
async def test_ioc_and_fok_without_a_quote_fill_whole_at_the_limit(tif: str) -> None:
    venue = SimulatedVenue(depth=1)

    report = await venue.submit(order(quantity=100, price="12.34", tif=tif))

    assert report.state is FILLED
    assert [(f.quantity, f.price) for f in report.fills] == [(100, Decimal("12.34"))]


# --------------------------------------------------------------------------- idempotent by order id


async def test_a_second_submit_of_the_same_id_answers_the_same_report_and_makes_no_order() -> None:
    # Arrange
    venue = SimulatedVenue()
    first = await venue.submit(order())

    # Act
    second = await venue.submit(order(attempt=2))

    # Assert
    assert second == first
    assert venue.orders_received == 1
    assert venue.calls == 2


async def test_a_repeated_submit_of_a_resting_order_does_not_trade_again() -> None:
    # Arrange: partly filled on arrival, the quote still crossing
    venue, _ = quoted_venue(depth=30)
    first = await venue.submit(order(quantity=100, price="100.10"))

    # Act
    second = await venue.submit(order(quantity=100, price="100.10", attempt=2))
    third = await venue.submit(order(quantity=100, price="100.10", attempt=3))

    # Assert
    assert second == first
    assert third == first
    assert quantities(third) == [30]
    assert venue.orders_received == 1


async def test_a_repeated_id_answers_the_first_order_even_with_other_terms() -> None:
    # Arrange
    venue, _ = quoted_venue()
    first = await venue.submit(order(price="99.00"))

    # Act: same id, now a crossing IOC for another quantity
    second = await venue.submit(order(quantity=5, price="101.00", tif="IOC"))

    # Assert
    assert second == first
    assert second.state is WORKING
    assert venue.orders_received == 1


async def test_a_repeated_submit_after_later_fills_answers_the_current_state() -> None:
    # Arrange
    venue, board = quoted_venue(depth=1000)
    await venue.submit(order(price="99.50"))
    board.quote("AAPL", "99.00", "99.20")
    (filled,) = venue.match_resting()

    # Act
    again = await venue.submit(order(price="99.50", attempt=2))

    # Assert
    assert again == filled
    assert again.state is FILLED


# --------------------------------------------------------------------------- cancel and status


async def test_cancel_of_a_resting_order_keeps_its_fills() -> None:
    # Arrange
    venue, board = quoted_venue(depth=30)
    submitted = await venue.submit(order(quantity=100, price="100.10"))

    # Act
    report = await venue.cancel("ord-1")

    # Assert
    assert report.order_id == "ord-1"
    assert report.state is CANCELLED
    assert report.reason
    assert report.fills == submitted.fills
    # no longer resting: the market reaching it does nothing
    board.quote("AAPL", "99.00", "99.20")
    assert venue.match_resting() == []
    assert await venue.status("ord-1") == report


async def test_cancel_of_a_resting_order_with_no_fills() -> None:
    venue, _ = quoted_venue()
    await venue.submit(order(price="99.00"))

    report = await venue.cancel("ord-1")

    assert report.state is CANCELLED
    assert report.fills == ()


async def test_cancel_of_a_filled_order_answers_filled() -> None:
    # Arrange
    venue = SimulatedVenue()
    filled = await venue.submit(order())

    # Act
    report = await venue.cancel("ord-1")

    # Assert
    assert report == filled
    assert report.state is FILLED
    assert await venue.status("ord-1") == filled


async def test_cancel_twice_answers_the_same_cancelled_report() -> None:
    venue, _ = quoted_venue()
    await venue.submit(order(price="99.00"))

    first = await venue.cancel("ord-1")
    second = await venue.cancel("ord-1")

    assert second == first


async def test_cancel_of_a_rejected_order_answers_rejected() -> None:
    venue = SimulatedVenue(reject_symbols=frozenset({"HALT"}))
    rejected = await venue.submit(order(symbol="HALT"))

    report = await venue.cancel("ord-1")

    assert report == rejected


async def test_cancel_of_an_unknown_id_leaves_a_tombstone_that_refuses_the_late_order() -> None:
    # Arrange
    venue = SimulatedVenue()

    # Act
    cancelled = await venue.cancel("ord-1")
    late = await venue.submit(order())

    # Assert
    assert cancelled.order_id == "ord-1"
    assert cancelled.state is CANCELLED
    assert cancelled.fills == ()
    assert cancelled.reason
    assert late == cancelled
    assert venue.orders_received == 0
    assert await venue.status("ord-1") == cancelled


async def test_a_tombstoned_order_never_trades_even_when_the_market_reaches_it() -> None:
    # Arrange
    venue, board = quoted_venue()
    reports = collect(venue)
    await venue.cancel("ord-1")

    # Act
    late = await venue.submit(order(price="105.00"))
    board.quote("AAPL", "90.00", "90.10")
    matched = venue.match_resting()

    # Assert
    assert late.state is CANCELLED
    assert late.fills == ()
    assert matched == []
    assert reports == []


async def test_status_of_an_unknown_id_is_none() -> None:
    venue = SimulatedVenue()
    await venue.submit(order("known"))

    assert await venue.status("unknown") is None


async def test_status_of_a_known_order_is_its_report() -> None:
    # Arrange
    venue, board = quoted_venue(depth=10)
    submitted = await venue.submit(order(quantity=20, price="99.50"))

    # Act / Assert: the same report, then the fills as they come
    assert await venue.status("ord-1") == submitted
    board.quote("AAPL", "99.00", "99.20")
    (matched,) = venue.match_resting()
    assert await venue.status("ord-1") == matched


# --------------------------------------------------------------------------- rejected symbols


async def test_a_listed_symbol_is_rejected_with_a_report_naming_it() -> None:
    # Arrange
    venue = SimulatedVenue(reject_symbols=frozenset({"HALT"}))

    # Act
    report = await venue.submit(order(symbol="HALT"))

    # Assert
    assert report.state is REJECTED
    assert report.fills == ()
    assert "HALT" in report.reason
    assert await venue.status("ord-1") == report


async def test_a_rejected_order_never_rests() -> None:
    # Arrange
    board = Board()
    board.quote("HALT", "9.90", "10.10")
    venue = SimulatedVenue(prices=board, reject_symbols=frozenset({"HALT"}))
    await venue.submit(order(symbol="HALT", price="9.00"))

    # Act
    board.quote("HALT", "8.00", "8.10")

    # Assert
    assert venue.match_resting() == []


async def test_unlisted_symbols_still_trade_when_others_are_rejected() -> None:
    venue = SimulatedVenue(reject_symbols=frozenset({"HALT"}))

    report = await venue.submit(order(symbol="MSFT"))

    assert report.state is FILLED
    assert report.filled_quantity == 100


# --------------------------------------------------------------------------- failure injection


async def mixed_calls(venue: SimulatedVenue, n: int) -> list[str]:
    """n rounds of submit, status and cancel; each call's outcome in order."""
    outcomes: list[str] = []
    calls: list[Callable[[int], Awaitable[object]]] = [
        lambda i: venue.submit(order(f"ord-{i}")),
        lambda i: venue.status(f"ord-{i}"),
        lambda i: venue.cancel(f"ord-{i}"),
    ]
    for i in range(n):
        for call in calls:
            try:
                await call(i)
            except TransientVenueError:
                outcomes.append("transient")
            else:
                outcomes.append("ok")
    return outcomes


async def test_failure_rate_one_always_fails_transiently() -> None:
    # Arrange
    venue = SimulatedVenue(failure_rate=1.0, seed=7)

    # Act
    outcomes = await mixed_calls(venue, 10)

    # Assert
    assert outcomes == ["transient"] * 30
    assert venue.calls == 30


async def test_failure_rate_zero_never_fails() -> None:
    venue = SimulatedVenue(failure_rate=0.0, seed=7)

    assert await mixed_calls(venue, 10) == ["ok"] * 30


async def test_same_seed_gives_the_same_schedule_of_failures() -> None:
    # Arrange
    first = SimulatedVenue(failure_rate=0.5, seed=2024)
    second = SimulatedVenue(failure_rate=0.5, seed=2024)

    # Act
    a = await mixed_calls(first, 20)
    b = await mixed_calls(second, 20)

    # Assert
    assert a == b
    assert "ok" in a  # the schedule really mixes both
    assert "transient" in a
    assert first.orders_received == second.orders_received
    assert first.calls == second.calls == 60


async def test_different_seeds_give_different_schedules_of_failures() -> None:
    a = await mixed_calls(SimulatedVenue(failure_rate=0.5, seed=1), 20)
    b = await mixed_calls(SimulatedVenue(failure_rate=0.5, seed=2), 20)

    assert a != b


async def failed_submits(seed: int, n: int) -> tuple[SimulatedVenue, dict[str, ExecutionReport | None], list[str]]:
    """Submit n orders on a venue failing half its calls; after each failure, look the order up with
    failures switched off (a status at rate 0 draws nothing, so the schedule is unchanged). Returns
    the venue, what the venue has of each failed order, and the ids that succeeded."""
    venue = SimulatedVenue(failure_rate=0.5, seed=seed)
    failed: dict[str, ExecutionReport | None] = {}
    succeeded: list[str] = []
    for i in range(n):
        order_id = f"ord-{i}"
        try:
            await venue.submit(order(order_id))
        except TransientVenueError:
            venue.failure_rate = 0.0
            failed[order_id] = await venue.status(order_id)
            venue.failure_rate = 0.5
        else:
            succeeded.append(order_id)
    return venue, failed, succeeded


async def replayed_up_to(seed: int, order_id: str) -> SimulatedVenue:
    """A venue of the same seed taken through the same submits as `failed_submits`, up to (not
    including) `order_id`: its next call meets the same fate as that order's submit did there."""
    venue = SimulatedVenue(failure_rate=0.5, seed=seed)
    for i in range(int(order_id.removeprefix("ord-"))):
        with contextlib.suppress(TransientVenueError):
            await venue.submit(order(f"ord-{i}"))
    return venue


async def test_a_seeded_run_loses_both_requests_and_answers() -> None:
    # Act
    venue, failed, succeeded = await failed_submits(SEED, 40)

    # Assert: both kinds happen, and only the lost answers made orders
    processed = [i for i, r in failed.items() if r is not None]
    lost = [i for i, r in failed.items() if r is None]
    assert processed
    assert lost
    assert venue.orders_received == len(succeeded) + len(processed)


async def test_a_failure_that_loses_the_answer_has_still_processed_the_order() -> None:
    # Arrange: the first failed submit of a seeded run whose order the venue has
    _, failed, _ = await failed_submits(SEED, 40)
    order_id = next(i for i, r in failed.items() if r is not None)
    venue = await replayed_up_to(SEED, order_id)
    before = venue.orders_received

    # Act
    with pytest.raises(TransientVenueError):
        await venue.submit(order(order_id))

    # Assert: the order is there, filled; a retry answers it and makes no second order
    assert venue.orders_received == before + 1
    venue.failure_rate = 0.0
    status = await venue.status(order_id)
    assert status is not None
    assert status.state is FILLED
    assert status.filled_quantity == 100
    retry = await venue.submit(order(order_id, attempt=2))
    assert retry == status
    assert venue.orders_received == before + 1


async def test_a_failure_that_loses_the_request_has_not_processed_the_order() -> None:
    # Arrange: the first failed submit of a seeded run whose order the venue does not have
    _, failed, _ = await failed_submits(SEED, 40)
    order_id = next(i for i, r in failed.items() if r is None)
    venue = await replayed_up_to(SEED, order_id)
    before = venue.orders_received

    # Act
    with pytest.raises(TransientVenueError):
        await venue.submit(order(order_id))

    # Assert: nothing there; a retry makes the order
    assert venue.orders_received == before
    venue.failure_rate = 0.0
    assert await venue.status(order_id) is None
    retry = await venue.submit(order(order_id, attempt=2))
    assert retry.state is FILLED
    assert venue.orders_received == before + 1


async def test_a_cancel_whose_answer_is_lost_has_still_cancelled() -> None:
    # Arrange: resting orders, then cancels on a failing line until one fails with the order cancelled
    venue, _ = quoted_venue(failure_rate=0.0, seed=SEED)
    ids = [f"ord-{i}" for i in range(40)]
    for order_id in ids:
        await venue.submit(order(order_id, price="99.00"))
    venue.failure_rate = 0.5
    states: dict[str, str] = {}

    # Act
    for order_id in ids:
        try:
            await venue.cancel(order_id)
        except TransientVenueError:
            venue.failure_rate = 0.0
            report = await venue.status(order_id)
            venue.failure_rate = 0.5
            assert report is not None
            states[order_id] = report.state.value

    # Assert: some failed cancels were carried out, some never reached the venue
    assert "CANCELLED" in states.values()
    assert "WORKING" in states.values()


async def test_status_fails_whenever_the_line_fails() -> None:
    venue = SimulatedVenue(failure_rate=1.0, seed=SEED)

    for _ in range(10):
        with pytest.raises(TransientVenueError):
            await venue.status("ord-1")

    assert venue.calls == 10


async def test_a_failing_line_still_rejects_nothing_it_did_not_receive() -> None:
    # failures come before the venue looks at the order: a rejected symbol fails transiently too
    venue = SimulatedVenue(failure_rate=1.0, seed=SEED, reject_symbols=frozenset({"HALT"}))

    with pytest.raises(TransientVenueError):
        await venue.submit(order(symbol="HALT"))


async def test_each_call_takes_the_latency_through_the_injected_sleep() -> None:
    # Arrange
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    venue = SimulatedVenue(latency_seconds=0.25, sleep=sleep)

    # Act
    await venue.submit(order())
    await venue.status("ord-1")
    await venue.cancel("ord-1")

    # Assert
    assert slept == [0.25, 0.25, 0.25]


async def test_zero_latency_does_not_sleep() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    venue = SimulatedVenue(latency_seconds=0, sleep=sleep)
    await venue.submit(order())

    assert slept == []


@pytest.mark.parametrize("rate", [-0.01, 1.01, 2.0, -1.0, math.nan, math.inf, -math.inf])
def test_failure_rate_outside_zero_to_one_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="failure rate"):
        SimulatedVenue(failure_rate=rate)


@pytest.mark.parametrize("rate", [0.0, 0.5, 1.0])
def test_failure_rate_bounds_are_accepted(rate: float) -> None:
    assert SimulatedVenue(failure_rate=rate).failure_rate == rate


@pytest.mark.parametrize("depth", [0, -1, -1000])
def test_depth_below_one_is_refused(depth: int) -> None:
    with pytest.raises(ValueError, match="depth"):
        SimulatedVenue(depth=depth)


async def test_depth_one_is_accepted_and_fills_one_at_a_time() -> None:
    venue, _ = quoted_venue(depth=1)

    report = await venue.submit(order(quantity=3, price="100.10"))

    assert quantities(report) == [1]
    assert report.state is WORKING


# --------------------------------------------------------------------------- run()


async def test_run_matches_resting_orders_every_match_seconds() -> None:
    # Arrange: a sleep that lets three passes through, then cancels the loop
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        if len(slept) == 3:
            raise asyncio.CancelledError
        slept.append(seconds)
        board.quote("AAPL", "99.00", "99.20")  # a new tick before each pass

    venue, board = quoted_venue(depth=40, match_seconds=0.05, sleep=sleep)
    reports = collect(venue)
    await venue.submit(order(quantity=100, price="99.50"))

    # Act
    with pytest.raises(asyncio.CancelledError):
        await venue.run()

    # Assert
    assert slept == [0.05, 0.05, 0.05]
    assert [r.filled_quantity for r in reports] == [40, 80, 100]
    assert reports[-1].state is FILLED


async def test_run_sleeps_before_each_pass() -> None:
    # Arrange: the first sleep already cancels: no pass happens
    async def sleep(seconds: float) -> None:
        raise asyncio.CancelledError

    venue, board = quoted_venue(sleep=sleep)
    reports = collect(venue)
    await venue.submit(order(price="99.50"))
    board.quote("AAPL", "99.00", "99.20")

    # Act
    with pytest.raises(asyncio.CancelledError):
        await venue.run()

    # Assert
    assert reports == []


async def test_run_as_a_task_stops_when_cancelled() -> None:
    # Arrange: each sleep waits for the test to release one pass
    ticks: asyncio.Queue[None] = asyncio.Queue()
    waiting: asyncio.Queue[float] = asyncio.Queue()

    async def sleep(seconds: float) -> None:
        waiting.put_nowait(seconds)
        await ticks.get()
        board.quote("AAPL", "99.00", "99.20")  # a new tick before each pass

    venue, board = quoted_venue(depth=10, sleep=sleep)
    reports = collect(venue)
    await venue.submit(order(quantity=100, price="99.50"))
    task = asyncio.create_task(venue.run())

    # Act: two passes, then cancel while it sleeps
    for _ in range(2):
        await waiting.get()
        ticks.put_nowait(None)
    await waiting.get()
    task.cancel()

    # Assert
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert [r.filled_quantity for r in reports] == [10, 20]


# --------------------------------------------------------------------------- remembering closed orders


async def test_the_oldest_closed_orders_are_forgotten_past_max_closed() -> None:
    # Arrange
    venue = SimulatedVenue(max_closed=10)

    # Act
    for i in range(20):
        await venue.submit(order(f"ord-{i}"))

    # Assert
    assert await venue.status("ord-0") is None
    assert await venue.status("ord-19") is not None


async def test_resting_orders_are_never_forgotten() -> None:
    # Arrange: one resting order, then many closed ones on a symbol without a quote
    venue, board = quoted_venue(max_closed=10)
    await venue.submit(order("resting", price="99.00"))

    # Act
    for i in range(50):
        await venue.submit(order(f"fill-{i}", symbol="MSFT"))

    # Assert
    assert (await venue.status("resting")) == ExecutionReport("resting", WORKING)
    board.quote("AAPL", "98.00", "98.10")
    assert [r.order_id for r in venue.match_resting()] == ["resting"]


async def test_max_closed_holds_when_the_oldest_orders_are_resting() -> None:
    # Arrange: 20 resting orders first
    venue, _ = quoted_venue(max_closed=10)
    for i in range(20):
        await venue.submit(order(f"resting-{i}", price="99.00"))

    # Act: 30 orders that close at once
    for i in range(30):
        await venue.submit(order(f"fill-{i}", symbol="MSFT"))

    # Assert: at most max_closed of them are remembered, the oldest forgotten
    remembered = [i for i in range(30) if await venue.status(f"fill-{i}") is not None]
    assert len(remembered) <= 10
    assert 0 not in remembered


async def test_a_small_max_closed_is_honoured() -> None:
    # Arrange
    venue = SimulatedVenue(max_closed=2)

    # Act
    for i in range(5):
        await venue.submit(order(f"ord-{i}"))

    # Assert
    assert await venue.status("ord-0") is None
