"""itirp.v1.ReferenceDataService: the instrument master (protobuf <-> values only)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import grpc

from itirp.app.reference import ReferenceService
from itirp.app.trading import TradingService
from itirp.core.commands import SetInstrumentStatus, UpsertInstrument
from itirp.core.protos import INSTRUMENT_STATUS_FROM_PROTO, instrument_proto, mark_proto
from itirp.domain.instruments import Instrument
from itirp.errors import FieldViolation, InvalidArgument
from itirp.server.servicers.convert import current_actor
from itirp.v1 import common_pb2, reference_data_pb2, reference_data_pb2_grpc

__all__ = ["ReferenceDataServicer", "instrument_from_request"]

_DEFAULTS = Instrument(symbol="", name="", currency="", tick_size=Decimal(0))


class ReferenceDataServicer(reference_data_pb2_grpc.ReferenceDataServiceServicer):
    def __init__(self, trading: TradingService, reference: ReferenceService) -> None:
        self._trading = trading
        self._reference = reference
        self._queries = reference.queries

    async def ListInstruments(
        self, request: reference_data_pb2.ListInstrumentsRequest, context: grpc.aio.ServicerContext
    ) -> reference_data_pb2.ListInstrumentsResponse:
        status = INSTRUMENT_STATUS_FROM_PROTO.get(request.status) if request.status else None
        if request.status and status is None:
            raise InvalidArgument("status", f"unknown instrument status {request.status}")
        await self._trading.settled_state()
        listed = self._queries.instruments(status)
        return reference_data_pb2.ListInstrumentsResponse(instruments=[instrument_proto(i) for i in listed])

    async def GetInstrument(
        self, request: reference_data_pb2.GetInstrumentRequest, context: grpc.aio.ServicerContext
    ) -> reference_data_pb2.GetInstrumentResponse:
        await self._trading.settled_state()
        instrument = self._queries.instrument(request.symbol)
        response = reference_data_pb2.GetInstrumentResponse(instrument=instrument_proto(instrument))
        mark = self._queries.reference(instrument.symbol)
        if mark is not None:
            response.mark.CopyFrom(mark_proto(mark))
        return response

    async def UpsertInstrument(
        self, request: reference_data_pb2.UpsertInstrumentRequest, context: grpc.aio.ServicerContext
    ) -> reference_data_pb2.UpsertInstrumentResponse:
        sent = request.instrument
        status = INSTRUMENT_STATUS_FROM_PROTO.get(sent.status) if sent.status else None
        if sent.status and status is None:
            raise InvalidArgument("instrument.status", f"unknown instrument status {sent.status}")
        command = UpsertInstrument(
            actor=current_actor(new_correlation=True),
            instrument=instrument_from_request(sent),
            status=status,
            reason=request.reason,
        )
        instrument, created = await self._reference.upsert(command)
        return reference_data_pb2.UpsertInstrumentResponse(instrument=instrument_proto(instrument), created=created)

    async def SetInstrumentStatus(
        self, request: reference_data_pb2.SetInstrumentStatusRequest, context: grpc.aio.ServicerContext
    ) -> reference_data_pb2.SetInstrumentStatusResponse:
        status = INSTRUMENT_STATUS_FROM_PROTO.get(request.status)
        if status is None:
            raise InvalidArgument("status", "required: one of ACTIVE, HALTED, CLOSED")
        command = SetInstrumentStatus(
            actor=current_actor(new_correlation=True), symbol=request.symbol, status=status, reason=request.reason
        )
        instrument, changed = await self._reference.set_status(command)
        return reference_data_pb2.SetInstrumentStatusResponse(instrument=instrument_proto(instrument), changed=changed)


def instrument_from_request(msg: common_pb2.Instrument) -> Instrument:
    """The definition a caller sent (status aside: the command carries it), or InvalidArgument
    naming every malformed decimal string (`instrument.tick_size`, ...). The core checks the rest."""
    problems: list[FieldViolation] = []

    def decimal(name: str, text: str) -> Decimal | None:
        if not text.strip():
            return None
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            problems.append(FieldViolation(f"instrument.{name}", f"not a decimal number ({text!r})"))
            return None
        if not value.is_finite():
            problems.append(FieldViolation(f"instrument.{name}", f"not a finite decimal number ({text!r})"))
            return None
        return value

    tick = decimal("tick_size", msg.tick_size)
    band = decimal("price_band_percent", msg.price_band_percent)
    reference = decimal("reference_price", msg.reference_price)
    if problems:
        raise InvalidArgument.of(problems)
    return Instrument(
        symbol=msg.symbol,
        name=msg.name,
        currency=msg.currency,
        tick_size=tick if tick is not None else Decimal(0),
        # proto3 cannot tell 0 from unset: unset (0) quantities take the domain's defaults
        lot_size=msg.lot_size or _DEFAULTS.lot_size,
        min_quantity=msg.min_quantity or _DEFAULTS.min_quantity,
        max_quantity=msg.max_quantity or _DEFAULTS.max_quantity,
        # the contract: empty or "0" means no band
        price_band_percent=band if band else None,
        price_band_ticks=msg.price_band_ticks,
        reference_price=reference,
    )
