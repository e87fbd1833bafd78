"""itirp.v1.OrderService."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import grpc

from itirp.app.fanout import CaughtUp, EventFanout, Heartbeat
from itirp.app.order_history import OrderHistory
from itirp.app.sessions import OrderEntrySessions
from itirp.app.trading import TradingService
from itirp.core.commands import AmendOrder, CancelOrder
from itirp.core.protos import scope_from_proto
from itirp.errors import InvalidArgument
from itirp.observability.context import current_principal
from itirp.page_tokens import PageTokens
from itirp.server.servicers.convert import current_actor, timestamp_from_seconds, viewer_of
from itirp.server.servicers.order_entry import OrderEntry
from itirp.server.servicers.orders_convert import (
    STATUS_FROM_PROTO,
    order_to_proto,
    order_update,
    submit_command,
    submit_response,
)
from itirp.server.servicers.streams import marker, page_size
from itirp.store import StoredEvent
from itirp.v1 import order_pb2, order_pb2_grpc

__all__ = ["OrderServicer", "submit_command"]


class OrderServicer(order_pb2_grpc.OrderServiceServicer):
    def __init__(
        self,
        trading: TradingService,
        fanout: EventFanout,
        *,
        clock: Callable[[], float],
        heartbeat_seconds: float,
        page_tokens: PageTokens,
        sessions: OrderEntrySessions,
    ) -> None:
        self._trading = trading
        self._entry = OrderEntry(trading, sessions, clock=clock, head_sequence=lambda: fanout.head_sequence)
        self._page_tokens = page_tokens
        self._fanout = fanout
        self._clock = clock
        self._heartbeat = heartbeat_seconds

    async def SubmitOrder(
        self, request: order_pb2.SubmitOrderRequest, context: grpc.aio.ServicerContext
    ) -> order_pb2.SubmitOrderResponse:
        return submit_response(await self._trading.submit(submit_command(request)))

    async def GetOrder(
        self, request: order_pb2.GetOrderRequest, context: grpc.aio.ServicerContext
    ) -> order_pb2.GetOrderResponse:
        if not request.order_id:
            raise InvalidArgument("order_id", "required")
        await self._trading.settled_state()
        order = self._trading.queries.visible(viewer_of(current_principal()), request.order_id)
        return order_pb2.GetOrderResponse(order=order_to_proto(order))

    async def ListOrders(
        self, request: order_pb2.ListOrdersRequest, context: grpc.aio.ServicerContext
    ) -> order_pb2.ListOrdersResponse:
        limit = page_size(request.page_size)
        before = self._page_tokens.decode(request.page_token, ("before",))[1] if request.page_token else None
        try:
            statuses = frozenset(STATUS_FROM_PROTO[s] for s in request.statuses)
        except KeyError:
            raise InvalidArgument("statuses", "unknown order status") from None
        await self._trading.settled_state()
        page, cursor = self._trading.queries.list_orders(
            viewer_of(current_principal()),
            statuses=statuses,
            symbol=request.symbol,
            user_id=request.user_id,
            before=before,
            limit=limit,
        )
        token = self._page_tokens.encode("before", cursor) if cursor is not None else ""
        return order_pb2.ListOrdersResponse(orders=[order_to_proto(o) for o in page], next_page_token=token)

    async def CancelOrder(
        self, request: order_pb2.CancelOrderRequest, context: grpc.aio.ServicerContext
    ) -> order_pb2.CancelOrderResponse:
        if not request.order_id:
            raise InvalidArgument("order_id", "required")
        order = await self._trading.cancel(
            CancelOrder(actor=current_actor(), order_id=request.order_id, reason=request.reason)
        )
        return order_pb2.CancelOrderResponse(order=order_to_proto(order))

    async def AmendOrder(
        self, request: order_pb2.AmendOrderRequest, context: grpc.aio.ServicerContext
    ) -> order_pb2.AmendOrderResponse:
        if not request.order_id:
            raise InvalidArgument("order_id", "required")
        command = AmendOrder(
            actor=current_actor(), order_id=request.order_id, quantity=request.quantity, price=request.price
        )
        order, priority_kept = await self._trading.amend(command)
        return order_pb2.AmendOrderResponse(order=order_to_proto(order), priority_kept=priority_kept)

    async def CancelAllOrders(
        self, request: order_pb2.CancelAllOrdersRequest, context: grpc.aio.ServicerContext
    ) -> order_pb2.CancelAllOrdersResponse:
        scope = scope_from_proto(request.scope) if request.HasField("scope") else None
        cancelled, pending = await self._trading.request_cancel_all(
            current_actor(new_correlation=True), scope, symbol=request.symbol, reason=request.reason.strip()
        )
        return order_pb2.CancelAllOrdersResponse(
            cancelled_order_ids=[o.order_id for o in cancelled], pending_order_ids=[o.order_id for o in pending]
        )

    async def SetCancelAllAfter(
        self, request: order_pb2.SetCancelAllAfterRequest, context: grpc.aio.ServicerContext
    ) -> order_pb2.SetCancelAllAfterResponse:
        deadline = self._trading.deadman.set(current_actor(), request.seconds)
        if deadline is None:
            return order_pb2.SetCancelAllAfterResponse(armed=False)
        return order_pb2.SetCancelAllAfterResponse(armed=True, deadline=timestamp_from_seconds(deadline))

    async def OrderEntry(
        self, request_iterator: AsyncIterator[order_pb2.OrderEntryRequest], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[order_pb2.OrderEntryResponse]:
        async for response in self._entry.serve(request_iterator, context):
            yield response

    async def StreamOrderUpdates(
        self, request: order_pb2.StreamOrderUpdatesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[order_pb2.StreamOrderUpdatesResponse]:
        principal = current_principal()
        viewer = viewer_of(principal)
        trading, queries = self._trading, self._trading.queries
        watched = queries.watched_orders(viewer, request.order_id)  # NOT_FOUND for someone else's order

        def matches(event: StoredEvent) -> bool:
            return bool(event.order_id) and watched(event.order_id)

        history = OrderHistory(queries, self._fanout.order_events)
        await trading.settled_state()
        head = self._fanout.head_sequence
        after = request.from_sequence
        seen: dict[str, int] = {}
        if not after:
            # the current state of the open orders first; then every change after the snapshot
            after = head
            for order in queries.open_orders(viewer, request.order_id):
                seen[order.order_id] = order.last_sequence
                yield order_pb2.StreamOrderUpdatesResponse(
                    update=order_pb2.OrderUpdate(
                        sequence=order.last_sequence,
                        order=order_to_proto(order),
                        snapshot=True,
                        timestamp=timestamp_from_seconds(self._clock()),
                    )
                )
        async for item in self._fanout.subscribe(after=after, matches=matches, heartbeat_seconds=self._heartbeat):
            if isinstance(item, CaughtUp | Heartbeat):
                yield order_pb2.StreamOrderUpdatesResponse(**marker(item, self._clock))
            elif item.sequence > seen.get(item.order_id, 0):
                then = await history.at(item)
                if then is not None:
                    yield order_pb2.StreamOrderUpdatesResponse(update=order_update(item, then, as_of_event=True))
                    continue
                changed = queries.order(item.order_id)
                assert changed is not None  # `matches` saw it
                yield order_pb2.StreamOrderUpdatesResponse(update=order_update(item, changed))
