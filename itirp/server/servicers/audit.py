"""itirp.v1.AuditService: queries, trails, the live subscription and chain verification."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from itirp.app.fanout import CaughtUp, EventFanout, Heartbeat
from itirp.app.replay import Unfolded, with_unfolded
from itirp.errors import InvalidArgument, NotFound, Reason
from itirp.events import UnknownEventType, event_type_name
from itirp.limits import prefix
from itirp.page_tokens import PageTokens
from itirp.server.servicers.convert import event_to_proto, timestamp_to_us
from itirp.server.servicers.streams import marker, page_size
from itirp.store import EventQuery, EventStore, VerifyResult, by_correlation, by_order
from itirp.v1 import audit_pb2, audit_pb2_grpc

__all__ = ["AuditServicer"]


def _query(
    flt: audit_pb2.EventFilter, start: Timestamp | None, end: Timestamp | None, **paging: int | None
) -> EventQuery:
    try:
        types = frozenset(event_type_name(t) for t in flt.event_types)
    except UnknownEventType as exc:
        raise InvalidArgument("filter.event_types", str(exc)) from None
    return EventQuery(
        event_types=types,
        user_id=flt.user_id,
        order_id=flt.order_id,
        symbol=flt.symbol,
        correlation_id=flt.correlation_id,
        start_us=timestamp_to_us(start) if start is not None else None,
        end_us=timestamp_to_us(end) if end is not None else None,
        **paging,
    )


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    def __init__(
        self,
        store: EventStore,
        fanout: EventFanout,
        *,
        clock: Callable[[], float],
        heartbeat_seconds: float,
        page_tokens: PageTokens,
        unfolded: Sequence[Unfolded] = (),
        verify: Callable[[], Awaitable[VerifyResult]] | None = None,
    ) -> None:
        self._store = store
        self._page_tokens = page_tokens
        self._unfolded = unfolded  # events a read-only replay could not fold: verification fails there
        self._verify = verify or store.verify  # the server's: the chain and the signed checkpoints
        self._clock = clock
        self._fanout = fanout
        self._heartbeat = heartbeat_seconds

    async def ListEvents(
        self, request: audit_pb2.ListEventsRequest, context: grpc.aio.ServicerContext
    ) -> audit_pb2.ListEventsResponse:
        size = page_size(request.page_size)
        if request.page_token:
            key, value = self._page_tokens.decode(request.page_token, ("after", "before"))
            paging = {f"{key}_sequence": value}
        elif request.from_sequence:
            paging = {"after_sequence": request.from_sequence - 1}
        else:
            paging = {}
        query = _query(
            request.filter,
            request.start_time if request.HasField("start_time") else None,
            request.end_time if request.HasField("end_time") else None,
            **paging,
        )
        events = await self._store.query(filter=query, limit=size + 1)
        next_token = ""
        if len(events) > size:
            events = events[:size]
            key = "after" if query.ascending else "before"
            next_token = self._page_tokens.encode(key, events[-1].sequence)
        return audit_pb2.ListEventsResponse(events=[event_to_proto(e) for e in events], next_page_token=next_token)

    async def GetCorrelationTrail(
        self, request: audit_pb2.GetCorrelationTrailRequest, context: grpc.aio.ServicerContext
    ) -> audit_pb2.GetCorrelationTrailResponse:
        if not request.correlation_id:
            raise InvalidArgument("correlation_id", "required")
        events = await by_correlation(self._store, request.correlation_id)
        if not events:
            raise NotFound(f"no events with correlation id {prefix(request.correlation_id)!r}")
        return audit_pb2.GetCorrelationTrailResponse(events=[event_to_proto(e) for e in events])

    async def GetOrderTrail(
        self, request: audit_pb2.GetOrderTrailRequest, context: grpc.aio.ServicerContext
    ) -> audit_pb2.GetOrderTrailResponse:
        if not request.order_id:
            raise InvalidArgument("order_id", "required")
        events = await by_order(self._store, request.order_id)
        if not events:
            raise NotFound(f"no events for order {prefix(request.order_id)!r}", reason=Reason.ORDER_NOT_FOUND)
        return audit_pb2.GetOrderTrailResponse(events=[event_to_proto(e) for e in events])

    async def SubscribeEvents(
        self, request: audit_pb2.SubscribeEventsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[audit_pb2.SubscribeEventsResponse]:
        interval = request.heartbeat_interval_seconds or self._heartbeat
        if interval > 3600:
            raise InvalidArgument("heartbeat_interval_seconds", "at most 3600")
        query = _query(request.filter, None, None)
        async for item in self._fanout.subscribe(
            after=request.from_sequence, matches=query.matches, heartbeat_seconds=interval
        ):
            if isinstance(item, CaughtUp | Heartbeat):
                yield audit_pb2.SubscribeEventsResponse(**marker(item, self._clock))
            else:
                yield audit_pb2.SubscribeEventsResponse(event=event_to_proto(item))

    async def VerifyAuditLog(
        self, request: audit_pb2.VerifyAuditLogRequest, context: grpc.aio.ServicerContext
    ) -> audit_pb2.VerifyAuditLogResponse:
        result = with_unfolded(await self._verify(), self._unfolded)
        return audit_pb2.VerifyAuditLogResponse(
            ok=result.ok,
            events_checked=result.events_checked,
            head_sequence=result.head_sequence,
            head_hash=result.head_hash,
            first_bad_sequence=result.first_bad_sequence,
            message=result.message,
        )
