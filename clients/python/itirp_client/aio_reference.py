"""The reference-data and quote calls of the asyncio client: `AsyncClient` inherits them (kept
in their own module so that each stays readable). Each works on any `_Client`: what they need of
the client is named by that protocol."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from itirp.v1 import common_pb2, market_data_pb2, market_data_pb2_grpc, reference_data_pb2, reference_data_pb2_grpc
from itirp_client import _enums
from itirp_client.streams import Resumable, StreamCall, follow_sequenced

__all__ = ["ReferenceDataCalls"]

T = TypeVar("T")


class _Client(Protocol):
    _market: market_data_pb2_grpc.MarketDataServiceStub
    _reference: reference_data_pb2_grpc.ReferenceDataServiceStub

    async def _call(self, rpc: Callable[..., Awaitable[T]], request: Any) -> T: ...

    def _metadata(self, correlation_id: str | None = None) -> tuple[tuple[str, str], ...]: ...

    def _resumable(self, open_call: Callable[[int], StreamCall], position: int, name: str) -> Resumable: ...


class ReferenceDataCalls:
    # ------------------------------------------------------------------ reference data

    async def list_instruments(self: _Client, status: str | int | None = None) -> list[common_pb2.Instrument]:
        """Every listed instrument by symbol; only those in `status` (ACTIVE, HALTED, CLOSED) when given."""
        request = reference_data_pb2.ListInstrumentsRequest(status=_enums.instrument_status(status))
        reply: reference_data_pb2.ListInstrumentsResponse = await self._call(self._reference.ListInstruments, request)
        return list(reply.instruments)

    async def get_instrument(self: _Client, symbol: str) -> reference_data_pb2.GetInstrumentResponse:
        """The instrument and its reference price (`reply.mark`); `NotFound` when it is not listed."""
        request = reference_data_pb2.GetInstrumentRequest(symbol=symbol)
        return await self._call(self._reference.GetInstrument, request)

    async def upsert_instrument(
        self: _Client,
        symbol: str,
        *,
        name: str,
        currency: str,
        tick_size: str | Decimal,
        reason: str,
        lot_size: int = 0,
        min_quantity: int = 0,
        max_quantity: int = 0,
        price_band_percent: str | Decimal = "",
        reference_price: str | Decimal = "",
        status: str | int | None = None,
    ) -> reference_data_pb2.UpsertInstrumentResponse:
        """List an instrument or replace its definition (RISK_MANAGER); quantities left at 0 take the
        server's defaults, an unset `status` is ACTIVE for a new instrument and kept otherwise."""
        instrument = common_pb2.Instrument(
            symbol=symbol,
            name=name,
            currency=currency,
            tick_size=str(tick_size),
            lot_size=lot_size,
            min_quantity=min_quantity,
            max_quantity=max_quantity,
            price_band_percent=str(price_band_percent),
            reference_price=str(reference_price),
            status=_enums.instrument_status(status),
        )
        request = reference_data_pb2.UpsertInstrumentRequest(instrument=instrument, reason=reason)
        return await self._call(self._reference.UpsertInstrument, request)

    async def set_instrument_status(
        self: _Client, symbol: str, status: str | int, reason: str
    ) -> reference_data_pb2.SetInstrumentStatusResponse:
        """Open (ACTIVE), halt (HALTED) or close (CLOSED) an instrument (RISK_MANAGER)."""
        request = reference_data_pb2.SetInstrumentStatusRequest(
            symbol=symbol, status=_enums.instrument_status(status), reason=reason
        )
        return await self._call(self._reference.SetInstrumentStatus, request)

    # ------------------------------------------------------------------ quotes (reference prices)

    async def get_quote(self: _Client, symbol: str) -> common_pb2.Mark:
        """The reference price risk and P&L use for `symbol`: the last mark recorded from the feed,
        else its listing price (`source` says which). `NotFound` for an unlisted symbol."""
        request = market_data_pb2.GetQuoteRequest(symbol=symbol)
        reply: market_data_pb2.GetQuoteResponse = await self._call(self._market.GetQuote, request)
        return reply.mark

    def stream_quotes(
        self: _Client, symbols: Iterable[str] = (), *, from_sequence: int = 0, markers: bool = False
    ) -> AsyncGenerator[market_data_pb2.StreamQuotesResponse, None]:
        """Marks as they are recorded (`item.mark`), of `symbols` (empty: all); with `from_sequence`,
        the marks after that event sequence first. Resumes across reconnects and restarts after the
        last mark's sequence, with no gap and no duplicate. `markers=True` also yields caught-up
        markers and heartbeats."""
        wanted = list(symbols)

        def open_stream(after: int) -> Any:
            request = market_data_pb2.StreamQuotesRequest(symbols=wanted, from_sequence=after)
            return self._market.StreamQuotes(request, metadata=self._metadata())

        stream = self._resumable(open_stream, from_sequence, "the quote stream")
        return follow_sequenced(stream, lambda item: item.mark.sequence, markers)
