"""The reference-data commands: the instrument master (list, change, halt) and the marks, the
reference prices the market data feed gives, recorded so that every risk decision and every P&L
figure can be reproduced from the log."""

from __future__ import annotations

import dataclasses

from itirp.core.commands import RecordMark, SetInstrumentStatus, UpsertInstrument, required_reason
from itirp.core.protos import INSTRUMENT_STATUS_PROTO, instrument_proto, mark_proto
from itirp.core.queries import TradingQueries
from itirp.core.recorder import Committed, Recorder
from itirp.core.state import TradingState
from itirp.domain.instruments import Instrument, InstrumentStatus, instrument_problems
from itirp.errors import FieldViolation, InvalidArgument
from itirp.v1 import events_pb2

__all__ = ["ReferenceCommands"]


class ReferenceCommands:
    def __init__(self, state: TradingState, recorder: Recorder, queries: TradingQueries) -> None:
        self._state = state
        self._recorder = recorder
        self._queries = queries

    def upsert(self, command: UpsertInstrument, now_us: int) -> tuple[Instrument, bool, Committed]:
        """(the instrument as listed now, whether it is new, events)."""
        reason = required_reason(command.reason)
        problems = instrument_problems(command.instrument)
        if problems:
            raise InvalidArgument.of([FieldViolation(f"instrument.{f}", p) for f, p in problems])
        actor, symbol = command.actor, command.instrument.symbol
        existing = self._state.instruments.get(symbol)
        status = command.status or (existing.status if existing is not None else InstrumentStatus.ACTIVE)
        listed = dataclasses.replace(command.instrument, status=status, updated_us=now_us, updated_by=actor.username)
        payload = events_pb2.InstrumentUpserted(
            instrument=instrument_proto(listed),
            created=existing is None,
            reason=reason,
            username=actor.username,
        )
        committed = self._recorder.emit([(payload, actor.envelope(symbol))], now_us)
        return self._state.instruments[symbol], existing is None, committed

    def set_status(self, command: SetInstrumentStatus, now_us: int) -> tuple[Instrument, Committed | None]:
        """(the instrument, events); no events when it already is in that status."""
        reason = required_reason(command.reason)
        instrument = self._queries.instrument(command.symbol)
        if instrument.status is command.status:
            return instrument, None
        actor = command.actor
        payload = events_pb2.InstrumentStatusChanged(
            old_status=INSTRUMENT_STATUS_PROTO[instrument.status],
            new_status=INSTRUMENT_STATUS_PROTO[command.status],
            reason=reason,
            username=actor.username,
        )
        committed = self._recorder.emit([(payload, actor.envelope(command.symbol))], now_us)
        return self._state.instruments[command.symbol], committed

    def record_mark(self, command: RecordMark, now_us: int) -> Committed | None:
        """Record a reference price from the feed, unless it says nothing new (same price, bid and
        ask as the last recorded mark) or the symbol is not listed (nothing to value)."""
        mark = command.mark
        if mark.symbol not in self._state.instruments:
            return None
        last = self._state.marks.get(mark.symbol)
        if last is not None and (last.price, last.bid, last.ask) == (mark.price, mark.bid, mark.ask):
            return None
        correlation_id = command.correlation_id or self._recorder.journal.new_id()
        payload = events_pb2.MarkRecorded(mark=mark_proto(dataclasses.replace(mark, sequence=0)))
        return self._recorder.emit([(payload, {"correlation_id": correlation_id, "symbol": mark.symbol})], now_us)

