"""Each order stream update is the order exactly as its own event left it (issue 12): folding the
log up to sequence N gives update N - on a live stream, on a resume from the start, and on a resume
served by folding the order's events from the log (the core's recent moments switched off).

Before: the PENDING and RISK_CHECK updates of an order rejected a moment later already carried the
rejection's violations, and PENDING showed `execution_attempts` 1."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from itirp.core.state import TradingState
from itirp.server import RunningServer, serve
from itirp.server.servicers.orders_convert import order_to_proto
from itirp.v1 import common_pb2, order_pb2
from tests.conftest import make_config
from tests.integration.test_trading import Desk, open_desk

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
SEED = 1202


@pytest.fixture(params=["internal", "simulated"])
async def running(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[tuple[RunningServer, Desk]]:
    server = await serve(make_config(tmp_path / "data", venue=request.param, access_log=False))
    desk, channel = await open_desk(server)
    try:
        yield server, desk
    finally:
        await channel.close()
        await server.shutdown(grace=1)


async def trade(desk: Desk, rng: random.Random, n: int) -> None:
    """Orders that rest, cross in part, are rejected, cancelled and amended."""
    ids: list[str] = []
    for _ in range(n):
        side = rng.choice([BUY, SELL])
        quantity = rng.choice([10, 50, 100, 200_000])  # the last is above the position limit
        price = rng.choice(["99.00", "100.00", "101.00"])
        reply = await desk.submit("AAPL", side, quantity, price)
        ids.append(reply.order_id)
        if rng.random() < 0.3:
            target = rng.choice(ids)
            with contextlib.suppress(grpc.aio.AioRpcError):  # finished orders refuse: part of the mix
                await desk.orders.CancelOrder(order_pb2.CancelOrderRequest(order_id=target), metadata=desk.md())
        if rng.random() < 0.2:
            target = rng.choice(ids)
            with contextlib.suppress(grpc.aio.AioRpcError):  # only resting orders on the internal venue amend
                await desk.orders.AmendOrder(
                    order_pb2.AmendOrderRequest(order_id=target, quantity=rng.choice([60, 300])), metadata=desk.md()
                )


async def updates(desk: Desk, *, from_sequence: int, until: int) -> list[order_pb2.OrderUpdate]:
    """The stream's updates (snapshots aside) up to sequence `until`."""
    stream = desk.orders.StreamOrderUpdates(
        order_pb2.StreamOrderUpdatesRequest(from_sequence=from_sequence), metadata=desk.md()
    )
    got: list[order_pb2.OrderUpdate] = []
    try:
        while not got or got[-1].sequence < until:
            item = await asyncio.wait_for(stream.read(), 20)
            if item.WhichOneof("kind") == "update" and not item.update.snapshot:
                got.append(item.update)
    finally:
        stream.cancel()
    return [u for u in got if u.sequence <= until]


async def folded(server: RunningServer) -> dict[int, order_pb2.Order]:
    """Every order event's order, as a fresh fold of the stored log up to that event."""
    state, expected = TradingState(), {}
    for event in await server.store.read(after=0):
        state.apply(event)
        if event.order_id:
            order = state.orders[event.order_id]
            expected[event.sequence] = order_to_proto(order, sequence=event.sequence, at_us=event.timestamp_us)
    return expected


async def test_every_update_is_the_order_as_its_own_event_left_it(running: tuple[RunningServer, Desk]) -> None:
    # Arrange: a live stream from before the first order
    server, desk = running
    head = server.store.head_sequence
    stream = desk.orders.StreamOrderUpdates(order_pb2.StreamOrderUpdatesRequest(), metadata=desk.md())
    assert (await stream.read()).WhichOneof("kind") == "caught_up"  # no open orders yet

    # Act
    await trade(desk, random.Random(SEED), 40)
    await asyncio.sleep(0.3)  # executions after the replies settle
    marker = (await desk.submit("AAPL", BUY, 1, "1.00")).order_id
    moving = (common_pb2.ORDER_STATUS_APPROVED, common_pb2.ORDER_STATUS_EXECUTING)
    for _ in range(500):  # the marker has left the execution path: nothing is still moving
        if (await desk.get(marker)).status not in moving:
            break
        await asyncio.sleep(0.01)
    last = server.store.head_sequence
    expected = await folded(server)
    live: list[order_pb2.OrderUpdate] = []
    while not live or live[-1].sequence < last:
        item = await asyncio.wait_for(stream.read(), 20)
        if item.WhichOneof("kind") == "update":
            live.append(item.update)
    stream.cancel()
    replayed = await updates(desk, from_sequence=head, until=last)
    server.trading.core.state.keep_moments(0)  # now every earlier moment is rebuilt from the log
    rebuilt = await updates(desk, from_sequence=head, until=last)

    # Assert
    assert len(replayed) > 100
    for name, got in (("live", live), ("resumed", replayed), ("rebuilt from the log", rebuilt)):
        assert [u.sequence for u in got] == sorted(s for s in expected if s > head), name
        for update in got:
            assert update.order == expected[update.sequence], f"{name}: update {update.sequence}"
    violations_before_rejection = [
        u for u in replayed if u.order.status != common_pb2.ORDER_STATUS_REJECTED and u.order.violations
    ]
    assert violations_before_rejection == []
