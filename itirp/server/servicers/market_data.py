"""itirp.v1.MarketDataService: the internal venue's books (from `itirp.app.marketdata.MarketDataHub`)
and its trades (ORDER_FILLED events of the taker, through the event fan-out); on every venue, the
reference prices (the recorded marks: GetQuote asks the core, StreamQuotes follows MARK_RECORDED
events through the fan-out)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal, InvalidOperation
from typing import cast

import grpc

from itirp.app.fanout import CaughtUp, EventFanout, Heartbeat
from itirp.app.marketdata import BookSnapshot, BookUpdate, MarketDataHub
from itirp.app.trading import TradingService
from itirp.core.protos import mark_proto
from itirp.domain.book import BUY, SELL, LevelChange
from itirp.domain.money import format_money
from itirp.domain.orders import SYMBOL_RULE, valid_symbol
from itirp.errors import FailedPrecondition, InvalidArgument, NotFound, Reason
from itirp.events import decode_payload, timestamp_from_seconds, timestamp_from_us
from itirp.server.servicers.streams import marker
from itirp.store import StoredEvent
from itirp.v1 import common_pb2, events_pb2, market_data_pb2, market_data_pb2_grpc

__all__ = ["DEFAULT_DEPTH", "DISABLED_MESSAGE", "MAX_DEPTH", "MarketDataServicer"]

DEFAULT_DEPTH = 10
MAX_DEPTH = 1000
DISABLED_MESSAGE = "market data needs the internal venue: start the server with --venue internal"

_FILLED = "ORDER_FILLED"
_MARK = "MARK_RECORDED"
_SIDE = {BUY: common_pb2.SIDE_BUY, SELL: common_pb2.SIDE_SELL}


def _symbol(symbol: str) -> str:
    if not valid_symbol(symbol):
        raise InvalidArgument("symbol", SYMBOL_RULE)
    return symbol


def _depth(depth: int) -> int:
    if depth == 0:
        return DEFAULT_DEPTH
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidArgument("depth", f"levels per side, 1-{MAX_DEPTH} (0 or unset: {DEFAULT_DEPTH}); got {depth}")
    return depth


def _levels(levels: tuple[tuple[Decimal, int], ...]) -> list[market_data_pb2.PriceLevel]:
    return [market_data_pb2.PriceLevel(price=format_money(p), quantity=q) for p, q in levels]


def snapshot_to_proto(snapshot: BookSnapshot) -> market_data_pb2.OrderBookSnapshot:
    proto = market_data_pb2.OrderBookSnapshot(
        symbol=snapshot.symbol,
        bids=_levels(snapshot.bids),
        asks=_levels(snapshot.asks),
        sequence=snapshot.sequence,
        event_sequence=snapshot.event_sequence,
        depth=snapshot.depth,
    )
    if snapshot.timestamp_us:
        proto.timestamp.CopyFrom(timestamp_from_us(snapshot.timestamp_us))
    return proto


def _level_update(change: LevelChange) -> market_data_pb2.LevelUpdate:
    return market_data_pb2.LevelUpdate(
        side=_SIDE[change.side], price=format_money(change.price), quantity=change.quantity
    )


def update_to_proto(update: BookUpdate) -> market_data_pb2.OrderBookUpdate:
    return market_data_pb2.OrderBookUpdate(
        symbol=update.symbol,
        sequence=update.sequence,
        previous_sequence=update.previous_sequence,
        levels=[_level_update(c) for c in update.levels],
        event_sequence=update.event_sequence,
        timestamp=timestamp_from_us(update.timestamp_us),
    )


class MarketDataServicer(market_data_pb2_grpc.MarketDataServiceServicer):
    """`side_of(order_id)` gives an order's `common_pb2.Side` (the taker's side of a trade; it is
    not in the fill event). `enabled` is False when the server runs a venue without books (the
    quotes are served on every venue). `trading` answers GetQuote (its core's reference prices)."""

    def __init__(
        self,
        hub: MarketDataHub,
        fanout: EventFanout,
        *,
        side_of: Callable[[str], int],
        clock: Callable[[], float],
        heartbeat_seconds: float,
        enabled: bool,
        trading: TradingService | None = None,
    ) -> None:
        self._trading = trading
        self._hub = hub
        self._fanout = fanout
        self._side_of = side_of
        self._clock = clock
        self._heartbeat = heartbeat_seconds
        self._enabled = enabled

    def _require_enabled(self) -> None:
        if not self._enabled:
            raise FailedPrecondition(DISABLED_MESSAGE, reason=Reason.VENUE_NOT_INTERNAL)

    async def GetOrderBook(
        self, request: market_data_pb2.GetOrderBookRequest, context: grpc.aio.ServicerContext
    ) -> market_data_pb2.GetOrderBookResponse:
        self._require_enabled()
        snapshot = self._hub.snapshot(_symbol(request.symbol), _depth(request.depth))
        return market_data_pb2.GetOrderBookResponse(book=snapshot_to_proto(snapshot))

    async def StreamOrderBook(
        self, request: market_data_pb2.StreamOrderBookRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[market_data_pb2.StreamOrderBookResponse]:
        self._require_enabled()
        symbol, depth = _symbol(request.symbol), _depth(request.depth)
        with self._hub.subscribe(symbol, depth) as subscription:
            async for item in subscription.stream(heartbeat_seconds=self._heartbeat):
                if isinstance(item, BookUpdate):
                    yield market_data_pb2.StreamOrderBookResponse(update=update_to_proto(item))
                elif isinstance(item, BookSnapshot):
                    yield market_data_pb2.StreamOrderBookResponse(snapshot=snapshot_to_proto(item))
                else:
                    yield market_data_pb2.StreamOrderBookResponse(
                        heartbeat=common_pb2.StreamHeartbeat(
                            timestamp=timestamp_from_seconds(self._clock()), head_sequence=item.head_sequence
                        )
                    )

    async def StreamTrades(
        self, request: market_data_pb2.StreamTradesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[market_data_pb2.StreamTradesResponse]:
        self._require_enabled()
        symbol = _symbol(request.symbol)

        def taker_fill(event: StoredEvent) -> bool:
            return event.event_type == _FILLED and event.symbol == symbol and _fill(event).aggressor

        after = request.from_sequence or self._fanout.head_sequence
        async for item in self._fanout.subscribe(
            after=after, matches=taker_fill, heartbeat_seconds=self._heartbeat
        ):
            if isinstance(item, CaughtUp | Heartbeat):
                yield market_data_pb2.StreamTradesResponse(**marker(item, self._clock))
            else:
                yield market_data_pb2.StreamTradesResponse(trade=self._trade(item))

    async def GetQuote(
        self, request: market_data_pb2.GetQuoteRequest, context: grpc.aio.ServicerContext
    ) -> market_data_pb2.GetQuoteResponse:
        symbol = _symbol(request.symbol)
        trading = self._trading
        if trading is None:  # a servicer built without the trading service (some tests)
            raise FailedPrecondition("this server does not serve quotes")
        await trading.settled_state()
        trading.queries.instrument(symbol)  # NOT_FOUND (INSTRUMENT_NOT_FOUND) when not listed
        mark = trading.queries.reference(symbol)
        if mark is None:
            raise NotFound(
                f"{symbol} has no reference price yet: no listing price, and no mark from the feed",
                reason=Reason.NOT_FOUND,
                metadata={"symbol": symbol},
            )
        return market_data_pb2.GetQuoteResponse(mark=mark_proto(mark))

    async def StreamQuotes(
        self, request: market_data_pb2.StreamQuotesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[market_data_pb2.StreamQuotesResponse]:
        for symbol in request.symbols:
            if not valid_symbol(symbol):
                raise InvalidArgument("symbols", f"{symbol!r}: {SYMBOL_RULE}")
        symbols = frozenset(request.symbols)

        def wanted(event: StoredEvent) -> bool:
            return event.event_type == _MARK and (not symbols or event.symbol in symbols)

        after = request.from_sequence or self._fanout.head_sequence
        async for item in self._fanout.subscribe(
            after=after, matches=wanted, heartbeat_seconds=self._heartbeat
        ):
            if isinstance(item, CaughtUp | Heartbeat):
                yield market_data_pb2.StreamQuotesResponse(**marker(item, self._clock))
            else:
                yield market_data_pb2.StreamQuotesResponse(mark=_mark(item))

    def _trade(self, event: StoredEvent) -> market_data_pb2.Trade:
        fill = _fill(event)
        try:
            side = cast("common_pb2.Side", self._side_of(event.order_id))  # a Side number, typed int
        except KeyError:  # not expected: every order that traded is known to the core
            side = common_pb2.SIDE_UNSPECIFIED
        return market_data_pb2.Trade(
            trade_id=fill.trade_id,
            symbol=event.symbol,
            price=_price(fill.price),
            quantity=fill.quantity,
            aggressor_side=side,
            sequence=event.sequence,
            timestamp=timestamp_from_us(event.timestamp_us),
        )


def _fill(event: StoredEvent) -> events_pb2.OrderFilled:
    return cast("events_pb2.OrderFilled", decode_payload(event.event_type, event.schema_version, event.payload))


def _mark(event: StoredEvent) -> common_pb2.Mark:
    """The mark an event recorded, with that event's sequence (the resume point)."""
    payload = cast("events_pb2.MarkRecorded", decode_payload(event.event_type, event.schema_version, event.payload))
    mark = common_pb2.Mark()
    mark.CopyFrom(payload.mark)
    mark.sequence = event.sequence
    return mark


def _price(text: str) -> str:
    try:
        return format_money(Decimal(text))
    except (InvalidOperation, ValueError):
        return text
