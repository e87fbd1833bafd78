"""The client library against a real server: sessions, typed errors, idempotent retries, and
streams that resume across a server restart with nothing missed or repeated."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import grpc
import pytest

import itirp_client
from itirp.server import serve
from itirp.v1 import common_pb2
from itirp_client import AsyncClient
from tests.conftest import make_config

S = common_pb2


async def settle(client: AsyncClient, order_id: str) -> object:
    for _ in range(300):
        order = await client.get_order(order_id)
        if order.status in (
            S.ORDER_STATUS_EXECUTED,
            S.ORDER_STATUS_FAILED,
            S.ORDER_STATUS_REJECTED,
            S.ORDER_STATUS_CANCELLED,
        ):
            return order
        await asyncio.sleep(0.01)
    raise AssertionError("order never settled")


async def test_session_submit_and_typed_errors(server) -> None:  # type: ignore[no-untyped-def]
    async with await itirp_client.aconnect(server.address, "trader1", "trader123") as desk:
        assert (desk.username, desk.role) == ("trader1", "TRADER")
        reply = await desk.submit_order("AAPL", "BUY", 100, "150.50", strategy="momentum")
        assert reply.status == S.ORDER_STATUS_APPROVED
        assert reply.order.client_order_id.startswith("cli-")  # generated, so that retries are idempotent
        assert (await settle(desk, reply.order_id)).status == S.ORDER_STATUS_EXECUTED

        with pytest.raises(itirp_client.RiskRejected) as rejected:
            await desk.submit_order("TSLA", "BUY", 100_000, "200")
        assert rejected.value.violation_names[0] == "POSITION_LIMIT"
        assert rejected.value.order.status == S.ORDER_STATUS_REJECTED

        with pytest.raises(itirp_client.InvalidRequest) as invalid:
            await desk.submit_order("AAPL", "BUY", 1, "1.23456")
        assert invalid.value.field == "price"
        with pytest.raises(TypeError):
            await desk.submit_order("AAPL", "BUY", 1, 150.5)  # type: ignore[arg-type]

        await desk.submit_order("AAPL", "BUY", 1, "150", client_order_id="mine-1")
        with pytest.raises(itirp_client.DuplicateOrder) as duplicate:
            await desk.submit_order("AAPL", "BUY", 1, "150", client_order_id="mine-1")
        assert duplicate.value.order_id == (await desk.list_orders(page_size=1)).orders[0].order_id

        with pytest.raises(itirp_client.PermissionDenied):
            await desk.set_kill_switch(True, "not mine to set")
        with pytest.raises(itirp_client.NotFound):
            await desk.get_order("no-such-order")
        with pytest.raises(itirp_client.OrderStateConflict):
            await desk.cancel_order(reply.order_id)

    with pytest.raises(itirp_client.NotAuthenticated):
        await itirp_client.aconnect(server.address, "trader1", "wrong")


async def test_short_lived_token_is_refreshed_before_it_expires(tmp_path: Path) -> None:
    server = await serve(make_config(tmp_path / "data", token_ttl_seconds=2))
    try:
        client = await AsyncClient.connect(server.address, "risk1", "risk123", refresh_margin=1.4)
        first = client.token
        await asyncio.sleep(2.5)  # past the first token's expiry
        me = await client.whoami()
        assert me.username == "risk1"
        assert client.token != first
        await client.close()
    finally:
        await server.shutdown(grace=0)


class DropFirstSubmitReply(grpc.aio.ServerInterceptor):
    """Lets the first SubmitOrder through, then loses its reply (UNAVAILABLE), like a broken link."""

    def __init__(self) -> None:
        self.dropped = False

    async def intercept_service(self, continuation, details):  # type: ignore[no-untyped-def]
        handler = await continuation(details)
        if not details.method.endswith("/SubmitOrder") or self.dropped:
            return handler
        inner = handler.unary_unary

        async def drop(request, context):  # type: ignore[no-untyped-def]
            await inner(request, context)
            self.dropped = True
            await context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset (test)")

        return grpc.unary_unary_rpc_method_handler(
            drop, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )


async def test_a_lost_submit_reply_is_retried_without_a_second_order(tmp_path: Path) -> None:
    gremlin = DropFirstSubmitReply()
    server = await serve(make_config(tmp_path / "data"), extra_interceptors=[gremlin])
    try:
        async with await itirp_client.aconnect(server.address, "trader1", "trader123") as desk:
            reply = await desk.submit_order("AAPL", "BUY", 5, "100")

            assert gremlin.dropped
            orders = (await desk.list_orders()).orders
            assert [o.order_id for o in orders] == [reply.order_id]
            assert reply.order.quantity == 5
    finally:
        await server.shutdown(grace=0)


class Watching:
    """A trader's order updates (sequence, order id, status) and an auditor's audit events
    (sequences) followed in the background, each stream with its caught-up marker."""

    def __init__(self, trader: Any, auditor: Any) -> None:
        self.updates: list[tuple[int, str, int]] = []
        self.events: list[int] = []
        self._ready = asyncio.Event(), asyncio.Event()
        self._tasks = [asyncio.create_task(self._orders(trader)), asyncio.create_task(self._audit(auditor))]

    async def _orders(self, trader: Any) -> None:
        async for item in trader.order_updates(markers=True):
            if item.WhichOneof("kind") == "update":
                self.updates.append((item.update.sequence, item.update.order.order_id, item.update.order.status))
            else:
                self._ready[0].set()

    async def _audit(self, auditor: Any) -> None:
        async for item in auditor.audit_events(markers=True):
            if item.WhichOneof("kind") == "event":
                self.events.append(item.event.sequence)
            else:
                self._ready[1].set()

    async def live(self, bound: float) -> None:
        """Both streams caught up and following live changes."""
        await asyncio.wait_for(asyncio.gather(*(ready.wait() for ready in self._ready)), bound)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def test_streams_resume_across_a_server_restart_with_nothing_missed_or_repeated(tmp_path: Path) -> None:
    config = make_config(tmp_path / "data")
    server = await serve(config)
    config = config.replace(listen=server.address)  # come back on the same port
    trader = await itirp_client.aconnect(server.address, "trader1", "trader123")
    auditor = await itirp_client.aconnect(server.address, "compliance1", "compliance123")
    watching = Watching(trader, auditor)
    updates, events = watching.updates, watching.events
    try:
        await watching.live(10)  # both live
        before = [await trader.submit_order("RSM", "BUY", 1, "10") for _ in range(5)]
        for r in before:
            await settle(trader, r.order_id)
        await server.shutdown(grace=1)

        server = await serve(config)  # the terminals reconnect by themselves
        after = [await trader.submit_order("RSM", "SELL", 1, "10") for _ in range(5)]
        for r in after:
            await settle(trader, r.order_id)
        head = server.store.head_sequence
        for _ in range(500):
            if (
                events
                and events[-1] >= head
                and len({oid for _, oid, s in updates if s == S.ORDER_STATUS_EXECUTED}) == 10
            ):
                break
            await asyncio.sleep(0.01)

        assert events == list(range(1, head + 1))  # every event, once, in order
        sequences = [seq for seq, _, _ in updates]
        assert sequences == sorted(set(sequences))  # no repeats, commit order
        expected = [
            S.ORDER_STATUS_PENDING,
            S.ORDER_STATUS_RISK_CHECK,
            S.ORDER_STATUS_APPROVED,
            S.ORDER_STATUS_EXECUTING,
            S.ORDER_STATUS_WORKING,
            S.ORDER_STATUS_EXECUTED,
        ]
        for r in before + after:
            assert [s for _, oid, s in updates if oid == r.order_id] == expected
    finally:
        await watching.stop()
        await trader.close()
        await auditor.close()
        await server.shutdown(grace=0)


def test_the_blocking_client_does_the_same(tmp_path: Path) -> None:
    async def start():  # type: ignore[no-untyped-def]
        return await serve(make_config(tmp_path / "data"))

    loop = asyncio.new_event_loop()
    import threading

    server_box: list = []
    ready = threading.Event()

    def run_server() -> None:
        asyncio.set_event_loop(loop)
        server_box.append(loop.run_until_complete(start()))
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run_server, daemon=True)
    thread.start()
    ready.wait(30)
    server = server_box[0]
    try:
        with itirp_client.connect(server.address, "trader1", "trader123") as desk:
            reply = desk.submit_order("SYNC", "BUY", 3, "9.99")
            assert reply.status == S.ORDER_STATUS_APPROVED
            stream = desk.order_updates(order_id=reply.order_id)
            first = next(stream)
            assert first.update.order.order_id == reply.order_id
            stream.close()
            assert desk.whoami().username == "trader1"
            with pytest.raises(itirp_client.PermissionDenied):
                desk.verify_audit_log()
    finally:
        asyncio.run_coroutine_threadsafe(server.shutdown(grace=0), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
