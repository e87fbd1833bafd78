"""itirp.v1.OrderService/OrderEntry: the order-entry session stream.

The first request must be `open` (else the stream ends INVALID_ARGUMENT); the session is recorded
(SESSION_OPENED) and answered `opened`. Then each `new`, `cancel` and `amend` is carried out in
the order sent, through the same application paths as the unary calls, and answered in that
order: `ack` with the order once durable, or `error` (the code, reason and details the unary call
would have been refused with) for that request alone; the session stays open. `heartbeat` keeps
it alive; with `heartbeat_seconds` the server sends one after that many idle seconds. `close`
ends it cleanly (SESSION_CLOSED clean, answered `closed`). Any other end (the client vanished,
keepalive failed, access taken away, the server stopping) closes it as cut, and with
cancel-on-disconnect the orders it entered that still work are cancelled (`itirp.app.sessions`).

Requests are read by one task per session into a bounded queue (back-pressure on a client that
sends faster than it is answered). A second task starts each request as it arrives, in order:
the core step of a request (its validation, risk check and events) runs at once, so requests are
carried out in the order sent, and the session does not wait for one request's events to be
durable before carrying out the next (they share a group commit). The handler answers them in
the same order, each once its own events are durable; at most `WINDOW` are in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import grpc
from google.rpc import error_details_pb2

from itirp.app.sessions import OrderEntrySessions, Session
from itirp.app.trading import TradingService
from itirp.core.commands import AmendOrder, CancelOrder
from itirp.core.sessions import OpenSession
from itirp.errors import InvalidArgument, Reason, Unavailable
from itirp.server.requests import check_request
from itirp.server.servicers.convert import current_actor, timestamp_from_seconds
from itirp.server.servicers.orders_convert import entry_ack, submit_command
from itirp.server.status import MAPPED, rich_status
from itirp.v1 import common_pb2, order_pb2

__all__ = ["OrderEntry", "entry_error"]

Response = order_pb2.OrderEntryResponse

#: Requests read ahead of the one being answered.
INBOX: Final = 1000
#: Requests carried out and not yet answered (waiting for their events to be durable).
WINDOW: Final = 256

_END: Final = object()  # the client ended its side of the stream
_CUT: Final = object()  # the server ends the session (shutdown)
_CLOSE: Final = object()  # the client closed the session cleanly


def entry_error(tag: str, error: Exception) -> order_pb2.OrderEntryError:
    """The in-session form of the status a unary call would have been refused with."""
    status = rich_status(error)
    answer = order_pb2.OrderEntryError(tag=tag, code=status.code, message=status.message)
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            answer.reason = info.reason
            answer.metadata.update(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            answer.field_violations.extend(
                order_pb2.OrderEntryFieldViolation(field=v.field, description=v.description)
                for v in bad.field_violations
            )
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            answer.retry_after_ms = max(1, -(-retry.retry_delay.ToNanoseconds() // 1_000_000))
    return answer


async def _pump(requests: AsyncIterator[Any], inbox: asyncio.Queue[object]) -> None:
    """Read the client's requests into `inbox`, then `_END` (or the error that ended the read)."""
    try:
        async for request in requests:
            await inbox.put(request)
    except Exception as exc:  # noqa: BLE001 - the read failed: the session ends as cut, saying why
        await inbox.put(exc)
    else:
        await inbox.put(_END)


def _open_command(first: object, peer: str) -> OpenSession:
    """The session the first request opens (INVALID_ARGUMENT when it is not `open`)."""
    check_request(first)
    if not isinstance(first, order_pb2.OrderEntryRequest) or first.WhichOneof("kind") != "open":
        raise InvalidArgument("open", "the first message of an order-entry session must be `open`")
    request = first.open
    return OpenSession(
        actor=current_actor(new_correlation=True),
        name=request.name,
        cancel_on_disconnect=request.cancel_on_disconnect,
        heartbeat_seconds=request.heartbeat_seconds,
        client_address=peer,
    )


class OrderEntry:
    def __init__(
        self,
        trading: TradingService,
        sessions: OrderEntrySessions,
        *,
        clock: Callable[[], float],
        head_sequence: Callable[[], int],
    ) -> None:
        self._trading = trading
        self._sessions = sessions
        self._clock = clock
        self._head = head_sequence

    async def serve(self, requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> AsyncIterator[Response]:
        first = await anext(requests, _END)
        if first is _END:
            return  # ended before it began: nothing to record
        session = await self._sessions.open(_open_command(first, context.peer()))
        inbox: asyncio.Queue[object] = asyncio.Queue(INBOX)
        answers: asyncio.Queue[object] = asyncio.Queue(WINDOW)
        loop = asyncio.get_running_loop()
        reader = loop.create_task(_pump(requests, inbox), name="itirp-order-entry-reader")
        starter = loop.create_task(self._start(session, inbox, answers), name="itirp-order-entry-starter")
        session.on_cut = lambda: _cut(inbox, reader)
        reason = "the stream was cancelled (the client went away, its connection failed, or its access ended)"
        try:
            yield Response(
                opened=order_pb2.OrderEntryOpened(
                    session_id=session.session_id,
                    cancel_on_disconnect=session.cancel_on_disconnect,
                    heartbeat_seconds=session.heartbeat_seconds,
                )
            )
            while True:
                item = await self._next(answers, session.heartbeat_seconds)
                if item is None:
                    yield Response(heartbeat=self._heartbeat())
                    continue
                if isinstance(item, asyncio.Task):
                    yield await item
                    continue
                if item is _END or isinstance(item, BaseException) or item is _CUT:
                    reason = _why_ended(item)
                    break
                assert item is _CLOSE
                await self._sessions.end(session, clean=True, reason="closed by the client")
                yield Response(closed=order_pb2.OrderEntryClosed(session_id=session.session_id))
                return
            await asyncio.shield(self._sessions.end(session, clean=False, reason=reason))
            if item is _CUT:
                raise Unavailable(
                    "the server is shutting down: the session was closed; open a new one on another server or later",
                    reason=Reason.SHUTTING_DOWN,
                    retry_after_seconds=1.0,
                )
        finally:
            reader.cancel()
            starter.cancel()
            if session.ending is None:  # cancelled by grpc (or its access ended): the end still runs
                await asyncio.shield(self._sessions.end(session, clean=False, reason=reason))

    async def _start(self, session: Session, inbox: asyncio.Queue[object], answers: asyncio.Queue[object]) -> None:
        """Start each request as it arrives, in order (its core step runs in the task's first
        step, before the next request's), and hand its task to the handler to answer; pass the
        end of the session on after the requests before it."""
        loop = asyncio.get_running_loop()
        while True:
            item = await inbox.get()
            if item is _END or isinstance(item, BaseException) or item is _CUT:
                await answers.put(item)
                return
            kind = item.WhichOneof("kind") if isinstance(item, order_pb2.OrderEntryRequest) else None
            if kind == "heartbeat":
                continue
            if kind == "close":
                await answers.put(_CLOSE)
                return
            await answers.put(loop.create_task(self._answer(session, item, kind)))

    async def _next(self, inbox: asyncio.Queue[object], heartbeat_seconds: int) -> object | None:
        """The next request (or end marker); None after `heartbeat_seconds` idle (0: no limit)."""
        if not heartbeat_seconds:
            return await inbox.get()
        try:
            async with asyncio.timeout(heartbeat_seconds):
                return await inbox.get()
        except TimeoutError:
            return None

    def _heartbeat(self) -> common_pb2.StreamHeartbeat:
        return common_pb2.StreamHeartbeat(timestamp=timestamp_from_seconds(self._clock()), head_sequence=self._head())

    async def _answer(self, session: Session, request: object, kind: str | None) -> Response:
        """Carry out one request; its `ack`, or its `error` (the session goes on)."""
        tag = getattr(getattr(request, kind), "tag", "") if kind else ""
        try:
            check_request(request)
            assert isinstance(request, order_pb2.OrderEntryRequest)
            return await self._carry_out(session, request, kind, tag)
        except MAPPED as exc:
            return Response(error=entry_error(tag, exc))

    async def _carry_out(
        self, session: Session, request: order_pb2.OrderEntryRequest, kind: str | None, tag: str
    ) -> Response:
        """The request's `ack` (built in one go, `entry_ack`)."""
        trading, session_id = self._trading, session.session_id
        if kind == "new":
            return entry_ack(tag, await trading.submit(submit_command(request.new.order, session_id)))
        if kind == "cancel":
            cancel = request.cancel.cancel
            if not cancel.order_id:
                raise InvalidArgument("cancel.cancel.order_id", "required")
            command_c = CancelOrder(actor=current_actor(), order_id=cancel.order_id, reason=cancel.reason)
            order = await trading.cancel(command_c, session_id=session_id)
            return entry_ack(tag, order)
        if kind == "amend":
            amend = request.amend.amend
            if not amend.order_id:
                raise InvalidArgument("amend.amend.order_id", "required")
            command_a = AmendOrder(
                actor=current_actor(), order_id=amend.order_id, quantity=amend.quantity, price=amend.price
            )
            order, kept = await trading.amend(command_a, session_id=session_id)
            return entry_ack(tag, order, kept)
        if kind == "open":
            raise InvalidArgument("open", f"the session {session_id} is open already")
        raise InvalidArgument("kind", "give one of new, cancel, amend, heartbeat or close")


def _cut(inbox: asyncio.Queue[object], reader: asyncio.Task[None]) -> None:
    """The server ends the session: the handler reads `_CUT` next (requests not yet read are not
    carried out)."""
    reader.cancel()
    while not inbox.empty():
        inbox.get_nowait()
    inbox.put_nowait(_CUT)


def _why_ended(item: object) -> str:
    if item is _CUT:
        return "the server is shutting down"
    if isinstance(item, BaseException):
        return f"the stream failed: {item}"
    return "the client ended the stream without a close"
