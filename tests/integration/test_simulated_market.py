"""The default venue as a lit market, through a real server: orders cross the simulated quote or
rest, fill partly, and can be cancelled (walk-past case 4: every cancel on the default venue used to
be refused as EXECUTING); an order whose outcome is in doubt is UNKNOWN, never FAILED, and is
reconciled with the venue's status, also across a restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from itirp.config import Config
from itirp.domain.instruments import Mark
from itirp.execution.venue import SimulatedVenue
from itirp.server import RunningServer, serve
from itirp.v1 import common_pb2, events_pb2, order_pb2, risk_pb2
from tests.conftest import make_config
from tests.integration.test_trading import Desk, open_desk

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
S = common_pb2
E = events_pb2


class Board:
    """The simulated market's quotes, set by the test."""

    def __init__(self) -> None:
        self.quotes: dict[str, Mark] = {}

    def set(self, symbol: str, bid: str, ask: str) -> None:
        mid = (Decimal(bid) + Decimal(ask)) / 2
        self.quotes[symbol] = Mark(symbol=symbol, price=mid, bid=Decimal(bid), ask=Decimal(ask), source="test")

    def latest(self, symbol: str) -> Mark | None:
        return self.quotes.get(symbol)


@pytest.fixture
def board() -> Board:
    quotes = Board()
    quotes.set("AAPL", "149.99", "150.01")
    return quotes


def market(board: Board, **kwargs: object) -> SimulatedVenue:
    return SimulatedVenue(prices=board.latest, match_seconds=0.02, depth=1000, **kwargs)  # type: ignore[arg-type]


def config_for(tmp_path: Path, **overrides: object) -> Config:
    base: dict[str, object] = {
        "access_log": False,
        "retry_base_delay_seconds": 0.01,
        "execution_reconcile_seconds": 0.1,
    }
    return make_config(tmp_path / "data", **{**base, **overrides})


@pytest.fixture
async def running(tmp_path: Path, board: Board) -> AsyncIterator[tuple[RunningServer, Desk, SimulatedVenue]]:
    venue = market(board)
    server = await serve(config_for(tmp_path), venue=venue)
    desk, channel = await open_desk(server)
    try:
        yield server, desk, venue
    finally:
        await channel.close()
        await server.shutdown(grace=1)


async def until(desk: Desk, order_id: str, done: Callable[[order_pb2.Order], bool]) -> order_pb2.Order:
    for _ in range(500):
        order = await desk.get(order_id)
        if done(order):
            return order
        await asyncio.sleep(0.01)
    raise AssertionError(f"order {order_id} never got there: {order}")


async def cancel(desk: Desk, order_id: str) -> order_pb2.Order:
    reply = await desk.orders.CancelOrder(
        order_pb2.CancelOrderRequest(order_id=order_id, reason="changed my mind"), metadata=desk.md()
    )
    return reply.order


async def working_exposure(desk: Desk) -> str:
    reply = await desk.risk.GetRiskMetrics(risk_pb2.GetRiskMetricsRequest(), metadata=desk.md("risk1"))
    return reply.metrics.working_exposure


# ------------------------------------------------------------------ walk-past case 4: cancel


async def test_a_resting_order_on_the_default_venue_can_be_cancelled(
    running: tuple[RunningServer, Desk, SimulatedVenue],
) -> None:
    # Arrange: a bid below the market rests at the venue
    _, desk, _ = running
    bid = await desk.submit("AAPL", BUY, 100, "149.00")
    working = await until(desk, bid.order_id, lambda o: o.status == S.ORDER_STATUS_WORKING)
    assert working.filled_quantity == 0

    # Act
    answer = await cancel(desk, bid.order_id)

    # Assert: asked at the venue, then cancelled there (before: FAILED_PRECONDITION, "EXECUTING")
    assert answer.status in (S.ORDER_STATUS_PENDING_CANCEL, S.ORDER_STATUS_CANCELLED)
    assert (await desk.settled(bid.order_id)).status == S.ORDER_STATUS_CANCELLED
    assert await desk.trail(bid.order_id) == [
        E.EVENT_TYPE_ORDER_CREATED,
        E.EVENT_TYPE_RISK_CHECK_STARTED,
        E.EVENT_TYPE_RISK_CHECK_PASSED,
        E.EVENT_TYPE_EXECUTION_STARTED,
        E.EVENT_TYPE_ORDER_ACCEPTED,
        E.EVENT_TYPE_ORDER_CANCEL_REQUESTED,
        E.EVENT_TYPE_ORDER_CANCELLED,
    ]
    assert Decimal(await working_exposure(desk)) == 0


async def test_cancels_straight_after_submit_succeed_even_with_a_slow_venue(tmp_path: Path, board: Board) -> None:
    # Arrange: the walk-past report's setting - a slow venue, ten cancels right after their submits
    venue = market(board, latency_seconds=0.3)
    server = await serve(config_for(tmp_path), venue=venue)
    desk, channel = await open_desk(server)
    try:
        orders = [await desk.submit("AAPL", BUY, 10, "149.00") for _ in range(10)]

        # Act
        answers = await asyncio.gather(*(cancel(desk, o.order_id) for o in orders))

        # Assert: none refused; each pending at the venue, then cancelled; nothing filled
        assert {a.status for a in answers} == {S.ORDER_STATUS_PENDING_CANCEL}
        settled = [await desk.settled(o.order_id) for o in orders]
        assert {o.status for o in settled} == {S.ORDER_STATUS_CANCELLED}
        assert sum(o.filled_quantity for o in settled) == 0
        assert venue.orders_received <= 10
    finally:
        await channel.close()
        await server.shutdown(grace=1)


async def test_a_cancel_that_comes_too_late_finds_the_order_filled(tmp_path: Path, board: Board) -> None:
    # Arrange: a resting bid at a venue whose every call takes a moment
    venue = market(board, latency_seconds=0.2)
    server = await serve(config_for(tmp_path), venue=venue)
    desk, channel = await open_desk(server)
    try:
        bid = await desk.submit("AAPL", BUY, 100, "149.00")
        await until(desk, bid.order_id, lambda o: o.status == S.ORDER_STATUS_WORKING)

        # Act: the cancel is on its way when the market comes down to the bid
        answer = await cancel(desk, bid.order_id)
        board.set("AAPL", "148.90", "148.95")
        venue.match_resting()

        # Assert: the venue's fill wins - filled at the limit, not cancelled
        assert answer.status == S.ORDER_STATUS_PENDING_CANCEL
        done = await desk.settled(bid.order_id)
        assert done.status == S.ORDER_STATUS_EXECUTED
        assert (done.filled_quantity, done.average_fill_price) == (100, "149.00")
        assert (await desk.trail(bid.order_id))[-2:] == [
            E.EVENT_TYPE_ORDER_CANCEL_REQUESTED,
            E.EVENT_TYPE_ORDER_FILLED,
        ]
    finally:
        await channel.close()
        await server.shutdown(grace=1)


# ------------------------------------------------------------------ prices from the market


async def test_a_marketable_order_fills_at_the_market_and_the_rest_rests(
    running: tuple[RunningServer, Desk, SimulatedVenue], board: Board
) -> None:
    # Act: 1,500 at up to 151 against an ask of 150.01 with 1,000 offered
    _, desk, _ = running
    order = await desk.submit("AAPL", BUY, 1_500, "151.00")  # crosses 150.01, which offers 1,000
    partial = await until(desk, order.order_id, lambda o: o.status == S.ORDER_STATUS_PARTIALLY_FILLED)

    # Assert: the market's price, not the order's; the rest works at the venue
    assert (partial.filled_quantity, partial.average_fill_price) == (1_000, "150.01")
    assert [f.aggressor for f in partial.fills] == [True]

    # Act 2: that quote has given its depth; the next one offers the rest
    board.set("AAPL", "150.00", "150.02")
    done = await desk.settled(order.order_id)

    # Assert 2: the rest took the new quote, at the quote (never at its own, worse limit)
    assert done.status == S.ORDER_STATUS_EXECUTED
    assert [(f.quantity, f.price, f.aggressor) for f in done.fills] == [(1_000, "150.01", True), (500, "150.02", True)]


async def test_an_order_never_trades_at_its_own_price_when_the_market_is_elsewhere(
    running: tuple[RunningServer, Desk, SimulatedVenue],
) -> None:
    # Walk-past case 1's mechanism: the old venue filled `BUY 1 @ 0.01` at 0.01. Now it rests.
    _, desk, _ = running
    cheap = await desk.submit("AAPL", BUY, 1, "0.01")
    assert (await until(desk, cheap.order_id, lambda o: o.status == S.ORDER_STATUS_WORKING)).filled_quantity == 0
    positions = await desk.positions()
    assert [p for p in positions.positions if p.symbol == "AAPL"] == []


# ------------------------------------------------------------------ doubt, and reconciliation


async def test_an_order_whose_outcome_is_unknown_is_unknown_then_reconciled(tmp_path: Path, board: Board) -> None:
    # Arrange: every call fails (half of them after the venue processed it) - seeded
    venue = market(board, failure_rate=1.0, seed=11)
    config = config_for(tmp_path, execution_attempts=2, execution_reconcile_seconds=0.05, breaker_threshold=100)
    server = await serve(config, venue=venue)
    desk, channel = await open_desk(server)
    try:
        orders = [await desk.submit("AAPL", BUY, 10, "151.00") for _ in range(6)]
        unknown = [await until(desk, o.order_id, lambda o: o.status == S.ORDER_STATUS_UNKNOWN) for o in orders]
        assert all("unknown" in o.message for o in unknown)
        assert Decimal(await working_exposure(desk)) > 0  # still counted against risk

        # Act: the venue answers again
        venue.failure_rate = 0.0

        # Assert: each resolved by the venue's own answer - filled where it got there, never-arrived otherwise
        final = (S.ORDER_STATUS_EXECUTED, S.ORDER_STATUS_FAILED)
        settled = [await until(desk, o.order_id, lambda o: o.status in final) for o in orders]
        by_status = {o.order_id: o.status for o in settled}
        assert set(by_status.values()) <= {S.ORDER_STATUS_EXECUTED, S.ORDER_STATUS_FAILED}
        for o in settled:
            at_venue = await venue.status(o.order_id)
            if o.status == S.ORDER_STATUS_EXECUTED:
                assert at_venue is not None
                assert at_venue.filled_quantity == o.filled_quantity == 10
            else:
                assert at_venue is None
                assert "never arrived" in o.message
        assert venue.orders_received == sum(1 for s in by_status.values() if s == S.ORDER_STATUS_EXECUTED)
    finally:
        await channel.close()
        await server.shutdown(grace=1)


async def test_a_restart_reconciles_orders_with_what_the_venue_did_meanwhile(tmp_path: Path, board: Board) -> None:
    # Arrange: two bids rest at a venue that outlives the server
    venue = market(board)
    config = config_for(tmp_path)
    server = await serve(config, venue=venue)
    desk, channel = await open_desk(server)
    filled = await desk.submit("AAPL", BUY, 100, "149.00")
    resting = await desk.submit("AAPL", BUY, 100, "140.00")
    for order in (filled, resting):
        await until(desk, order.order_id, lambda o: o.status == S.ORDER_STATUS_WORKING)
    await channel.close()
    await server.shutdown(grace=1)

    # Act: while the server is down the market trades through one of them; then it starts again
    board.set("AAPL", "148.90", "148.95")
    venue.match_resting()
    server = await serve(config, venue=venue)
    desk, channel = await open_desk(server)
    try:
        # Assert: the fill is found by asking the venue at start; the other still works and cancels
        done = await desk.get(filled.order_id)
        assert (done.status, done.filled_quantity, done.average_fill_price) == (S.ORDER_STATUS_EXECUTED, 100, "149.00")
        assert (await desk.get(resting.order_id)).status == S.ORDER_STATUS_WORKING
        await cancel(desk, resting.order_id)
        assert (await desk.settled(resting.order_id)).status == S.ORDER_STATUS_CANCELLED
    finally:
        await channel.close()
        await server.shutdown(grace=1)


async def test_a_restarted_venue_with_no_record_cancels_what_was_working(tmp_path: Path, board: Board) -> None:
    # Arrange: the simulator lives in the server process: a restart ends its session
    config = config_for(tmp_path)
    server = await serve(config, venue=market(board))
    desk, channel = await open_desk(server)
    bid = await desk.submit("AAPL", BUY, 100, "149.00")
    await until(desk, bid.order_id, lambda o: o.status == S.ORDER_STATUS_WORKING)
    await channel.close()
    await server.shutdown(grace=1)

    # Act
    server = await serve(config, venue=market(board))
    desk, channel = await open_desk(server)
    try:
        # Assert: nothing works at the venue any more, and the book says so at once
        gone = await desk.get(bid.order_id)
        assert gone.status == S.ORDER_STATUS_CANCELLED
        assert "no record" in gone.message
        assert Decimal(await working_exposure(desk)) == 0
    finally:
        await channel.close()
        await server.shutdown(grace=1)


async def test_an_order_at_an_external_venue_cannot_be_amended_and_says_why(
    running: tuple[RunningServer, Desk, SimulatedVenue],
) -> None:
    _, desk, _ = running
    bid = await desk.submit("AAPL", BUY, 100, "149.00")
    await until(desk, bid.order_id, lambda o: o.status == S.ORDER_STATUS_WORKING)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await desk.orders.AmendOrder(
            order_pb2.AmendOrderRequest(order_id=bid.order_id, price="149.50"), metadata=desk.md()
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "takes no amendments: cancel it and send a new order" in (caught.value.details() or "")
