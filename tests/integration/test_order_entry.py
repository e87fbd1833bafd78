"""Order-entry sessions (OrderService.OrderEntry) and message throttles, through gRPC: pipelined
requests answered in order, a bad request answered alone, cancel-on-disconnect when the client
vanishes, a clean close, the session events in the log, throttled messages. A real server on a
loopback port (the internal venue, so orders rest WORKING), real grpc.aio channels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from itirp.server import RunningServer, serve
from itirp.v1 import audit_pb2, audit_pb2_grpc, common_pb2, events_pb2, order_pb2, order_pb2_grpc
from tests.conftest import bearer, login, make_config

BUY = common_pb2.SIDE_BUY
WORKING, CANCELLED = common_pb2.ORDER_STATUS_WORKING, common_pb2.ORDER_STATUS_CANCELLED
E = events_pb2
Req = order_pb2.OrderEntryRequest


async def _server(tmp_path: Path, **overrides: object) -> AsyncIterator[RunningServer]:
    running = await serve(make_config(tmp_path / "data", venue="internal", **overrides))
    try:
        yield running
    finally:
        await running.shutdown(grace=0.5)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    async for running in _server(tmp_path):
        yield running


@pytest.fixture
async def throttled(tmp_path: Path) -> AsyncIterator[RunningServer]:
    """One new order per second (a burst of one): the second at once is refused."""
    async for running in _server(tmp_path, throttle_new_per_second=1.0):
        yield running


def new(tag: str, price: str = "100.00", symbol: str = "AAPL", quantity: int = 10) -> Req:
    order = order_pb2.SubmitOrderRequest(symbol=symbol, side=BUY, quantity=quantity, price=price)
    return Req(new=order_pb2.OrderEntryNew(tag=tag, order=order))


def open_(cancel_on_disconnect: bool = False, heartbeat_seconds: int = 0) -> Req:
    return Req(
        open=order_pb2.OrderEntryOpen(
            cancel_on_disconnect=cancel_on_disconnect, heartbeat_seconds=heartbeat_seconds, name="terminal-7"
        )
    )


async def token(channel: grpc.aio.Channel, user: str = "trader1") -> tuple[tuple[str, str], ...]:
    return bearer((await login(channel, user)).access_token)


async def events_of(channel: grpc.aio.Channel, *types: events_pb2.EventType) -> list[events_pb2.Event]:
    audit = audit_pb2_grpc.AuditServiceStub(channel)
    request = audit_pb2.ListEventsRequest(from_sequence=1, filter=audit_pb2.EventFilter(event_types=list(types)))
    return list((await audit.ListEvents(request, metadata=await token(channel, "compliance1"))).events)


async def order_status(channel: grpc.aio.Channel, order_id: str, md: Sequence[tuple[str, str]]) -> int:
    stub = order_pb2_grpc.OrderServiceStub(channel)
    reply = await stub.GetOrder(order_pb2.GetOrderRequest(order_id=order_id), metadata=md)
    return int(reply.order.status)


async def wait_status(channel: grpc.aio.Channel, order_id: str, md: Sequence[tuple[str, str]], status: int) -> None:
    for _ in range(500):  # at most ~10 s
        if await order_status(channel, order_id, md) == status:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"order {order_id} never reached status {status}")


async def test_pipelined_requests_are_answered_in_order_and_a_clean_close_cancels_nothing(
    server: RunningServer,
) -> None:
    async with grpc.aio.insecure_channel(server.address) as channel:
        md = await token(channel)
        call = order_pb2_grpc.OrderServiceStub(channel).OrderEntry(metadata=md)
        await call.write(open_(cancel_on_disconnect=True))
        # Act: ten orders sent without waiting for any answer
        for n in range(10):
            await call.write(new(f"t{n}", price=f"{100 + n}.00"))
        opened = (await call.read()).opened
        acks = [await call.read() for _ in range(10)]
        await call.write(Req(close=order_pb2.OrderEntryClose()))
        closed = await call.read()
        assert await call.read() == grpc.aio.EOF

        # Assert: answered in the order sent, each with its order, durable and resting
        assert opened.session_id
        assert opened.cancel_on_disconnect
        assert [a.ack.tag for a in acks] == [f"t{n}" for n in range(10)]
        assert [a.ack.order.price for a in acks] == [f"{100 + n}.00" for n in range(10)]
        assert {a.ack.order.status for a in acks} == {WORKING}
        assert closed.closed.session_id == opened.session_id
        for ack in acks:  # a clean close cancels nothing
            assert await order_status(channel, ack.ack.order.order_id, md) == WORKING
        sessions = await events_of(channel, E.EVENT_TYPE_SESSION_OPENED, E.EVENT_TYPE_SESSION_CLOSED)
        assert [e.event_type for e in sessions] == [E.EVENT_TYPE_SESSION_OPENED, E.EVENT_TYPE_SESSION_CLOSED]
        assert sessions[0].session_opened.name == "terminal-7"
        assert sessions[0].session_opened.username == "trader1"
        assert sessions[0].session_opened.client_address.startswith("ipv")
        assert sessions[1].session_closed.clean
        assert sessions[1].session_closed.orders_cancelled == 0
        assert await events_of(channel, E.EVENT_TYPE_MASS_CANCEL_REQUESTED) == []
        created = await events_of(channel, E.EVENT_TYPE_ORDER_CREATED)
        assert {e.order_created.session_id for e in created} == {opened.session_id}


async def test_a_bad_request_gets_its_error_and_the_session_goes_on(server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(server.address) as channel:
        call = order_pb2_grpc.OrderServiceStub(channel).OrderEntry(metadata=await token(channel))
        await call.write(open_())
        await call.write(new("bad", symbol="NOPE"))
        await call.write(new("bad-price", price="-1"))
        await call.write(Req(cancel=order_pb2.OrderEntryCancel(tag="who", cancel=order_pb2.CancelOrderRequest())))
        await call.write(new("good"))
        await call.write(Req(heartbeat=common_pb2.StreamHeartbeat()))  # ignored: no answer
        await call.write(Req(close=order_pb2.OrderEntryClose()))
        answers = [await call.read() for _ in range(6)]

        assert answers[0].WhichOneof("kind") == "opened"
        unknown, bad_price, no_id, good, closed = answers[1:]
        assert unknown.error.tag == "bad"
        assert unknown.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        assert unknown.error.reason == "UNKNOWN_SYMBOL"
        assert unknown.error.metadata["symbol"] == "NOPE"
        assert bad_price.error.tag == "bad-price"
        assert bad_price.error.field_violations[0].field == "price"
        assert no_id.error.tag == "who"
        assert no_id.error.field_violations[0].field == "cancel.cancel.order_id"
        assert good.ack.tag == "good"
        assert good.ack.order.status == WORKING
        assert closed.WhichOneof("kind") == "closed"


async def test_the_first_message_must_be_open(server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(server.address) as channel:
        call = order_pb2_grpc.OrderServiceStub(channel).OrderEntry(metadata=await token(channel))
        await call.write(new("early"))
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call.read()
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_dropped_connection_cancels_the_sessions_working_orders(server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(server.address) as watcher:
        md = await token(watcher)
        # Arrange: an order entered outside the session (it must survive)
        outside = await order_pb2_grpc.OrderServiceStub(watcher).SubmitOrder(
            order_pb2.SubmitOrderRequest(symbol="MSFT", side=BUY, quantity=5, price="300.00"), metadata=md
        )
        terminal = grpc.aio.insecure_channel(server.address)
        call = order_pb2_grpc.OrderServiceStub(terminal).OrderEntry(metadata=md)
        await call.write(open_(cancel_on_disconnect=True))
        await call.write(new("a"))
        await call.write(new("b", price="99.00"))
        session_id = (await call.read()).opened.session_id
        order_ids = [(await call.read()).ack.order.order_id for _ in range(2)]

        # Act: the terminal vanishes without a close
        await terminal.close()

        # Assert: the session's orders are cancelled, the other one is not
        for order_id in order_ids:
            await wait_status(watcher, order_id, md, CANCELLED)
        assert await order_status(watcher, outside.order_id, md) == WORKING
        for _ in range(200):
            closed = await events_of(watcher, E.EVENT_TYPE_SESSION_CLOSED)
            if closed:
                break
            await asyncio.sleep(0.02)
        assert len(closed) == 1
        assert not closed[0].session_closed.clean
        assert closed[0].session_closed.session_id == session_id
        assert closed[0].session_closed.orders_cancelled == 2
        (mass,) = await events_of(watcher, E.EVENT_TYPE_MASS_CANCEL_REQUESTED)
        assert mass.mass_cancel_requested.trigger == "disconnect"
        assert mass.mass_cancel_requested.session_id == session_id
        assert mass.mass_cancel_requested.orders == 2
        cancels = await events_of(watcher, E.EVENT_TYPE_ORDER_CANCELLED)
        assert {e.order_id for e in cancels} == set(order_ids)
        assert {e.causation_id for e in cancels} == {mass.event_id}


async def test_an_idle_session_gets_heartbeats(server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(server.address) as channel:
        call = order_pb2_grpc.OrderServiceStub(channel).OrderEntry(metadata=await token(channel))
        await call.write(open_(heartbeat_seconds=1))
        assert (await call.read()).opened.heartbeat_seconds == 1
        beat = await asyncio.wait_for(call.read(), timeout=10)
        assert beat.WhichOneof("kind") == "heartbeat"
        assert beat.heartbeat.head_sequence > 0
        await call.write(Req(close=order_pb2.OrderEntryClose()))
        assert (await call.read()).WhichOneof("kind") == "closed"


def retry_info(error: grpc.aio.AioRpcError) -> tuple[str, dict[str, str], float]:
    status = rpc_status.from_call(error)
    assert status is not None
    reason, metadata, delay = "", {}, 0.0
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            delay = retry.retry_delay.ToNanoseconds() / 1e9
    return reason, metadata, delay


async def test_a_unary_new_order_over_the_rate_is_throttled_and_records_nothing(throttled: RunningServer) -> None:
    async with grpc.aio.insecure_channel(throttled.address) as channel:
        md = await token(channel)
        stub = order_pb2_grpc.OrderServiceStub(channel)
        request = order_pb2.SubmitOrderRequest(symbol="AAPL", side=BUY, quantity=1, price="100.00")
        head = throttled.store.head_sequence
        results = await asyncio.gather(
            *(stub.SubmitOrder(request, metadata=md) for _ in range(3)), return_exceptions=True
        )

        refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
        assert len(refused) >= 1
        assert len(refused) + len([r for r in results if not isinstance(r, Exception)]) == 3
        assert refused[0].code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        reason, metadata, delay = retry_info(refused[0])
        assert reason == "THROTTLED"
        assert delay > 0
        assert metadata == {"message": "new", "scope": "TRADER:trader1", "rate_per_second": "1"}
        accepted = 3 - len(refused)
        created = await events_of(channel, E.EVENT_TYPE_ORDER_CREATED)
        assert len(created) == accepted
        assert throttled.store.head_sequence > head


async def test_a_throttled_request_in_a_session_is_an_error_and_the_session_goes_on(
    throttled: RunningServer,
) -> None:
    async with grpc.aio.insecure_channel(throttled.address) as channel:
        call = order_pb2_grpc.OrderServiceStub(channel).OrderEntry(metadata=await token(channel))
        await call.write(open_())
        await call.write(new("first"))
        await call.write(new("second"))
        await call.write(Req(close=order_pb2.OrderEntryClose()))
        answers = [await call.read() for _ in range(4)]

        first, second = answers[1], answers[2]
        assert first.ack.tag == "first"
        assert second.error.tag == "second"
        assert second.error.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
        assert second.error.reason == "THROTTLED"
        assert second.error.retry_after_ms > 0
        assert second.error.metadata["scope"] in ("TRADER:trader1", f"SESSION:{answers[0].opened.session_id}")
        assert answers[3].WhichOneof("kind") == "closed"


async def test_the_python_client_pipelines_a_session_and_cancels_all(server: RunningServer) -> None:
    import itirp_client
    from itirp_client import InvalidRequest
    from itirp_client.order_entry import open_session

    async with await itirp_client.aconnect(server.address, "trader1", "trader123") as desk:
        session = await open_session(desk, cancel_on_disconnect=True, name="client-test")
        async with session:
            futures = [session.submit("AAPL", "BUY", 10, f"{90 + n}.00") for n in range(5)]
            bad = session.submit("NOPE", "BUY", 10, "1.00")
            orders = [await f for f in futures]
            with pytest.raises(InvalidRequest):
                await bad
            amended = await session.amend(orders[0].order_id, quantity=20)
            cancelled = await session.cancel(orders[1].order_id)
        assert session.session_id
        assert [o.price for o in orders] == [f"{90 + n}.00" for n in range(5)]
        assert amended.quantity == 20
        assert cancelled.status == CANCELLED

        reply = await desk.cancel_all_orders(scope="TRADER:trader1", reason="done")
        assert sorted(reply.cancelled_order_ids) == sorted(o.order_id for o in orders if o != orders[1])
        armed = await desk.set_cancel_all_after(30)
        assert armed.armed
        assert not (await desk.set_cancel_all_after(0)).armed


async def test_a_logout_ends_the_session_as_cut_and_cancels_its_orders(server: RunningServer) -> None:
    from itirp.v1 import auth_pb2, auth_pb2_grpc

    async with grpc.aio.insecure_channel(server.address) as channel:
        md = await token(channel)
        other = await token(channel)  # another login of the same trader, to watch
        call = order_pb2_grpc.OrderServiceStub(channel).OrderEntry(metadata=md)
        await call.write(open_(cancel_on_disconnect=True))
        await call.write(new("a"))
        await call.read()
        order_id = (await call.read()).ack.order.order_id

        await auth_pb2_grpc.AuthServiceStub(channel).Logout(auth_pb2.LogoutRequest(), metadata=md)

        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await call.read()
        assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED
        await wait_status(channel, order_id, other, CANCELLED)


async def test_a_server_shutdown_ends_the_session_and_cancels_its_orders(tmp_path: Path) -> None:
    running = await serve(make_config(tmp_path / "data", venue="internal"))
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            call = order_pb2_grpc.OrderServiceStub(channel).OrderEntry(metadata=await token(channel))
            await call.write(open_(cancel_on_disconnect=True))
            await call.write(new("a"))
            await call.read()
            order_id = (await call.read()).ack.order.order_id
            stopping = asyncio.ensure_future(running.shutdown(grace=2.0))
            with pytest.raises(grpc.aio.AioRpcError) as ended:
                await call.read()
            assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
            await stopping
    finally:
        await running.shutdown(grace=0.5)
    assert running.trading.core.state.orders[order_id].status.value == "CANCELLED"
    restarted = await serve(make_config(tmp_path / "data", venue="internal"))
    try:
        assert restarted.trading.core.state.orders[order_id].status.value == "CANCELLED"
    finally:
        await restarted.shutdown(grace=0.5)
