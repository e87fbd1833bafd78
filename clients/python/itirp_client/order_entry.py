"""Mass cancel and the dead-man's switch (`AsyncClient` inherits these calls; the blocking client
spells them out), and order-entry sessions for the asyncio client (`open_session`).

    async with await open_session(client, cancel_on_disconnect=True, name="desk-7") as session:
        first = session.submit("AAPL", "BUY", 100, "150.50")      # a future, answered in order
        second = session.submit("MSFT", "SELL", 10, "300.00")
        order = await first                                       # the order, once durable
        await session.cancel(order.order_id)

A refused request raises its typed error (`InvalidRequest`, `TooManyRequests` with
`retry_after`...) from its own future; the session stays open. Leaving the block closes the
session cleanly (nothing is cancelled); a connection that drops cancels the session's working
orders when it was opened with `cancel_on_disconnect`."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Protocol, TypeVar, cast

import grpc

from itirp.v1 import common_pb2, order_pb2, order_pb2_grpc
from itirp_client import _enums
from itirp_client.errors import _BY_CODE, FieldViolation, ItirpError, ServerUnavailable, from_rpc_error

__all__ = ["OrderEntryCalls", "OrderEntrySession", "open_session", "parse_scope"]

T = TypeVar("T")

_CODES = {code.value[0]: code for code in grpc.StatusCode}


class _Client(Protocol):
    _orders: order_pb2_grpc.OrderServiceStub

    async def _call(self, rpc: Callable[..., Awaitable[T]], request: Any) -> T: ...

    def _metadata(self, correlation_id: str | None = None) -> tuple[tuple[str, str], ...]: ...


def parse_scope(scope: str) -> common_pb2.RiskScope | None:
    """ "ACCOUNT:EQ-PROP", "desk:EQ", "INSTRUMENT:AAPL", "TRADER:trader1", "FIRM" as a `RiskScope`;
    None for ""."""
    if not scope:
        return None
    level, _, id_ = scope.partition(":")
    number = common_pb2.ScopeLevel.Value("SCOPE_LEVEL_" + level.strip().upper())
    return common_pb2.RiskScope(level=cast("common_pb2.ScopeLevel", number), id=id_.strip())


def entry_error(error: order_pb2.OrderEntryError) -> ItirpError:
    """The typed error of a request refused inside a session (as a unary call would raise it)."""
    code = _CODES.get(error.code, grpc.StatusCode.UNKNOWN)
    return _BY_CODE.get(code, ItirpError)(
        error.message,
        code=code.name,
        reason=error.reason,
        metadata=dict(error.metadata),
        field_violations=[FieldViolation(v.field, v.description) for v in error.field_violations],
        retry_after=error.retry_after_ms / 1000 if error.retry_after_ms else None,
    )


class OrderEntrySession:
    """One order-entry session (`open_session`). Requests go out at once, without
    waiting for answers; each returns a future its answer resolves (matched by tag)."""

    def __init__(self, call: Any) -> None:
        self._call = call
        self._tags = itertools.count(1)
        self._waiting: dict[str, asyncio.Future[Any]] = {}
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reader: asyncio.Task[None] | None = None
        # one writer: grpc takes one write at a time, and the requests go out in the order sent
        self._outbox: asyncio.Queue[order_pb2.OrderEntryRequest] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.session_id = ""
        self.heartbeats = 0

    async def _open(self, request: order_pb2.OrderEntryOpen) -> None:
        """Open the session; a failure raises the call's `grpc.aio.AioRpcError` (the client's call
        loop types it, and may open again elsewhere: see `open_session`)."""
        try:
            await self._call.write(order_pb2.OrderEntryRequest(open=request))
            first = await self._call.read()
        except grpc.RpcError:
            self._call.cancel()
            raise
        self.session_id = first.opened.session_id
        loop = asyncio.get_running_loop()
        self._reader = loop.create_task(self._read(), name="itirp-client-order-entry")
        self._writer = loop.create_task(self._write(), name="itirp-client-order-entry-writer")

    async def _write(self) -> None:
        while True:
            request = await self._outbox.get()
            try:
                await self._call.write(request)
            except (grpc.RpcError, asyncio.InvalidStateError):
                return  # the stream ended: the reader fails what is still waiting

    async def _read(self) -> None:
        error: ItirpError = ServerUnavailable("the order-entry session ended", code="UNAVAILABLE")
        try:
            while True:
                answer = await self._call.read()
                if answer is grpc.aio.EOF:
                    break
                kind = answer.WhichOneof("kind")
                if kind == "ack":
                    self._resolve(answer.ack.tag, answer.ack.order)
                elif kind == "error":
                    future = self._waiting.pop(answer.error.tag, None)
                    if future is not None and not future.done():
                        future.set_exception(entry_error(answer.error))
                elif kind == "heartbeat":
                    self.heartbeats += 1
                elif kind == "closed" and not self._closed.done():
                    self._closed.set_result(None)
        except grpc.RpcError as exc:
            error = from_rpc_error(exc)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(error)
        self._waiting.clear()
        if not self._closed.done():
            self._closed.set_exception(error)

    def _resolve(self, tag: str, order: order_pb2.Order) -> None:
        future = self._waiting.pop(tag, None)
        if future is not None and not future.done():
            future.set_result(order)

    def _send(self, request: order_pb2.OrderEntryRequest, tag: str) -> asyncio.Future[order_pb2.Order]:
        future: asyncio.Future[order_pb2.Order] = asyncio.get_running_loop().create_future()
        if self._closed.done():
            future.set_exception(ServerUnavailable("the order-entry session has ended", code="UNAVAILABLE"))
            return future
        self._waiting[tag] = future
        self._outbox.put_nowait(request)
        return future

    def _tag(self) -> str:
        return f"t{next(self._tags)}"

    def submit(
        self,
        symbol: str,
        side: str | int,
        quantity: int,
        price: str | Decimal | None = None,
        *,
        order_type: str | int | None = None,
        time_in_force: str | int | None = None,
        client_order_id: str = "",
        account: str = "",
    ) -> asyncio.Future[order_pb2.Order]:
        """Send a new order now; the future gives the order once durable (approved or rejected)."""
        order = order_pb2.SubmitOrderRequest(
            symbol=symbol,
            side=_enums.side(side),
            quantity=quantity,
            price="" if price is None else str(price),
            order_type=_enums.order_type(order_type),
            time_in_force=_enums.time_in_force(time_in_force),
            client_order_id=client_order_id,
            account=account,
        )
        tag = self._tag()
        return self._send(order_pb2.OrderEntryRequest(new=order_pb2.OrderEntryNew(tag=tag, order=order)), tag)

    def cancel(self, order_id: str, reason: str = "") -> asyncio.Future[order_pb2.Order]:
        tag = self._tag()
        cancel = order_pb2.CancelOrderRequest(order_id=order_id, reason=reason)
        return self._send(order_pb2.OrderEntryRequest(cancel=order_pb2.OrderEntryCancel(tag=tag, cancel=cancel)), tag)

    def amend(self, order_id: str, *, quantity: int = 0, price: str | Decimal = "") -> asyncio.Future[order_pb2.Order]:
        tag = self._tag()
        amend = order_pb2.AmendOrderRequest(order_id=order_id, quantity=quantity, price=str(price))
        return self._send(order_pb2.OrderEntryRequest(amend=order_pb2.OrderEntryAmend(tag=tag, amend=amend)), tag)

    async def close(self) -> None:
        """End the session cleanly (nothing is cancelled), once every answer has come."""
        if not self._closed.done():
            self._outbox.put_nowait(order_pb2.OrderEntryRequest(close=order_pb2.OrderEntryClose()))
        try:
            await self._closed
        finally:
            if self._reader is not None:
                await self._reader
            if self._writer is not None:
                self._writer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._writer

    def abandon(self) -> None:
        """Drop the stream without a close, as a vanished terminal would."""
        self._call.cancel()
        if self._writer is not None:
            self._writer.cancel()

    async def __aenter__(self) -> OrderEntrySession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class OrderEntryCalls:
    async def cancel_all_orders(
        self: _Client, *, scope: str = "", symbol: str = "", reason: str = ""
    ) -> order_pb2.CancelAllOrdersResponse:
        """Cancel your working orders (a risk manager: everyone's in `scope`). `scope`: "" (yours;
        a risk manager's: the firm), "ACCOUNT:EQ-PROP", "DESK:EQ", "INSTRUMENT:AAPL", "TRADER:name";
        `symbol` narrows it to one instrument."""
        request = order_pb2.CancelAllOrdersRequest(symbol=symbol, reason=reason)
        parsed = parse_scope(scope)
        if parsed is not None:
            request.scope.CopyFrom(parsed)
        return await self._call(self._orders.CancelAllOrders, request)

    async def set_cancel_all_after(self: _Client, seconds: int) -> order_pb2.SetCancelAllAfterResponse:
        """Arm (or renew) the dead-man's switch: your working orders are cancelled unless it is
        renewed within `seconds` (1-3600); 0 disarms it."""
        return await self._call(self._orders.SetCancelAllAfter, order_pb2.SetCancelAllAfterRequest(seconds=seconds))


async def open_session(
    client: Any, *, cancel_on_disconnect: bool = True, heartbeat_seconds: int = 0, name: str = ""
) -> OrderEntrySession:
    """Open an order-entry session on an `AsyncClient` (use it as `async with await
    open_session(client, ...)`, or close it with `await session.close()`). Asyncio only: the
    blocking client has no sessions.

    The opening goes through the client's call loop, so it follows the leader like a unary call
    (NOT_LEADER: opened again at the leader named; with several addresses, a connection failure:
    the next one). A session that is cut is not reopened: its waiting futures fail with
    `ServerUnavailable`; open a new one (it goes to the client's current address, the leader once
    a call has found it)."""
    request = order_pb2.OrderEntryOpen(
        cancel_on_disconnect=cancel_on_disconnect, heartbeat_seconds=heartbeat_seconds, name=name
    )

    async def open_once(request: order_pb2.OrderEntryOpen, metadata: Any) -> OrderEntrySession:
        session = OrderEntrySession(client._orders.OrderEntry(metadata=metadata))
        await session._open(request)
        return session

    opened: OrderEntrySession = await client._call(open_once, request)
    return opened
