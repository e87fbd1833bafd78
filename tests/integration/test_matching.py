"""The internal venue through gRPC: orders rest, cross and fill partly; order types, time in force,
self-trade prevention, AmendOrder, cancels, positions, a restart that rebuilds the books. A real
server (`venue="internal"`) on a loopback port, real grpc.aio channels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from itirp.server import RunningServer, serve
from itirp.v1 import common_pb2, order_pb2, risk_pb2
from tests.conftest import make_config
from tests.integration import test_trading
from tests.integration.test_trading import Desk, open_desk, rejected

# The simulated-venue desk's fixtures, shared with test_trading.
desk = test_trading.desk
trading_config = test_trading.trading_config
venue = test_trading.venue

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
S = common_pb2
OK = grpc.StatusCode


def internal_config(data_dir: Path):  # type: ignore[no-untyped-def]
    return make_config(data_dir, venue="internal", access_log=False)


@pytest.fixture
async def book_desk(tmp_path: Path) -> AsyncIterator[Desk]:
    server = await serve(internal_config(tmp_path / "data"))
    desk, channel = await open_desk(server)
    try:
        yield desk
    finally:
        await channel.close()
        await server.shutdown(grace=1)


async def amend(desk: Desk, order_id: str, user: str = "trader1", **fields: object) -> order_pb2.AmendOrderResponse:
    request = order_pb2.AmendOrderRequest(order_id=order_id, **fields)  # type: ignore[arg-type]
    return await desk.orders.AmendOrder(request, metadata=desk.md(user))


async def cancel(desk: Desk, order_id: str, user: str = "trader1") -> order_pb2.Order:
    reply = await desk.orders.CancelOrder(
        order_pb2.CancelOrderRequest(order_id=order_id, reason="desk"), metadata=desk.md(user)
    )
    return reply.order


# ---------------------------------------------------------------- resting and crossing


async def test_a_limit_order_that_does_not_cross_rests_working_with_its_quantity_open(book_desk: Desk) -> None:
    reply = await book_desk.submit("AAPL", SELL, 100, "150.10", user="risk1")

    assert reply.status == S.ORDER_STATUS_WORKING
    order = reply.order
    assert (order.filled_quantity, order.remaining_quantity, order.average_fill_price) == (0, 100, "")
    assert order.order_type == S.ORDER_TYPE_LIMIT
    assert order.time_in_force == S.TIME_IN_FORCE_GTC
    assert order.self_trade_prevention == S.SELF_TRADE_PREVENTION_CANCEL_RESTING


async def test_a_crossing_order_fills_against_both_levels_at_the_resting_prices(book_desk: Desk) -> None:
    first = await book_desk.submit("AAPL", SELL, 100, "150.00", user="risk1")
    second = await book_desk.submit("AAPL", SELL, 50, "150.10", user="risk1")

    taker = await book_desk.submit("AAPL", BUY, 120, "150.20")

    assert taker.status == S.ORDER_STATUS_EXECUTED
    fills = [(f.quantity, f.price, f.aggressor) for f in taker.order.fills]
    assert fills == [(100, "150.00", True), (20, "150.10", True)]
    assert taker.order.average_fill_price == "150.01666667"  # 18002 / 120, rounded for the wire
    maker1 = await book_desk.get(first.order_id, "risk1")
    maker2 = await book_desk.get(second.order_id, "risk1")
    assert maker1.status == S.ORDER_STATUS_EXECUTED
    assert maker1.remaining_quantity == 0
    assert maker2.status == S.ORDER_STATUS_PARTIALLY_FILLED
    assert (maker2.filled_quantity, maker2.remaining_quantity) == (20, 30)
    assert not maker2.fills[0].aggressor
    assert {maker1.fills[0].trade_id, maker2.fills[0].trade_id} == {f.trade_id for f in taker.order.fills}


async def test_positions_and_daily_volume_follow_the_fills_of_both_orders(book_desk: Desk) -> None:
    await book_desk.submit("AAPL", SELL, 100, "150.00", user="risk1")
    await book_desk.submit("AAPL", BUY, 40, "150.00")

    # the firm's figures (a risk manager's view; a trader reads their own level)
    firm = book_desk.md("risk1")
    metrics = (await book_desk.risk.GetRiskMetrics(risk_pb2.GetRiskMetricsRequest(), metadata=firm)).metrics

    # both sides of the 40 @ 150 cross count: 2 x 6,000 executed; 60 left working at 150
    assert metrics.daily_volume == "21000.00"
    assert metrics.working_exposure == "9000.00"
    positions = await book_desk.risk.ListPositions(risk_pb2.ListPositionsRequest(), metadata=firm)
    assert positions.positions == []  # a cross inside the desk nets to flat
    # each trader's own level holds their side of it
    (mine,) = (await book_desk.positions()).positions
    assert (mine.symbol, mine.quantity) == ("AAPL", 40)


# ---------------------------------------------------------------- order types and time in force


async def test_ioc_fills_what_it_can_and_the_rest_is_cancelled(book_desk: Desk) -> None:
    await book_desk.submit("MSFT", SELL, 30, "300", user="risk1")

    reply = await book_desk.submit("MSFT", BUY, 50, "300", time_in_force=S.TIME_IN_FORCE_IOC)

    assert reply.status == S.ORDER_STATUS_CANCELLED
    assert (reply.order.filled_quantity, reply.order.remaining_quantity) == (30, 0)
    assert "IOC" in reply.message


async def test_fok_that_cannot_fill_completely_trades_nothing(book_desk: Desk) -> None:
    resting = await book_desk.submit("MSFT", SELL, 30, "300", user="risk1")

    reply = await book_desk.submit("MSFT", BUY, 50, "300", time_in_force=S.TIME_IN_FORCE_FOK)

    assert reply.status == S.ORDER_STATUS_CANCELLED
    assert reply.order.filled_quantity == 0
    assert "FOK" in reply.message
    assert (await book_desk.get(resting.order_id, "risk1")).remaining_quantity == 30


async def test_a_market_order_sweeps_the_book_and_its_rest_is_cancelled(book_desk: Desk) -> None:
    await book_desk.submit("NVDA", SELL, 10, "100", user="risk1")
    await book_desk.submit("NVDA", SELL, 10, "101", user="risk1")

    reply = await book_desk.submit("NVDA", BUY, 25, "", order_type=S.ORDER_TYPE_MARKET)

    assert reply.status == S.ORDER_STATUS_CANCELLED
    assert [(f.quantity, f.price) for f in reply.order.fills] == [(10, "100.00"), (10, "101.00")]
    assert reply.order.price == ""
    assert "MARKET" in reply.message


async def test_market_orders_are_refused_with_a_reason_a_trader_understands(book_desk: Desk) -> None:
    empty = await rejected(book_desk.submit("NVDA", BUY, 5, "", order_type=S.ORDER_TYPE_MARKET))
    priced = await rejected(book_desk.submit("NVDA", BUY, 5, "100", order_type=S.ORDER_TYPE_MARKET))
    unknown = await rejected(book_desk.submit("NVDA", BUY, 5, "100", time_in_force=42))

    assert empty.code() == OK.FAILED_PRECONDITION
    assert "no SELL orders rest in the NVDA book" in (empty.details() or "")
    assert priced.code() == OK.INVALID_ARGUMENT
    assert "MARKET order takes no price" in (priced.details() or "")
    assert unknown.code() == OK.INVALID_ARGUMENT
    assert "time_in_force" in (unknown.details() or "")


async def test_self_trade_prevention_cancel_both_cancels_the_resting_and_the_incoming_order(book_desk: Desk) -> None:
    resting = await book_desk.submit("AMD", SELL, 10, "90")

    reply = await book_desk.submit("AMD", BUY, 10, "90", self_trade_prevention=S.SELF_TRADE_PREVENTION_CANCEL_BOTH)

    assert reply.status == S.ORDER_STATUS_CANCELLED
    assert "self-trade" in reply.message
    assert reply.order.filled_quantity == 0
    old = await book_desk.get(resting.order_id)
    assert old.status == S.ORDER_STATUS_CANCELLED
    assert "self-trade" in old.message


# ---------------------------------------------------------------- amend and cancel


async def test_amend_down_keeps_priority_and_a_new_price_loses_it(book_desk: Desk) -> None:
    order = (await book_desk.submit("AAPL", BUY, 100, "149.00")).order_id

    down = await amend(book_desk, order, quantity=60)
    moved = await amend(book_desk, order, price="149.50")

    assert down.priority_kept
    assert down.order.quantity == 60
    assert down.order.remaining_quantity == 60
    assert not moved.priority_kept
    assert moved.order.price == "149.50"
    assert moved.order.status == S.ORDER_STATUS_WORKING


async def test_an_amended_price_that_crosses_trades_at_once(book_desk: Desk) -> None:
    await book_desk.submit("AAPL", SELL, 50, "150.00", user="risk1")
    order = (await book_desk.submit("AAPL", BUY, 80, "149.00")).order_id

    reply = await amend(book_desk, order, price="150.00")

    assert reply.order.status == S.ORDER_STATUS_PARTIALLY_FILLED
    assert (reply.order.filled_quantity, reply.order.remaining_quantity) == (50, 30)


async def test_amend_refusals_name_the_problem(book_desk: Desk) -> None:
    mine = (await book_desk.submit("AAPL", BUY, 10, "149.00")).order_id
    theirs = (await book_desk.submit("AAPL", BUY, 10, "149.00", user="risk1")).order_id
    await book_desk.submit("AAPL", SELL, 10, "149.00", user="risk1")  # fills `mine` (first in the queue)

    done = await rejected(amend(book_desk, mine, quantity=5))
    other = await rejected(amend(book_desk, theirs, quantity=5))
    nothing = await rejected(amend(book_desk, theirs, user="risk1"))
    below = await rejected(amend(book_desk, theirs, user="risk1", quantity=-1))
    too_big = await rejected(amend(book_desk, theirs, user="risk1", quantity=900_000, price="149.00"))

    assert done.code() == OK.FAILED_PRECONDITION
    assert "EXECUTED" in (done.details() or "")
    assert other.code() == OK.NOT_FOUND
    assert nothing.code() == OK.INVALID_ARGUMENT
    assert below.code() == OK.INVALID_ARGUMENT
    assert too_big.code() == OK.FAILED_PRECONDITION
    assert "pre-trade risk" in (too_big.details() or "")
    assert (await book_desk.get(theirs, "risk1")).quantity == 10  # the refused amendment changed nothing


async def test_cancelling_a_partly_filled_order_releases_what_is_left(book_desk: Desk) -> None:
    order = (await book_desk.submit("AAPL", BUY, 100, "150.00")).order_id
    await book_desk.submit("AAPL", SELL, 40, "150.00", user="risk1")

    cancelled = await cancel(book_desk, order)

    assert cancelled.status == S.ORDER_STATUS_CANCELLED
    assert (cancelled.filled_quantity, cancelled.remaining_quantity) == (40, 0)
    metrics = (await book_desk.risk.GetRiskMetrics(risk_pb2.GetRiskMetricsRequest(), metadata=book_desk.md())).metrics
    assert metrics.working_exposure == "0.00"


async def test_amend_on_the_simulated_venue_is_a_failed_precondition(desk: Desk) -> None:
    desk_venue_order = (await desk.submit("AAPL", BUY, 10, "150.00")).order_id
    await desk.settled(desk_venue_order)

    error = await rejected(amend(desk, desk_venue_order, quantity=5))

    assert error.code() == OK.FAILED_PRECONDITION


# ---------------------------------------------------------------- streams and restart


async def test_the_resting_order_stream_shows_each_partial_fill(book_desk: Desk) -> None:
    maker = (await book_desk.submit("AAPL", SELL, 100, "150.00", user="risk1")).order_id
    stream = book_desk.orders.StreamOrderUpdates(
        order_pb2.StreamOrderUpdatesRequest(order_id=maker), metadata=book_desk.md("risk1")
    )
    seen: list[tuple[int, int, int]] = []
    snapshot_seen = asyncio.Event()

    async def read() -> None:
        async for item in stream:
            if item.HasField("update"):
                o = item.update.order
                seen.append((o.status, o.filled_quantity, o.remaining_quantity))
                snapshot_seen.set()
                if o.status == S.ORDER_STATUS_EXECUTED:
                    return

    reader = asyncio.create_task(read())
    await asyncio.wait_for(snapshot_seen.wait(), 10)  # the stream is open: its snapshot came
    await book_desk.submit("AAPL", BUY, 30, "150.00")
    await book_desk.submit("AAPL", BUY, 70, "150.00")
    await asyncio.wait_for(reader, 10)
    stream.cancel()

    assert seen == [
        (S.ORDER_STATUS_WORKING, 0, 100),
        (S.ORDER_STATUS_PARTIALLY_FILLED, 30, 70),
        (S.ORDER_STATUS_EXECUTED, 100, 0),
    ]


async def test_a_restart_rebuilds_identical_books_and_orders(tmp_path: Path) -> None:
    config = internal_config(tmp_path / "data")
    server: RunningServer = await serve(config)
    desk, channel = await open_desk(server)
    try:
        for i in range(30):
            side, user = (BUY, "trader1") if i % 2 else (SELL, "risk1")
            await desk.submit("AAPL", side, 10 + i, f"{150 + (i % 5) / 10:.2f}", user=user)
        await desk.submit("AAPL", BUY, 5, "149.00", time_in_force=S.TIME_IN_FORCE_DAY)
        before_books = {s: b.snapshot() for s, b in server.trading.core.matching.books.items()}
        before_orders = {
            o.order_id: (o.status, o.filled_quantity, o.quantity) for o in server.trading.core.state.order_list
        }
        before_metrics = server.trading.core.state.risk.metrics()
    finally:
        await channel.close()
        await server.shutdown(grace=1)

    again = await serve(config)
    try:
        core = again.trading.core
        assert {s: b.snapshot() for s, b in core.matching.books.items()} == before_books
        assert {o.order_id: (o.status, o.filled_quantity, o.quantity) for o in core.state.order_list} == before_orders
        assert core.state.risk.metrics() == before_metrics
        assert any(b.day_orders() for b in core.matching.books.values())
    finally:
        await again.shutdown(grace=1)


async def test_a_resume_point_beyond_the_log_is_refused_rather_than_silently_skipping(book_desk: Desk) -> None:
    from itirp.v1 import market_data_pb2, market_data_pb2_grpc

    stub = market_data_pb2_grpc.MarketDataServiceStub(book_desk.channel)
    stream = stub.StreamTrades(
        market_data_pb2.StreamTradesRequest(symbol="AAPL", from_sequence=99_999), metadata=book_desk.md()
    )

    error = await rejected(stream.read())

    assert error.code() == OK.INVALID_ARGUMENT
    assert "99999 is beyond the newest event" in (error.details() or "")
