"""Mass cancel through gRPC: CancelAllOrders (a trader's own orders; a risk manager's by scope;
entitlement and existence checks) and SetCancelAllAfter (the dead-man's switch fires, is renewed,
is disarmed). A real server on a loopback port with the internal venue, so orders rest WORKING."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import grpc
import pytest

from itirp.server import RunningServer, serve
from itirp.v1 import audit_pb2, audit_pb2_grpc, common_pb2, events_pb2, order_pb2, order_pb2_grpc
from tests.conftest import bearer, login, make_config

BUY = common_pb2.SIDE_BUY
WORKING, CANCELLED = common_pb2.ORDER_STATUS_WORKING, common_pb2.ORDER_STATUS_CANCELLED
Md = Sequence[tuple[str, str]]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    running = await serve(make_config(tmp_path / "data", venue="internal"))
    try:
        yield running
    finally:
        await running.shutdown(grace=0.5)



async def md_of(channel: grpc.aio.Channel, user: str) -> Md:
    return bearer((await login(channel, user)).access_token)


async def submit(channel: grpc.aio.Channel, md: Md, symbol: str = "AAPL", price: str = "100.00") -> str:
    stub = order_pb2_grpc.OrderServiceStub(channel)
    request = order_pb2.SubmitOrderRequest(symbol=symbol, side=BUY, quantity=10, price=price)
    reply = await stub.SubmitOrder(request, metadata=md)
    assert reply.order.status == WORKING
    return str(reply.order_id)


async def status(channel: grpc.aio.Channel, md: Md, order_id: str) -> int:
    stub = order_pb2_grpc.OrderServiceStub(channel)
    return int((await stub.GetOrder(order_pb2.GetOrderRequest(order_id=order_id), metadata=md)).order.status)


def scope(level: common_pb2.ScopeLevel, id_: str) -> common_pb2.RiskScope:
    return common_pb2.RiskScope(level=level, id=id_)


async def test_a_trader_cancels_only_their_own_orders(channel: grpc.aio.Channel) -> None:
    trader, risk = await md_of(channel, "trader1"), await md_of(channel, "risk1")
    mine = [await submit(channel, trader), await submit(channel, trader, "MSFT", "300.00")]
    theirs = await submit(channel, risk)
    stub = order_pb2_grpc.OrderServiceStub(channel)

    reply = await stub.CancelAllOrders(order_pb2.CancelAllOrdersRequest(reason="leaving"), metadata=trader)

    assert sorted(reply.cancelled_order_ids) == sorted(mine)
    assert list(reply.pending_order_ids) == []
    assert [await status(channel, trader, o) for o in mine] == [CANCELLED, CANCELLED]
    assert await status(channel, risk, theirs) == WORKING
    # nothing left: a second one records nothing and cancels nothing
    again = await stub.CancelAllOrders(order_pb2.CancelAllOrdersRequest(), metadata=trader)
    assert list(again.cancelled_order_ids) == []
    audit = audit_pb2_grpc.AuditServiceStub(channel)
    request = audit_pb2.ListEventsRequest(
        from_sequence=1,
        filter=audit_pb2.EventFilter(event_types=[events_pb2.EVENT_TYPE_MASS_CANCEL_REQUESTED]),
    )
    (mass,) = (await audit.ListEvents(request, metadata=await md_of(channel, "compliance1"))).events
    assert mass.mass_cancel_requested.trigger == "cancel_all"
    assert mass.mass_cancel_requested.reason == "leaving"
    assert mass.mass_cancel_requested.orders == 2
    assert mass.mass_cancel_requested.scope == scope(common_pb2.SCOPE_LEVEL_TRADER, "trader1")


async def test_a_trader_may_name_their_own_trader_scope_but_not_another_level(channel: grpc.aio.Channel) -> None:
    trader = await md_of(channel, "trader1")
    order_id = await submit(channel, trader)
    stub = order_pb2_grpc.OrderServiceStub(channel)

    for refused in (scope(common_pb2.SCOPE_LEVEL_INSTRUMENT, "AAPL"), scope(common_pb2.SCOPE_LEVEL_TRADER, "risk1")):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.CancelAllOrders(order_pb2.CancelAllOrdersRequest(scope=refused), metadata=trader)
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await status(channel, trader, order_id) == WORKING

    own = scope(common_pb2.SCOPE_LEVEL_TRADER, "trader1")
    reply = await stub.CancelAllOrders(order_pb2.CancelAllOrdersRequest(scope=own), metadata=trader)
    assert list(reply.cancelled_order_ids) == [order_id]


async def test_a_risk_manager_cancels_everyones_orders_in_an_instrument(channel: grpc.aio.Channel) -> None:
    trader, risk = await md_of(channel, "trader1"), await md_of(channel, "risk1")
    apple = [await submit(channel, trader), await submit(channel, risk, price="99.00")]
    microsoft = await submit(channel, trader, "MSFT", "300.00")
    stub = order_pb2_grpc.OrderServiceStub(channel)

    request = order_pb2.CancelAllOrdersRequest(scope=scope(common_pb2.SCOPE_LEVEL_INSTRUMENT, "AAPL"), reason="halt")
    reply = await stub.CancelAllOrders(request, metadata=risk)

    assert sorted(reply.cancelled_order_ids) == sorted(apple)
    assert await status(channel, trader, microsoft) == WORKING


async def test_accounts_a_trader_is_not_entitled_to_or_that_do_not_exist_are_refused(
    server: RunningServer, channel: grpc.aio.Channel
) -> None:
    # the demo desk: trader1 is entitled to EQ-PROP (default), EQ-CLIENT-1 and MACRO-PROP, not MACRO-CLIENT-1
    trader, risk = await md_of(channel, "trader1"), await md_of(channel, "risk1")
    stub = order_pb2_grpc.OrderServiceStub(channel)

    def cancel_in(level: common_pb2.ScopeLevel, id_: str) -> order_pb2.CancelAllOrdersRequest:
        return order_pb2.CancelAllOrdersRequest(scope=scope(level, id_))

    with pytest.raises(grpc.aio.AioRpcError) as not_entitled:
        await stub.CancelAllOrders(cancel_in(common_pb2.SCOPE_LEVEL_ACCOUNT, "MACRO-CLIENT-1"), metadata=trader)
    with pytest.raises(grpc.aio.AioRpcError) as no_account:
        await stub.CancelAllOrders(cancel_in(common_pb2.SCOPE_LEVEL_ACCOUNT, "NOPE"), metadata=trader)
    with pytest.raises(grpc.aio.AioRpcError) as no_desk:
        await stub.CancelAllOrders(cancel_in(common_pb2.SCOPE_LEVEL_DESK, "NOPE"), metadata=risk)

    assert not_entitled.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "not entitled" in str(not_entitled.value.details())
    assert no_account.value.code() == grpc.StatusCode.NOT_FOUND
    assert no_desk.value.code() == grpc.StatusCode.NOT_FOUND
    # an account they are entitled to: their orders in it
    mine = order_pb2.CancelAllOrdersRequest(scope=scope(common_pb2.SCOPE_LEVEL_ACCOUNT, "EQ-PROP"))
    order_id = await submit(channel, trader)
    assert list((await stub.CancelAllOrders(mine, metadata=trader)).cancelled_order_ids) == [order_id]


async def test_cancel_all_after_fires_when_not_renewed(channel: grpc.aio.Channel) -> None:
    trader = await md_of(channel, "trader1")
    order_id = await submit(channel, trader)
    stub = order_pb2_grpc.OrderServiceStub(channel)

    reply = await stub.SetCancelAllAfter(order_pb2.SetCancelAllAfterRequest(seconds=1), metadata=trader)
    assert reply.armed
    assert reply.deadline.seconds > 0

    for _ in range(500):  # at most ~10 s
        if await status(channel, trader, order_id) == CANCELLED:
            break
        await asyncio.sleep(0.02)
    assert await status(channel, trader, order_id) == CANCELLED


async def test_cancel_all_after_renewed_or_disarmed_does_not_fire(channel: grpc.aio.Channel) -> None:
    trader = await md_of(channel, "trader1")
    order_id = await submit(channel, trader)
    stub = order_pb2_grpc.OrderServiceStub(channel)

    await stub.SetCancelAllAfter(order_pb2.SetCancelAllAfterRequest(seconds=1), metadata=trader)
    renewed = await stub.SetCancelAllAfter(order_pb2.SetCancelAllAfterRequest(seconds=60), metadata=trader)
    assert renewed.armed
    await asyncio.sleep(1.5)  # past the first deadline: the renewal replaced it
    assert await status(channel, trader, order_id) == WORKING
    disarmed = await stub.SetCancelAllAfter(order_pb2.SetCancelAllAfterRequest(seconds=0), metadata=trader)
    assert not disarmed.armed
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SetCancelAllAfter(order_pb2.SetCancelAllAfterRequest(seconds=3601), metadata=trader)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
