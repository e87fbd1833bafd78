"""Two nodes on one PostgreSQL event log (issue 15), in one process: the first takes the lease and
leads, the second stands by (follows the log, serves reads, answers writes NOT_LEADER naming the
leader) and takes over when the leader stops; the log stays one gapless chain.

The kill -9 and SIGSTOP cases, with real server processes, are in tests/e2e/test_failover.py."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from itirp.auth.users import UserStore
from itirp.config import Secret
from itirp.server import RunningServer, serve
from itirp.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    common_pb2,
    events_pb2,
    order_pb2,
    order_pb2_grpc,
    system_pb2,
    system_pb2_grpc,
)
from tests.conftest import bearer, login, make_config

LEASE = 1.0


def provision_users(folder: Path, template: Path) -> None:
    """Every node gets the same users.db (docs/operations.md: provisioned once, copied to each with
    SQLite's backup, which takes what its write-ahead log holds too)."""
    if not template.exists():
        UserStore(template).seed_demo_users(scrypt_n=2**10)
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(template)) as source, contextlib.closing(
        sqlite3.connect(folder / "users.db")
    ) as copy:
        source.backup(copy)


@pytest.fixture
def start_node(pg_url: str, tmp_path: Path) -> Callable[[str], Awaitable[RunningServer]]:
    started: list[RunningServer] = []

    async def start(name: str) -> RunningServer:
        data = tmp_path / name
        provision_users(data, tmp_path / "users-template.db")
        config = make_config(
            data,
            store_kind="postgres",
            store_database_url=Secret(pg_url),
            ha_node_id=name,
            ha_lease_seconds=LEASE,
            ha_poll_seconds=0.05,
        )
        running = await serve(config)
        started.append(running)
        return running

    return start


@pytest.fixture
async def nodes(start_node: Callable[[str], Awaitable[RunningServer]]) -> AsyncIterator[list[RunningServer]]:
    first = await start_node("node-a")
    second = await start_node("node-b")
    try:
        yield [first, second]
    finally:
        for node in (second, first):
            await node.shutdown(grace=0.5)


async def info(address: str) -> system_pb2.GetSystemInfoResponse:
    async with grpc.aio.insecure_channel(address) as channel:
        return await system_pb2_grpc.SystemServiceStub(channel).GetSystemInfo(
            system_pb2.GetSystemInfoRequest(), metadata=_TOKENS["trader1"]
        )


#: Tokens by user, from whichever node led when they logged in (a standby refuses logins: they are
#: recorded); both nodes accept them (one secret, one users.db).
_TOKENS: dict[str, tuple[tuple[str, str], ...]] = {}


def order(client_order_id: str) -> order_pb2.SubmitOrderRequest:
    return order_pb2.SubmitOrderRequest(
        symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=1, price="1.00", client_order_id=client_order_id
    )


async def until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.05)


async def test_one_leads_the_other_stands_by_and_answers_writes_naming_the_leader(
    nodes: list[RunningServer],
) -> None:
    leader, standby = nodes
    async with grpc.aio.insecure_channel(leader.address) as at_leader:
        _TOKENS["trader1"] = bearer((await login(at_leader, "trader1")).access_token)
        stub = order_pb2_grpc.OrderServiceStub(at_leader)
        placed = await stub.SubmitOrder(order("two-nodes-1"), metadata=_TOKENS["trader1"])
    lead, stand = await info(leader.address), await info(standby.address)
    assert (lead.role, lead.node_id, lead.store) == (system_pb2.NODE_ROLE_LEADER, "node-a", "postgres")
    assert (stand.role, stand.node_id, stand.leader_address) == (system_pb2.NODE_ROLE_STANDBY, "node-b", leader.address)
    assert lead.term == stand.term >= 1

    async with grpc.aio.insecure_channel(standby.address) as at_standby:
        orders = order_pb2_grpc.OrderServiceStub(at_standby)

        async def followed() -> bool:
            try:
                request = order_pb2.GetOrderRequest(order_id=placed.order_id)
                got = await orders.GetOrder(request, metadata=_TOKENS["trader1"])
            except grpc.aio.AioRpcError:
                return False
            return got.order.client_order_id == "two-nodes-1"

        await until(followed, "the standby serves the order the leader took")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await orders.SubmitOrder(order("two-nodes-2"), metadata=_TOKENS["trader1"])
    error = refused.value
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    status = rpc_status.from_call(error)
    assert status is not None
    details = {d.TypeName(): d for d in status.details}
    info_detail = error_details_pb2.ErrorInfo()
    details["google.rpc.ErrorInfo"].Unpack(info_detail)
    assert info_detail.reason == "NOT_LEADER"
    assert info_detail.metadata["leader_address"] == leader.address
    assert info_detail.metadata["leader_node_id"] == "node-a"
    assert "google.rpc.RetryInfo" in details
    assert leader.address in (error.details() or "")


async def test_the_standby_takes_over_when_the_leader_stops_and_the_log_stays_one_chain(
    start_node: Callable[[str], Awaitable[RunningServer]],
) -> None:
    leader = await start_node("node-a")
    standby = await start_node("node-b")
    try:
        async with grpc.aio.insecure_channel(leader.address) as at_leader:
            _TOKENS["trader1"] = bearer((await login(at_leader, "trader1")).access_token)
            stub = order_pb2_grpc.OrderServiceStub(at_leader)
            before = [await stub.SubmitOrder(order(f"before-{i}"), metadata=_TOKENS["trader1"]) for i in range(5)]
        first_term = (await info(leader.address)).term
        await leader.shutdown(grace=0.5)  # a clean stop releases the lease: the standby takes over at once

        async def leading() -> bool:
            return (await info(standby.address)).role == system_pb2.NODE_ROLE_LEADER

        await until(leading, "the standby takes over")
        assert (await info(standby.address)).term == first_term + 1
        async with grpc.aio.insecure_channel(standby.address) as at_new:
            stub = order_pb2_grpc.OrderServiceStub(at_new)
            md = _TOKENS["trader1"]  # issued by the old leader: the same secret, the same users
            after = await stub.SubmitOrder(order("after-1"), metadata=md)
            for placed in before:
                got = await stub.GetOrder(order_pb2.GetOrderRequest(order_id=placed.order_id), metadata=md)
                assert got.order.client_order_id == placed.order.client_order_id
            with pytest.raises(grpc.aio.AioRpcError) as again:
                await stub.SubmitOrder(order("before-0"), metadata=md)
            assert again.value.code() == grpc.StatusCode.ALREADY_EXISTS
            compliance = bearer((await login(at_new, "compliance1")).access_token)
            audit = audit_pb2_grpc.AuditServiceStub(at_new)
            verified = await audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest(), metadata=compliance)
            assert verified.ok, verified
            request = audit_pb2.ListEventsRequest(from_sequence=1, page_size=1000)
            page = await audit.ListEvents(request, metadata=compliance)
        sequences = [e.sequence for e in page.events]
        assert sequences == list(range(1, len(sequences) + 1))
        elected = [e for e in page.events if e.event_type == events_pb2.EVENT_TYPE_LEADER_ELECTED]
        assert [(e.leader_elected.node_id, e.leader_elected.term) for e in elected] == [
            ("node-a", first_term),
            ("node-b", first_term + 1),
        ]
        assert elected[1].leader_elected.previous_node_id == "node-a"
        assert any(e.order_id == after.order_id for e in page.events)
    finally:
        await standby.shutdown(grace=0.5)
        await leader.shutdown(grace=0.5)
