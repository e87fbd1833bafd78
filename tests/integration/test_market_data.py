"""itirp.v1.MarketDataService over real loopback gRPC channels.

Two parts:

* `local`: the servicer and a real `MarketDataHub` on their own grpc.aio server, behind the real
  interceptor, sharing a real running server's event store, fan-out and authentication. Book
  changes are recorded by hand against real appended events (as the trading core does: before the
  events are durable), so these run whatever the trading core does.
* `WIRED`: the server as `serve()` builds it with the internal venue: orders build the books.
  Skipped until the server registers MarketDataService (they switch on by themselves then).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from itirp.app.marketdata import MarketDataHub
from itirp.domain.book import BUY, SELL, LevelChange
from itirp.server import RunningServer, serve
from itirp.server.bootstrap import SERVICE_NAMES
from itirp.server.interceptors import CallInterceptor
from itirp.server.servicers.market_data import DISABLED_MESSAGE, MarketDataServicer
from itirp.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    common_pb2,
    events_pb2,
    market_data_pb2,
    market_data_pb2_grpc,
    order_pb2,
    order_pb2_grpc,
)
from tests.conftest import bearer, login, make_config
from tests.integration.test_audit import read_to_end

MD = market_data_pb2
WIRED = market_data_pb2.DESCRIPTOR.services_by_name["MarketDataService"].full_name in SERVICE_NAMES
wired = pytest.mark.skipif(not WIRED, reason="MarketDataService is not wired into the server yet (bootstrap)")


class Client:
    """A StreamOrderBook client: replace on a snapshot, apply updates, check the sequence chain."""

    def __init__(self) -> None:
        self.bids: dict[Decimal, int] = {}
        self.asks: dict[Decimal, int] = {}
        self.sequence: int | None = None
        self.snapshots = 0
        self.updates = 0
        self.heartbeats: list[common_pb2.StreamHeartbeat] = []

    def apply(self, message: MD.StreamOrderBookResponse) -> None:
        kind = message.WhichOneof("kind")
        if kind == "snapshot":
            book = message.snapshot
            self.bids = {Decimal(level.price): level.quantity for level in book.bids}
            self.asks = {Decimal(level.price): level.quantity for level in book.asks}
            self.sequence = book.sequence
            self.snapshots += 1
        elif kind == "update":
            update = message.update
            assert self.sequence is not None, "an update before the first snapshot"
            assert update.previous_sequence == self.sequence, "gap in the update chain"
            for level in update.levels:
                levels = self.bids if level.side == common_pb2.SIDE_BUY else self.asks
                if level.quantity:
                    levels[Decimal(level.price)] = level.quantity
                else:
                    del levels[Decimal(level.price)]
            self.sequence = update.sequence
            self.updates += 1
        else:
            self.heartbeats.append(message.heartbeat)

    def book(self) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        return (
            [(str(p), q) for p, q in sorted(self.bids.items(), reverse=True)],
            [(str(p), q) for p, q in sorted(self.asks.items())],
        )


def as_levels(book: MD.OrderBookSnapshot) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    return (
        [(str(Decimal(lv.price)), lv.quantity) for lv in book.bids],
        [(str(Decimal(lv.price)), lv.quantity) for lv in book.asks],
    )


async def follow(stream: grpc.aio.UnaryStreamCall, client: Client, until_sequence: int) -> None:
    while client.sequence is None or client.sequence < until_sequence:
        message = await stream.read()
        assert message is not grpc.aio.EOF
        client.apply(message)


# --- local: the servicer and a hub on their own server ------------------------------------------


@dataclass
class Local:
    running: RunningServer
    hub: MarketDataHub
    stub: market_data_pb2_grpc.MarketDataServiceStub
    channel: grpc.aio.Channel  # to the running server (login, logout)
    sides: dict[str, int]
    token: str

    @property
    def md(self) -> tuple[tuple[str, str], ...]:
        return bearer(self.token)

    def event(
        self,
        symbol: str,
        changes: list[LevelChange] | None = None,
        *,
        fill: events_pb2.OrderFilled | None = None,
        order_id: str = "o-carrier",
    ) -> Awaitable[object]:
        """Append one event (an ORDER_FILLED: a trade when `fill` says aggressor) and record its
        book changes at once, as the core does; await the result for durability."""
        journal = self.running.journal
        payload = fill or events_pb2.OrderFilled(trade_id="t-none", quantity=1, price="1", aggressor=False)
        pending = self.running.store.append(
            [journal.new(payload, correlation_id="market-data-test", order_id=order_id, symbol=symbol)]
        )
        (stored,) = pending.events  # type: ignore[attr-defined]
        if changes:
            self.hub.record(stored.sequence, stored.timestamp_us, symbol, changes)
        return pending


async def start_local(running: RunningServer, *, enabled: bool = True, heartbeat_seconds: float = 3600.0):  # type: ignore[no-untyped-def]
    hub = MarketDataHub(lambda: running.store.head_sequence, max_queue=50)
    running.store.add_listener(hub.on_commit)
    sides: dict[str, int] = {}
    servicer = MarketDataServicer(
        hub,
        running.fanout,
        side_of=lambda order_id: sides[order_id],
        clock=lambda: 1_700_000_000.0,
        heartbeat_seconds=heartbeat_seconds,
        enabled=enabled,
    )
    server = grpc.aio.server(interceptors=[CallInterceptor(running.auth, access_log_enabled=False)])
    market_data_pb2_grpc.add_MarketDataServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, hub, sides, port


@pytest.fixture
async def local(
    server: RunningServer, channel: grpc.aio.Channel, request: pytest.FixtureRequest
) -> AsyncIterator[Local]:
    options = getattr(request, "param", {})
    md_server, hub, sides, port = await start_local(server, **options)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as md_channel:
            token = (await login(channel, "trader1")).access_token
            yield Local(server, hub, market_data_pb2_grpc.MarketDataServiceStub(md_channel), channel, sides, token)
    finally:
        hub.end_streams("the server is shutting down")
        await md_server.stop(0)
        server.store.remove_listener(hub.on_commit)
        hub.close()


async def test_a_streaming_subscriber_ends_with_the_servers_book(local: Local) -> None:
    rng = random.Random(7)
    prices = [Decimal(100) + Decimal(n) / 4 for n in range(-12, 12)]
    bids_from, asks_from = prices[:14], prices[10:]  # they overlap: just numbers to the hub
    early = local.stub.StreamOrderBook(MD.StreamOrderBookRequest(symbol="AAPL", depth=3), metadata=local.md)
    early_client = Client()
    early_client.apply(await early.read())
    assert early_client.snapshots == 1
    assert early_client.sequence == 0

    late: grpc.aio.UnaryStreamCall | None = None
    late_client = Client()
    for round_ in range(12):
        pending = []
        for _ in range(rng.randint(1, 6)):  # several events per commit, some levels twice
            side = rng.choice([BUY, SELL])
            price = rng.choice(bids_from if side == BUY else asks_from)
            changes = [LevelChange(side, price, rng.choice([0, 0, 1, 3, 10]))]
            pending.append(local.event("AAPL", changes))
        local.event("MSFT", [LevelChange(BUY, Decimal(300), round_ + 1)])  # another symbol: no effect
        for p in pending:
            await p
        if round_ == 5:
            late = local.stub.StreamOrderBook(MD.StreamOrderBookRequest(symbol="AAPL", depth=3), metadata=local.md)
    # a last change at the top of the book: every view of depth >= 1 gets an update with it
    await local.event("AAPL", [LevelChange(BUY, Decimal(200), 1)])

    got = (await local.stub.GetOrderBook(MD.GetOrderBookRequest(symbol="AAPL", depth=3), metadata=local.md)).book
    assert got.sequence == local.hub.snapshot("AAPL", 3).sequence
    assert got.depth == 3
    assert got.symbol == "AAPL"
    assert got.event_sequence == local.running.store.head_sequence
    assert got.bids[0].price == "200.00"
    assert late is not None
    for stream, client in ((early, early_client), (late, late_client)):
        await follow(stream, client, got.sequence)
        assert client.sequence == got.sequence
        assert client.book() == as_levels(got)
        stream.cancel()
    assert early_client.updates > 0
    assert late_client.snapshots == 1


async def test_get_order_book_of_a_symbol_without_orders_is_empty(local: Local) -> None:
    book = (await local.stub.GetOrderBook(MD.GetOrderBookRequest(symbol="NEW.X"), metadata=local.md)).book
    assert (book.symbol, list(book.bids), list(book.asks), book.sequence, book.depth) == ("NEW.X", [], [], 0, 10)
    assert not book.HasField("timestamp")


async def test_prices_and_timestamps_on_the_wire(local: Local) -> None:
    await local.event("AAPL", [LevelChange(BUY, Decimal("150.5000"), 7), LevelChange(SELL, Decimal("150.5025"), 2)])
    book = (await local.stub.GetOrderBook(MD.GetOrderBookRequest(symbol="AAPL", depth=1), metadata=local.md)).book
    assert [(lv.price, lv.quantity) for lv in book.bids] == [("150.50", 7)]
    assert [(lv.price, lv.quantity) for lv in book.asks] == [("150.5025", 2)]
    assert book.sequence == 1
    assert book.HasField("timestamp")
    assert book.timestamp.seconds > 0


async def test_trades_stream_live_and_from_a_sequence(local: Local) -> None:
    local.sides.update({"o-buy": common_pb2.SIDE_BUY, "o-sell": common_pb2.SIDE_SELL})
    live = local.stub.StreamTrades(MD.StreamTradesRequest(symbol="AAPL"), metadata=local.md)
    assert (await live.read()).WhichOneof("kind") == "caught_up"
    start = local.running.store.head_sequence

    taker = events_pb2.OrderFilled(trade_id="t-1", quantity=5, price="101.5", aggressor=True, contra_order_id="o-sell")
    maker = events_pb2.OrderFilled(trade_id="t-1", quantity=5, price="101.5", aggressor=False, contra_order_id="o-buy")
    first = await local.event("AAPL", fill=taker, order_id="o-buy")
    await local.event("AAPL", fill=maker, order_id="o-sell")  # the same trade seen from the maker: not repeated
    await local.event("MSFT", fill=taker, order_id="o-buy")  # another symbol
    second = events_pb2.OrderFilled(trade_id="t-2", quantity=1, price="101", aggressor=True)
    last = await local.event("AAPL", fill=second, order_id="o-sell")

    trades = [(await live.read()).trade for _ in range(2)]
    assert [(t.trade_id, t.symbol, t.price, t.quantity, t.aggressor_side) for t in trades] == [
        ("t-1", "AAPL", "101.50", 5, common_pb2.SIDE_BUY),
        ("t-2", "AAPL", "101.00", 1, common_pb2.SIDE_SELL),
    ]
    assert [t.sequence for t in trades] == [first[0].sequence, last[0].sequence]  # type: ignore[index]
    assert trades[0].HasField("timestamp")
    live.cancel()

    replay = local.stub.StreamTrades(MD.StreamTradesRequest(symbol="AAPL", from_sequence=start), metadata=local.md)
    kinds = []
    while not kinds or kinds[-1] != "caught_up":
        message = await replay.read()
        kinds.append(message.WhichOneof("kind"))
        if message.WhichOneof("kind") == "trade":
            assert message.trade.trade_id in ("t-1", "t-2")
        else:
            assert message.caught_up.sequence == local.running.store.head_sequence
    assert kinds == ["trade", "trade", "caught_up"]
    replay.cancel()


@pytest.mark.parametrize(
    ("symbol", "depth", "field"),
    [
        ("", 0, "symbol"),
        ("aapl", 0, "symbol"),
        ("ABCDEFGHIJKLM", 0, "symbol"),
        ("AA PL", 0, "symbol"),
        ("AAPL", -1, "depth"),
        ("AAPL", 1001, "depth"),
    ],
)
async def test_invalid_arguments(local: Local, symbol: str, depth: int, field: str) -> None:
    calls = [
        local.stub.GetOrderBook(MD.GetOrderBookRequest(symbol=symbol, depth=depth), metadata=local.md),
        local.stub.StreamOrderBook(MD.StreamOrderBookRequest(symbol=symbol, depth=depth), metadata=local.md).read(),
    ]
    if field == "symbol":
        calls.append(local.stub.StreamTrades(MD.StreamTradesRequest(symbol=symbol), metadata=local.md).read())
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert info.value.details().startswith(f"{field}: ")


async def test_depth_limits(local: Local) -> None:
    for price in range(1, 1101):
        local.event("WIDE", [LevelChange(SELL, Decimal(price), 1)])
    await local.event("WIDE", [LevelChange(BUY, Decimal("0.5"), 1)])
    deepest = (await local.stub.GetOrderBook(MD.GetOrderBookRequest(symbol="WIDE", depth=1000), metadata=local.md)).book
    assert len(deepest.asks) == 1000
    assert deepest.asks[0].price == "1.00"
    assert deepest.asks[-1].price == "1000.00"
    one = (await local.stub.GetOrderBook(MD.GetOrderBookRequest(symbol="WIDE", depth=1), metadata=local.md)).book
    assert len(one.asks) == 1
    assert len(one.bids) == 1


@pytest.mark.parametrize("local", [{"enabled": False}], indirect=True)
async def test_failed_precondition_without_the_internal_venue(local: Local) -> None:
    calls = [
        local.stub.GetOrderBook(MD.GetOrderBookRequest(symbol="AAPL"), metadata=local.md),
        local.stub.StreamOrderBook(MD.StreamOrderBookRequest(symbol="AAPL"), metadata=local.md).read(),
        local.stub.StreamTrades(MD.StreamTradesRequest(symbol="AAPL"), metadata=local.md).read(),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert info.value.details() == DISABLED_MESSAGE


async def test_market_data_needs_a_token(local: Local) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await local.stub.GetOrderBook(MD.GetOrderBookRequest(symbol="AAPL"))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("local", [{"heartbeat_seconds": 0.05}], indirect=True)
async def test_quiet_stream_heartbeats_and_ends_when_the_token_is_revoked(local: Local) -> None:
    await local.event("AAPL", [LevelChange(BUY, Decimal(100), 1)])
    token = (await login(local.channel, "trader1")).access_token
    stream = local.stub.StreamOrderBook(MD.StreamOrderBookRequest(symbol="AAPL"), metadata=bearer(token))
    assert (await stream.read()).WhichOneof("kind") == "snapshot"
    beat = await stream.read()
    assert beat.WhichOneof("kind") == "heartbeat"
    assert beat.heartbeat.head_sequence == local.running.store.head_sequence

    await auth_pb2_grpc.AuthServiceStub(local.channel).Logout(auth_pb2.LogoutRequest(), metadata=bearer(token))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await read_to_end(stream)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_end_streams_ends_book_streams_unavailable(local: Local) -> None:
    stream = local.stub.StreamOrderBook(MD.StreamOrderBookRequest(symbol="AAPL"), metadata=local.md)
    assert (await stream.read()).WhichOneof("kind") == "snapshot"
    local.hub.end_streams("the server is shutting down")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stream.read()
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "shutting down" in info.value.details()


async def test_a_cancelled_book_stream_leaves_nothing_behind(local: Local) -> None:
    streams = [
        local.stub.StreamOrderBook(MD.StreamOrderBookRequest(symbol="AAPL", depth=d), metadata=local.md)
        for d in (1, 5, 5)
    ]
    for stream in streams:
        assert (await stream.read()).WhichOneof("kind") == "snapshot"
    assert local.hub.subscriber_count == 3
    for stream in streams:
        stream.cancel()
    for _ in range(500):  # the server learns of a cancellation asynchronously
        if local.hub.subscriber_count == 0:
            break
        await asyncio.sleep(0.01)
    assert local.hub.subscriber_count == 0


# --- wired: the server's own MarketDataService on the internal venue -----------------------------


@dataclass
class Venue:
    server: RunningServer
    channel: grpc.aio.Channel
    maker: tuple[tuple[str, str], ...]
    taker: tuple[tuple[str, str], ...]

    @property
    def md(self) -> market_data_pb2_grpc.MarketDataServiceStub:
        return market_data_pb2_grpc.MarketDataServiceStub(self.channel)

    async def order(
        self, who: tuple[tuple[str, str], ...], side: int, quantity: int, price: str
    ) -> order_pb2.SubmitOrderResponse:
        return await order_pb2_grpc.OrderServiceStub(self.channel).SubmitOrder(
            order_pb2.SubmitOrderRequest(symbol="AAPL", side=side, quantity=quantity, price=price), metadata=who
        )


@pytest.fixture
async def venue(tmp_path: Path) -> AsyncIterator[Venue]:
    running = await serve(make_config(tmp_path / "data", venue="internal"))
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            maker = bearer((await login(channel, "trader1")).access_token)
            taker = bearer((await login(channel, "risk1")).access_token)  # another user: no self-trade
            yield Venue(running, channel, maker, taker)
    finally:
        await running.shutdown(grace=0.5)


@wired
async def test_wired_orders_build_the_book_a_stream_follows(venue: Venue) -> None:
    stream = venue.md.StreamOrderBook(MD.StreamOrderBookRequest(symbol="AAPL", depth=2), metadata=venue.maker)
    client = Client()
    client.apply(await stream.read())
    for price in ("99.00", "99.50", "98.75"):
        await venue.order(venue.maker, common_pb2.SIDE_BUY, 10, price)
    for price in ("101.00", "100.50", "102.00"):
        await venue.order(venue.maker, common_pb2.SIDE_SELL, 5, price)
    await venue.order(venue.taker, common_pb2.SIDE_BUY, 7, "101.00")  # takes 100.50 and 2 of 101.00
    await venue.order(venue.maker, common_pb2.SIDE_BUY, 1, "99.75")  # a last change at the top

    got = (await venue.md.GetOrderBook(MD.GetOrderBookRequest(symbol="AAPL", depth=2), metadata=venue.maker)).book
    assert as_levels(got) == ([("99.75", 1), ("99.50", 10)], [("101.00", 3), ("102.00", 5)])
    await follow(stream, client, got.sequence)
    assert client.book() == as_levels(got)
    stream.cancel()


@wired
async def test_wired_trades_stream_names_the_taker_side(venue: Venue) -> None:
    trades = venue.md.StreamTrades(MD.StreamTradesRequest(symbol="AAPL"), metadata=venue.maker)
    assert (await trades.read()).WhichOneof("kind") == "caught_up"
    await venue.order(venue.maker, common_pb2.SIDE_BUY, 4, "100.00")
    await venue.order(venue.taker, common_pb2.SIDE_SELL, 3, "99.00")
    message = await trades.read()
    assert message.WhichOneof("kind") == "trade"
    trade = message.trade
    assert (trade.symbol, trade.price, trade.quantity, trade.aggressor_side) == (
        "AAPL",
        "100.00",
        3,
        common_pb2.SIDE_SELL,
    )
    trades.cancel()


@wired
async def test_wired_book_survives_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path / "data", venue="internal")
    running = await serve(config)
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            token = bearer((await login(channel, "trader1")).access_token)
            orders = order_pb2_grpc.OrderServiceStub(channel)
            for price in ("99.00", "99.50"):
                await orders.SubmitOrder(
                    order_pb2.SubmitOrderRequest(symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=3, price=price),
                    metadata=token,
                )
            stub = market_data_pb2_grpc.MarketDataServiceStub(channel)
            before = (await stub.GetOrderBook(MD.GetOrderBookRequest(symbol="AAPL"), metadata=token)).book
    finally:
        await running.shutdown(grace=0.5)
    running = await serve(config)
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            token = bearer((await login(channel, "trader1")).access_token)
            stub = market_data_pb2_grpc.MarketDataServiceStub(channel)
            after = (await stub.GetOrderBook(MD.GetOrderBookRequest(symbol="AAPL"), metadata=token)).book
    finally:
        await running.shutdown(grace=0.5)
    assert as_levels(after) == as_levels(before) == ([("99.50", 3), ("99.00", 3)], [])
    assert (after.sequence, after.event_sequence) == (before.sequence, before.event_sequence)


@wired
async def test_wired_simulated_venue_has_no_market_data(channel: grpc.aio.Channel) -> None:
    token = bearer((await login(channel, "trader1")).access_token)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await market_data_pb2_grpc.MarketDataServiceStub(channel).GetOrderBook(
            MD.GetOrderBookRequest(symbol="AAPL"), metadata=token
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.details() == DISABLED_MESSAGE
