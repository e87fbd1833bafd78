"""The client library and the internal venue: order types, amendments and fills on a real server;
the local order book and the trade stream, against the real MarketDataService and against a
scripted one (to drive the protocol's corner cases: a server-sent snapshot, a gap, a drop)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import threading
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest

import itirp_client
from itirp.server import RunningServer, serve
from itirp.v1 import common_pb2, market_data_pb2, market_data_pb2_grpc
from itirp_client import AsyncClient, Level, OrderBook
from tests.conftest import make_config

S = common_pb2
DOC = Path(__file__).resolve().parents[2] / "docs" / "clients.md"
LIVE = (S.ORDER_STATUS_WORKING, S.ORDER_STATUS_PARTIALLY_FILLED)


@pytest.fixture
async def venue(tmp_path: Path) -> AsyncIterator[RunningServer]:
    """A real server whose approved orders meet the internal venue's order book."""
    running = await serve(make_config(tmp_path / "data", venue="internal"))
    try:
        yield running
    finally:
        await running.shutdown(grace=0.5)


async def need_market_data(client: AsyncClient) -> None:
    try:
        await client.order_book("PROBE", 1)
    except itirp_client.ItirpError as exc:
        if exc.code == "UNIMPLEMENTED":
            pytest.skip("MarketDataService is not wired into the server yet (UNIMPLEMENTED)")
        raise


async def first(stream: AsyncIterator[Any]) -> Any:
    return await asyncio.wait_for(anext(stream), 15)


# ---------------------------------------------------------------------------------- orders


async def test_order_types_time_in_force_and_fills(venue) -> None:  # type: ignore[no-untyped-def]
    async with (
        await itirp_client.aconnect(venue.address, "trader1", "trader123") as maker,
        await itirp_client.aconnect(venue.address, "risk1", "risk123") as taker,
    ):
        ask1 = await maker.submit_order("ACMX", "SELL", 10, "100")
        ask2 = await maker.submit_order(
            "ACMX", "sell", 10, "101.5", time_in_force="day", self_trade_prevention="cancel-both"
        )
        assert ask1.status == S.ORDER_STATUS_WORKING
        assert ask1.order.remaining_quantity == 10
        assert ask1.order.order_type == S.ORDER_TYPE_LIMIT
        assert ask1.order.time_in_force == S.TIME_IN_FORCE_GTC
        assert ask2.order.time_in_force == S.TIME_IN_FORCE_DAY
        assert ask2.order.self_trade_prevention == S.SELF_TRADE_PREVENTION_CANCEL_BOTH

        # a market order takes the best prices first; names, prefixed names and numbers all work
        bought = await taker.submit_order("ACMX", "BUY", 15, order_type="market", time_in_force="TIME_IN_FORCE_IOC")
        order = bought.order
        assert (bought.status, order.order_type, order.time_in_force) == (
            S.ORDER_STATUS_EXECUTED,
            S.ORDER_TYPE_MARKET,
            S.TIME_IN_FORCE_IOC,
        )
        assert (order.filled_quantity, order.remaining_quantity, order.price) == (15, 0, "")
        assert [(f.quantity, f.price, f.aggressor) for f in order.fills] == [(10, "100.00", True), (5, "101.50", True)]
        assert order.fills[0].sequence < order.fills[1].sequence

        rested = await maker.get_order(ask2.order_id)
        assert (rested.status, rested.filled_quantity, rested.remaining_quantity) == (
            S.ORDER_STATUS_PARTIALLY_FILLED,
            5,
            5,
        )
        assert [(f.quantity, f.aggressor, f.trade_id) for f in rested.fills] == [(5, False, order.fills[1].trade_id)]
        assert (await maker.get_order(ask1.order_id)).status == S.ORDER_STATUS_EXECUTED

        # fill or kill: nothing at once is nothing at all
        fok = await taker.submit_order("ACMX", "BUY", 50, "101.5", time_in_force=S.TIME_IN_FORCE_FOK)
        assert (fok.status, fok.order.filled_quantity) == (S.ORDER_STATUS_CANCELLED, 0)
        ioc = await taker.submit_order("ACMX", "BUY", 50, "101.5", time_in_force="ioc")
        # immediate or cancel: what trades at once trades, the rest is cancelled
        assert (ioc.status, ioc.order.filled_quantity, ioc.order.remaining_quantity) == (S.ORDER_STATUS_CANCELLED, 5, 0)

        with pytest.raises(ValueError, match="order_type must be one of LIMIT, MARKET"):
            await maker.submit_order("ACMX", "BUY", 1, "1", order_type="stop")
        with pytest.raises(ValueError, match="time_in_force"):
            await maker.submit_order("ACMX", "BUY", 1, "1", time_in_force="gtd")
        with pytest.raises(itirp_client.InvalidRequest) as priced_market:
            await maker.submit_order("ACMX", "BUY", 1, "100", order_type="MARKET")
        assert priced_market.value.field == "price"


async def test_amend_keeps_or_loses_priority_and_refuses_what_is_not_resting(venue) -> None:  # type: ignore[no-untyped-def]
    async with (
        await itirp_client.aconnect(venue.address, "trader1", "trader123") as maker,
        await itirp_client.aconnect(venue.address, "risk1", "risk123") as taker,
    ):
        first_in = await maker.submit_order("AMND", "BUY", 10, "50")
        second_in = await maker.submit_order("AMND", "BUY", 10, "50")

        smaller = await maker.amend_order(first_in.order_id, quantity=8)
        assert smaller.priority_kept
        assert smaller.order.quantity == 8
        assert smaller.order.remaining_quantity == 8
        repriced = await maker.amend_order(first_in.order_id, price="50.25")
        assert not repriced.priority_kept
        assert repriced.order.price == "50.25"
        larger = await maker.amend_order(second_in.order_id, quantity=12)
        assert not larger.priority_kept
        assert larger.order.remaining_quantity == 12

        hit = await taker.submit_order("AMND", "SELL", 10, "50")  # 8 at the better price, 2 of the other
        assert [(f.quantity, f.price) for f in hit.order.fills] == [(8, "50.25"), (2, "50.00")]
        partly = await maker.get_order(second_in.order_id)
        assert (partly.status, partly.filled_quantity, partly.remaining_quantity) == (
            S.ORDER_STATUS_PARTIALLY_FILLED,
            2,
            10,
        )

        # the new total size includes the filled part and must stay above it
        with pytest.raises(itirp_client.InvalidRequest) as too_small:
            await maker.amend_order(second_in.order_id, quantity=2)
        assert too_small.value.field == "quantity"
        with pytest.raises(itirp_client.InvalidRequest):
            await maker.amend_order(second_in.order_id)  # nothing to change
        with pytest.raises(itirp_client.OrderStateConflict):
            await maker.amend_order(first_in.order_id, quantity=5)  # executed: no longer resting
        with pytest.raises(TypeError):
            await maker.amend_order(second_in.order_id, price=50.5)  # type: ignore[arg-type]

        # a new price that crosses trades at once
        ask = await taker.submit_order("AMND", "SELL", 3, "51")
        crossed = await maker.amend_order(second_in.order_id, price="51")
        assert crossed.order.filled_quantity == 5
        assert crossed.order.remaining_quantity == 7
        assert (await taker.get_order(ask.order_id)).status == S.ORDER_STATUS_EXECUTED


class DropFirstAmendReply(grpc.aio.ServerInterceptor):
    """Lets the first AmendOrder through, then loses its reply (UNAVAILABLE)."""

    def __init__(self) -> None:
        self.dropped = False

    async def intercept_service(self, continuation, details):  # type: ignore[no-untyped-def]
        handler = await continuation(details)
        if not details.method.endswith("/AmendOrder") or self.dropped:
            return handler
        inner = handler.unary_unary

        async def drop(request, context):  # type: ignore[no-untyped-def]
            await inner(request, context)
            self.dropped = True
            await context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset (test)")

        return grpc.unary_unary_rpc_method_handler(
            drop, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )


async def test_a_lost_amend_reply_is_retried_safely(tmp_path: Path) -> None:
    gremlin = DropFirstAmendReply()
    server = await serve(make_config(tmp_path / "data", venue="internal"), extra_interceptors=[gremlin])
    try:
        async with await itirp_client.aconnect(server.address, "trader1", "trader123") as desk:
            resting = await desk.submit_order("RTRY", "BUY", 10, "20")
            reply = await desk.amend_order(resting.order_id, quantity=6, price="20.5")
            assert gremlin.dropped
            assert (reply.order.quantity, reply.order.price, reply.order.remaining_quantity) == (6, "20.50", 6)
    finally:
        await server.shutdown(grace=0)


# ---------------------------------------------------------------------------------- the real market data service


async def test_book_stream_ends_equal_to_get_order_book(venue) -> None:  # type: ignore[no-untyped-def]
    async with (
        await itirp_client.aconnect(venue.address, "trader1", "trader123") as maker,
        await itirp_client.aconnect(venue.address, "risk1", "risk123") as taker,
    ):
        await need_market_data(maker)
        await maker.submit_order("BOOK", "BUY", 10, "99")  # before the subscription: in the snapshot
        stream = taker.order_book_stream("BOOK", depth=5)
        try:
            start = await first(stream)
            assert start.snapshot
            assert start.bids == (Level("99.00", 10),)
            assert start.asks == ()

            ids = []
            for qty, price in ((5, "101"), (7, "102"), (3, "101"), (4, "103.25")):
                ids.append((await maker.submit_order("BOOK", "SELL", qty, price)).order_id)
            await maker.submit_order("BOOK", "BUY", 6, "98.5")
            await taker.submit_order("BOOK", "BUY", 6, order_type="market")  # takes 5 + 1 at 101
            await maker.amend_order(ids[1], quantity=4)
            await maker.cancel_order(ids[3])
            await taker.submit_order("BOOK", "SELL", 12, "98.5", time_in_force="ioc")  # 10 at 99, 2 at 98.5

            final = OrderBook.from_snapshot(await taker.order_book("BOOK", depth=5))
            assert final.bids == (Level("98.50", 4),)
            assert final.asks == (Level("101.00", 2), Level("102.00", 4))

            book = start
            while book.sequence < final.sequence:
                book = await first(stream)
                assert not book.snapshot
                assert book.update is not None
            assert book.sequence == final.sequence
            assert (book.bids, book.asks) == (final.bids, final.asks)
            assert book.same_levels(final)
            assert book.spread == final.spread == Decimal("2.5")
            assert book.resubscriptions == 0
        finally:
            await stream.aclose()  # type: ignore[attr-defined]


class DropOneBookUpdate(grpc.aio.ServerInterceptor):
    """Swallows the second update of the first StreamOrderBook call: the client sees a gap."""

    def __init__(self) -> None:
        self.dropped = False
        self.calls = 0

    async def intercept_service(self, continuation, details):  # type: ignore[no-untyped-def]
        handler = await continuation(details)
        if not details.method.endswith("/StreamOrderBook"):
            return handler
        inner = handler.unary_stream
        interceptor = self

        async def tamper(request, context):  # type: ignore[no-untyped-def]
            interceptor.calls += 1
            updates = 0
            async for item in inner(request, context):
                if item.WhichOneof("kind") == "update" and not interceptor.dropped:
                    updates += 1
                    if updates == 2:
                        interceptor.dropped = True
                        continue
                yield item

        return grpc.unary_stream_rpc_method_handler(
            tamper, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )


async def test_book_stream_resubscribes_after_a_gap(tmp_path: Path) -> None:
    gremlin = DropOneBookUpdate()
    server = await serve(make_config(tmp_path / "data", venue="internal"), extra_interceptors=[gremlin])
    try:
        async with await itirp_client.aconnect(server.address, "trader1", "trader123") as desk:
            await need_market_data(desk)
            stream = desk.order_book_stream("GAP")
            try:
                books = [await first(stream)]
                for i in range(4):
                    await desk.submit_order("GAP", "BUY", 1 + i, f"{10 + i}")
                final = OrderBook.from_snapshot(await desk.order_book("GAP"))
                while books[-1].sequence < final.sequence:
                    books.append(await first(stream))
                assert gremlin.dropped
                assert gremlin.calls == 2
                resubscribed = [b for b in books if b.resubscriptions == 1]
                assert resubscribed
                assert resubscribed[0].snapshot
                assert books[-1].same_levels(final)
                assert books[-1].sequence == final.sequence
                assert len(books[-1].bids) == 4
            finally:
                await stream.aclose()  # type: ignore[attr-defined]
    finally:
        await server.shutdown(grace=0)


async def test_trades_resume_across_a_server_restart_with_nothing_missed_or_repeated(tmp_path: Path) -> None:
    config = make_config(tmp_path / "data", venue="internal")
    server = await serve(config)
    config = config.replace(listen=server.address)
    maker = await itirp_client.aconnect(server.address, "trader1", "trader123")
    taker = await itirp_client.aconnect(server.address, "risk1", "risk123")
    trades: list[market_data_pb2.Trade] = []
    live = asyncio.Event()

    async def watch() -> None:
        async for item in taker.trades("TRD", markers=True):
            if item.WhichOneof("kind") == "trade":
                trades.append(item.trade)
            else:
                live.set()

    watcher: asyncio.Task[None] | None = None
    try:
        await need_market_data(maker)
        watcher = asyncio.create_task(watch())
        await asyncio.wait_for(live.wait(), 15)
        takes = []
        for i in range(3):
            await maker.submit_order("TRD", "SELL", 2, f"{20 + i}")
            takes.append(await taker.submit_order("TRD", "BUY", 2, order_type="market"))
        await server.shutdown(grace=1)

        server = await serve(config)  # the stream reconnects by itself, after the last trade it had
        for _ in range(3):
            await maker.submit_order("TRD", "SELL", 3, "30")
            takes.append(await taker.submit_order("TRD", "BUY", 3, "30", time_in_force="ioc"))

        expected = [f.sequence for t in takes for f in t.order.fills if f.aggressor]
        assert len(expected) == 6
        for _ in range(1000):
            if len(trades) >= 6:
                break
            await asyncio.sleep(0.01)
        assert [t.sequence for t in trades] == expected  # every trade, once, in order
        assert [(t.quantity, t.aggressor_side) for t in trades] == [(2, S.SIDE_BUY)] * 3 + [(3, S.SIDE_BUY)] * 3
        assert [t.price for t in trades] == ["20.00", "21.00", "22.00", "30.00", "30.00", "30.00"]

        # replaying from a sequence gives the same trades after it
        replay = taker.trades("TRD", from_sequence=expected[2])
        try:
            assert [(await first(replay)).trade.sequence for _ in range(3)] == expected[3:]
        finally:
            await replay.aclose()  # type: ignore[attr-defined]
    finally:
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        await maker.close()
        await taker.close()
        await server.shutdown(grace=0)


async def test_market_data_needs_the_internal_venue(server) -> None:  # type: ignore[no-untyped-def]
    async with await itirp_client.aconnect(server.address, "trader1", "trader123") as desk:
        await need_market_data_or_refused(desk)


async def need_market_data_or_refused(desk: AsyncClient) -> None:
    with pytest.raises(itirp_client.ItirpError) as refused:
        await desk.order_book("AAPL")
    if refused.value.code == "UNIMPLEMENTED":
        pytest.skip("MarketDataService is not wired into the server yet (UNIMPLEMENTED)")
    assert isinstance(refused.value, itirp_client.OrderStateConflict)
    assert "--venue internal" in refused.value.message


# ---------------------------------------------------------------------------------- a scripted market data service


class ScriptedMarketData(market_data_pb2_grpc.MarketDataServiceServicer):
    """Plays one script per call (a list of messages; an exception instance ends the call with it)."""

    def __init__(self, books: list[list[Any]], trades: list[list[Any]]) -> None:
        self.books, self.trades = books, trades
        self.book_requests: list[market_data_pb2.StreamOrderBookRequest] = []
        self.trade_requests: list[market_data_pb2.StreamTradesRequest] = []
        self.release = asyncio.Event()

    async def _play(self, script: list[Any], context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        for item in script:
            if isinstance(item, grpc.StatusCode):
                await context.abort(item, "scripted")
            if isinstance(item, grpc.Status):  # with error details, as the server sends them
                await context.abort_with_status(item)
            yield item
        await self.release.wait()  # then stay open, like a quiet live stream

    async def StreamOrderBook(self, request, context):  # type: ignore[no-untyped-def]
        self.book_requests.append(request)
        async for item in self._play(self.books.pop(0), context):
            yield item

    async def StreamTrades(self, request, context):  # type: ignore[no-untyped-def]
        self.trade_requests.append(request)
        async for item in self._play(self.trades.pop(0), context):
            yield item


def snapshot(seq: int, bids: list[tuple[str, int]], asks: list[tuple[str, int]], depth: int = 3) -> Any:
    return market_data_pb2.StreamOrderBookResponse(
        snapshot=market_data_pb2.OrderBookSnapshot(
            symbol="SCR",
            sequence=seq,
            event_sequence=100 + seq,
            depth=depth,
            bids=[market_data_pb2.PriceLevel(price=p, quantity=q) for p, q in bids],
            asks=[market_data_pb2.PriceLevel(price=p, quantity=q) for p, q in asks],
        )
    )


def update(prev: int, seq: int, *levels: tuple[int, str, int]) -> Any:
    return market_data_pb2.StreamOrderBookResponse(
        update=market_data_pb2.OrderBookUpdate(
            symbol="SCR",
            sequence=seq,
            previous_sequence=prev,
            event_sequence=100 + seq,
            levels=[market_data_pb2.LevelUpdate(side=s, price=p, quantity=q) for s, p, q in levels],
        )
    )


def trade(seq: int) -> Any:
    return market_data_pb2.StreamTradesResponse(
        trade=market_data_pb2.Trade(
            trade_id=f"t{seq}", symbol="SCR", price="10.00", quantity=1, aggressor_side=S.SIDE_BUY, sequence=seq
        )
    )


def caught_up(seq: int) -> Any:
    return market_data_pb2.StreamTradesResponse(caught_up=common_pb2.StreamCaughtUp(sequence=seq))


@contextlib.asynccontextmanager
async def scripted(service: ScriptedMarketData) -> AsyncIterator[AsyncClient]:
    grpc_server = grpc.aio.server()
    market_data_pb2_grpc.add_MarketDataServiceServicer_to_server(service, grpc_server)
    port = grpc_server.add_insecure_port("127.0.0.1:0")
    await grpc_server.start()
    client = AsyncClient(f"127.0.0.1:{port}", retry=itirp_client.RetryPolicy(base_delay=0.01, max_delay=0.05))
    try:
        yield client
    finally:
        service.release.set()
        await client.close()
        await grpc_server.stop(0)


B, A = S.SIDE_BUY, S.SIDE_SELL


async def test_local_book_follows_snapshots_updates_gaps_and_drops() -> None:
    service = ScriptedMarketData(
        books=[
            [
                snapshot(5, [("100.00", 10), ("99.00", 4)], [("101.00", 5)]),
                update(5, 6, (B, "100.50", 3), (A, "101.00", 2)),
                market_data_pb2.StreamOrderBookResponse(heartbeat=common_pb2.StreamHeartbeat(head_sequence=200)),
                snapshot(9, [("100.00", 1)], [("101.00", 7), ("102.00", 1)]),  # replaces the book
                update(9, 10, (A, "101.00", 0), (A, "101.5", 4)),  # "101.5" and "101.50" are one price
                update(10, 11, (A, "101.50", 6)),
                update(12, 13, (B, "100.00", 9)),  # previous 12 is not the 11 applied: a gap
            ],
            [
                snapshot(15, [("100.00", 9)], [("101.50", 6), ("102.00", 1)]),
                update(15, 16, (B, "99.00", 2)),
                grpc.StatusCode.UNAVAILABLE,  # a dropped connection
            ],
            [
                snapshot(16, [("100.00", 9), ("99.00", 2)], [("101.50", 6), ("102.00", 1)]),
                update(16, 18, (B, "100.25", 1), (B, "98.00", 5)),  # a 4th bid: out of the depth of 3
            ],
        ],
        trades=[],
    )
    async with scripted(service) as client:
        stream = client.order_book_stream("SCR", depth=3)
        try:
            books = [await first(stream) for _ in range(9)]
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    assert [r.symbol for r in service.book_requests] == ["SCR"] * 3
    assert [r.depth for r in service.book_requests] == [3] * 3
    assert [b.sequence for b in books] == [5, 6, 9, 10, 11, 15, 16, 16, 18]
    assert [b.snapshot for b in books] == [True, False, True, False, False, True, False, True, False]
    assert [b.resubscriptions for b in books] == [0, 0, 0, 0, 0, 1, 1, 2, 2]
    assert books[1].bids == (Level("100.50", 3), Level("100.00", 10), Level("99.00", 4))
    assert books[1].asks == (Level("101.00", 2),)
    assert books[1].update is not None
    assert len(books[1].update.levels) == 2
    assert books[4].asks == (Level("101.50", 6), Level("102.00", 1))
    assert books[4].bids == (Level("100.00", 1),)
    assert books[4].event_sequence == 111
    assert books[8].bids == (Level("100.25", 1), Level("100.00", 9), Level("99.00", 2))
    assert books[8].best_bid == Level("100.25", 1)
    assert books[8].best_ask == Level("101.50", 6)
    assert str(books[8].spread) == "1.25"
    assert books[8].ladder() == [
        (Level("100.25", 1), Level("101.50", 6)),
        (Level("100.00", 9), Level("102.00", 1)),
        (Level("99.00", 2), None),
    ]
    as_snapshot = books[8].to_snapshot()
    assert as_snapshot.sequence == 18
    assert [lv.price for lv in as_snapshot.bids] == ["100.25", "100.00", "99.00"]
    assert OrderBook.from_snapshot(as_snapshot).same_levels(books[8])


async def test_trades_resume_after_the_last_trade_with_no_repeat() -> None:
    service = ScriptedMarketData(
        books=[],
        trades=[
            [caught_up(100), trade(101), trade(103), grpc.StatusCode.UNAVAILABLE],
            [trade(103), trade(105), caught_up(105), grpc.StatusCode.UNAVAILABLE],  # 103 again: not repeated
            [caught_up(105), trade(108)],
        ],
    )
    async with scripted(service) as client:
        stream = client.trades("SCR")
        try:
            got = [(await first(stream)).trade.sequence for _ in range(4)]
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
    assert got == [101, 103, 105, 108]
    assert [r.from_sequence for r in service.trade_requests] == [0, 103, 105]


async def test_trades_resume_where_the_error_details_say_after_the_delay_they_ask_for() -> None:
    """A slow-consumer cut-off carries google.rpc.Status details over the wire: ErrorInfo
    (SUBSCRIBER_TOO_SLOW, resume_from_sequence) and RetryInfo; the stream resumes from there."""
    from google.protobuf.duration_pb2 import Duration
    from google.rpc import code_pb2, error_details_pb2, status_pb2
    from grpc_status import rpc_status

    status = status_pb2.Status(code=code_pb2.RESOURCE_EXHAUSTED, message="subscriber fell behind and was cut off")
    status.details.add().Pack(
        error_details_pb2.ErrorInfo(
            reason="SUBSCRIBER_TOO_SLOW", domain="itirp.v1", metadata={"resume_from_sequence": "150"}
        )
    )
    status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=Duration(nanos=20_000_000)))
    service = ScriptedMarketData(books=[], trades=[[trade(101), rpc_status.to_status(status)], [trade(151)]])
    async with scripted(service) as client:
        stream = client.trades("SCR")
        try:
            got = [(await first(stream)).trade.sequence for _ in range(2)]
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
    assert got == [101, 151]
    assert [r.from_sequence for r in service.trade_requests] == [0, 150]


async def test_error_details_reach_the_typed_error_over_the_wire() -> None:
    from google.rpc import code_pb2, error_details_pb2, status_pb2
    from grpc_status import rpc_status

    status = status_pb2.Status(code=code_pb2.FAILED_PRECONDITION, message="start the server with --venue internal")
    status.details.add().Pack(error_details_pb2.ErrorInfo(reason="VENUE_NOT_INTERNAL", domain="itirp.v1"))
    service = ScriptedMarketData(books=[], trades=[[rpc_status.to_status(status)]])
    async with scripted(service) as client:
        stream = client.trades("SCR")
        with pytest.raises(itirp_client.OrderStateConflict) as refused:
            await first(stream)
    assert refused.value.reason == itirp_client.Reason.VENUE_NOT_INTERNAL
    assert refused.value.message == "start the server with --venue internal"


def test_the_blocking_client_amends_and_reads_market_data(tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    box: list[RunningServer] = []
    ready = threading.Event()

    def run_server() -> None:
        asyncio.set_event_loop(loop)
        box.append(loop.run_until_complete(serve(make_config(tmp_path / "data", venue="internal"))))
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run_server, daemon=True)
    thread.start()
    assert ready.wait(30)
    server = box[0]
    try:
        with itirp_client.connect(server.address, "trader1", "trader123") as desk:
            resting = desk.submit_order("SYNC", "BUY", 5, "9.99", time_in_force="gtc")
            assert resting.status == S.ORDER_STATUS_WORKING
            amended = desk.amend_order(resting.order_id, quantity=4)
            assert amended.priority_kept
            assert amended.order.remaining_quantity == 4
            try:
                snap = desk.order_book("SYNC", 1)
            except itirp_client.ItirpError as exc:
                if exc.code == "UNIMPLEMENTED":
                    pytest.skip("MarketDataService is not wired into the server yet (UNIMPLEMENTED)")
                raise
            assert OrderBook.from_snapshot(snap).bids == (Level("9.99", 4),)
            stream = desk.order_book_stream("SYNC", 1)
            book = next(stream)
            stream.close()
            assert book.sequence == snap.sequence
            assert book.same_levels(snap)
            trades = desk.trades("SYNC", from_sequence=1, markers=True)
            assert next(trades).WhichOneof("kind") == "caught_up"  # nothing traded yet
            trades.close()
    finally:
        asyncio.run_coroutine_threadsafe(server.shutdown(grace=0), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


# ---------------------------------------------------------------------------------- docs/clients.md


async def test_the_documented_market_example_runs(venue) -> None:  # type: ignore[no-untyped-def]
    (code,) = re.findall(r"```python internal-venue\n(.*?)```", DOC.read_text(), re.S)
    async with await itirp_client.aconnect(venue.address, "trader1", "trader123") as desk:
        await need_market_data(desk)
    code = code.replace("127.0.0.1:50051", venue.address)
    out = io.StringIO()

    def run() -> None:
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(DOC), "exec"), {})

    await asyncio.to_thread(run)
    assert out.getvalue().splitlines() == EXPECTED_DOC_OUTPUT


EXPECTED_DOC_OUTPUT = [
    "ORDER_STATUS_WORKING 100",
    "True 80",
    "ORDER_STATUS_EXECUTED 30 150.50",
    "150.50 50",
    "BUY 30 @ 150.50",
]
