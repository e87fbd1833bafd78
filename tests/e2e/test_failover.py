"""Failover end to end (issue 15): two `itirp serve` processes on one PostgreSQL event log.

- kill -9 of the leader at a random moment while a terminal submits concurrently with client order
  ids (moving to the standby when the leader is gone, and sending again what was not answered) and
  an audit subscriber follows the log (resuming at the other node from the last sequence seen):
  the standby takes over; every acknowledged order is there with its status, every ALREADY_EXISTS
  names an order that exists, the chain verifies, the sequence is gapless, and the resumed stream
  has no gap and no duplicate.
- SIGSTOP of the leader (paused, not dead): the standby takes over when the lease lapses; resumed,
  the old leader appends nothing (its commits are fenced by the newer term), steps down, and
  answers writes NOT_LEADER naming the new leader; what it acknowledged is in the log.
"""

from __future__ import annotations

import asyncio
import random
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from itirp.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    common_pb2,
    events_pb2,
    order_pb2,
    order_pb2_grpc,
    system_pb2,
    system_pb2_grpc,
)
from tests.conftest import TEST_SECRET
from tests.integration.test_two_nodes import provision_users

CALLERS = 16
SEED = 20261202
LEASE = "1"
#: A status an order can only be in before its acknowledged answer.
ACKED = {common_pb2.ORDER_STATUS_PENDING, common_pb2.ORDER_STATUS_RISK_CHECK}

Md = tuple[tuple[str, str], ...]


def node_env(pg_url: str, name: str) -> dict[str, str]:
    return {
        "ITIRP_STORE": "postgres",
        "ITIRP_DATABASE_URL": pg_url,
        "ITIRP_HA_NODE_ID": name,
        "ITIRP_HA_LEASE_SECONDS": LEASE,
        "ITIRP_HA_POLL_SECONDS": "0.05",
        "ITIRP_AUTH_JWT_SECRET": TEST_SECRET,
        "ITIRP_AUTH_SCRYPT_N": "1024",
    }


async def login(address: str, username: str, password: str) -> Md:
    async with grpc.aio.insecure_channel(address) as channel:
        reply = await auth_pb2_grpc.AuthServiceStub(channel).Login(
            auth_pb2.LoginRequest(username=username, password=password), timeout=10
        )
    return (("authorization", f"Bearer {reply.access_token}"),)


async def role_of(address: str, md: Md) -> int:
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await system_pb2_grpc.SystemServiceStub(channel).GetSystemInfo(
                system_pb2.GetSystemInfoRequest(), metadata=md, timeout=2
            )
        except grpc.aio.AioRpcError:
            return -1
    return reply.role


async def until_role(address: str, md: Md, role: int, seconds: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while (got := await role_of(address, md)) != role:
        assert asyncio.get_running_loop().time() < deadline, f"{address} is {got}, not {role}, after {seconds} s"
        await asyncio.sleep(0.05)


@dataclass
class Answers:
    accepted: dict[str, order_pb2.SubmitOrderResponse] = field(default_factory=dict)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (client order id, order id named)


@dataclass
class Terminal:
    """Submits with client order ids at the current node; on UNAVAILABLE it moves to the other
    node and sends the same request again, until it is answered (bounded)."""

    addresses: list[str]
    md: Md
    answers: Answers = field(default_factory=Answers)
    current: int = 0

    async def submit(self, client_order_id: str) -> None:
        request = order_pb2.SubmitOrderRequest(
            symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=1, price="1.00", client_order_id=client_order_id
        )
        deadline = asyncio.get_running_loop().time() + 60  # bounded: a takeover takes about a lease
        last = ""
        while asyncio.get_running_loop().time() < deadline:
            used = self.current
            address = self.addresses[used]
            async with grpc.aio.insecure_channel(address) as channel:
                try:
                    reply = await order_pb2_grpc.OrderServiceStub(channel).SubmitOrder(
                        request, metadata=self.md, timeout=5
                    )
                except grpc.aio.AioRpcError as error:
                    if error.code() == grpc.StatusCode.ALREADY_EXISTS:
                        named = dict(error.trailing_metadata() or ()).get("existing_order_id", "")
                        named = named or (error.details() or "").rsplit("for order ", 1)[-1].strip()
                        self.answers.duplicates.append((client_order_id, named))
                        return
                    if error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                        raise
                    last = f"{address}: {error.code().name} {error.details()}"
                    if self.current == used:  # callers failing together move it once, not back and forth
                        self.current = (used + 1) % len(self.addresses)
                    await asyncio.sleep(0.1)
                    continue
            self.answers.accepted[reply.order_id] = reply
            return
        raise AssertionError(f"{client_order_id} was never answered; the last refusal: {last}")


async def submit_once(address: str, md: Md, client_order_id: str, answers: Answers) -> None:
    request = order_pb2.SubmitOrderRequest(
        symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=1, price="1.00", client_order_id=client_order_id
    )
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            reply = await order_pb2_grpc.OrderServiceStub(channel).SubmitOrder(request, metadata=md, timeout=30)
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                return  # not acknowledged
            raise
    answers.accepted[reply.order_id] = reply


async def follow_log(addresses: list[str], md: Md, seen: list[int], stop: asyncio.Event) -> None:
    """An audit subscriber: from the start of the log; when its node goes, it subscribes at the
    other one from the last sequence it saw."""
    current = 0
    for _ in range(400):  # bounded reconnects
        if stop.is_set():
            return
        async with grpc.aio.insecure_channel(addresses[current]) as channel:
            stream = audit_pb2_grpc.AuditServiceStub(channel).SubscribeEvents(
                audit_pb2.SubscribeEventsRequest(from_sequence=seen[-1] if seen else 0, heartbeat_interval_seconds=1),
                metadata=md,
            )
            try:
                async for message in stream:
                    if message.HasField("event"):
                        seen.append(message.event.sequence)
                    if stop.is_set():
                        stream.cancel()
                        return
            except grpc.aio.AioRpcError:
                pass
        current = (current + 1) % len(addresses)
        await asyncio.sleep(0.1)


async def check_log(address: str, answers: Answers) -> list[audit_pb2.ListEventsResponse]:
    compliance = await login(address, "compliance1", "compliance123")
    trader = await login(address, "trader1", "trader123")
    async with grpc.aio.insecure_channel(address) as channel:
        orders = order_pb2_grpc.OrderServiceStub(channel)
        audit = audit_pb2_grpc.AuditServiceStub(channel)
        for order_id, answer in answers.accepted.items():
            got = (await orders.GetOrder(order_pb2.GetOrderRequest(order_id=order_id), metadata=trader)).order
            assert got.client_order_id == answer.order.client_order_id
            assert got.status not in ACKED, f"{order_id} is {got.status} after it was answered {answer.order.status}"
        for client_order_id, named in answers.duplicates:
            got = (await orders.GetOrder(order_pb2.GetOrderRequest(order_id=named), metadata=trader)).order
            assert got.client_order_id == client_order_id
        verified = await audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest(), metadata=compliance)
        assert verified.ok, verified
        pages, token = [], ""
        while True:
            page = await audit.ListEvents(
                audit_pb2.ListEventsRequest(from_sequence=1, page_size=1000, page_token=token), metadata=compliance
            )
            pages.append(page)
            token = page.next_page_token
            if not token:
                break
    sequences = [e.sequence for page in pages for e in page.events]
    assert sequences == list(range(1, len(sequences) + 1))
    return pages


def elections(pages: list[audit_pb2.ListEventsResponse]) -> list[tuple[str, int]]:
    return [
        (e.leader_elected.node_id, e.leader_elected.term)
        for page in pages
        for e in page.events
        if e.event_type == events_pb2.EVENT_TYPE_LEADER_ELECTED
    ]


async def two_nodes(start_server: Callable[..., object], pg_url: str, tmp_path: Path) -> tuple[object, object, Md]:
    for name in ("a", "b"):
        provision_users(tmp_path / name, tmp_path / "users-template.db")
    first = start_server(tmp_path / "a", env=node_env(pg_url, "node-a"))
    md = await login(first.address, "trader1", "trader123")  # type: ignore[attr-defined]
    await until_role(first.address, md, system_pb2.NODE_ROLE_LEADER)  # type: ignore[attr-defined]
    second = start_server(tmp_path / "b", env=node_env(pg_url, "node-b"))
    await until_role(second.address, md, system_pb2.NODE_ROLE_STANDBY)  # type: ignore[attr-defined]
    return first, second, md


async def test_kill_9_of_the_leader_under_load_loses_nothing_acknowledged(  # type: ignore[no-untyped-def]
    start_server, pg_url: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    leader, standby, md = await two_nodes(start_server, pg_url, tmp_path)
    addresses = [leader.address, standby.address]
    compliance = await login(leader.address, "compliance1", "compliance123")
    seen: list[int] = []
    stop = asyncio.Event()
    follower = asyncio.create_task(follow_log(addresses, compliance, seen, stop))
    terminal = Terminal(addresses, md)

    async def caller(n: int) -> None:
        for i in range(10_000):  # bounded; stopped long before
            if stop.is_set():
                return
            await terminal.submit(f"c{n % (CALLERS // 2)}-{i}")  # callers n and n+8 share their ids

    load = asyncio.gather(*(caller(n) for n in range(CALLERS)))
    await asyncio.sleep(rng.uniform(0.5, 1.5))  # a random moment under load
    await asyncio.to_thread(leader.kill)
    await until_role(standby.address, md, system_pb2.NODE_ROLE_LEADER)
    await asyncio.sleep(0.5)  # the terminal goes on at the new leader
    stop.set()
    await asyncio.wait_for(load, 60)
    assert any(terminal.answers.accepted), "no order was acknowledged"

    pages = await check_log(standby.address, terminal.answers)
    head = pages[-1].events[-1].sequence if pages[-1].events else 0
    await asyncio.wait_for(follower, 30)
    assert seen == list(range(1, len(seen) + 1)), "the resumed audit stream has a gap or a duplicate"
    assert len(seen) <= head
    assert [node for node, _ in elections(pages)] == ["node-a", "node-b"]


async def test_a_paused_leader_appends_nothing_once_the_standby_took_over(  # type: ignore[no-untyped-def]
    start_server, pg_url: str, tmp_path: Path
) -> None:
    leader, standby, md = await two_nodes(start_server, pg_url, tmp_path)
    addresses = [leader.address, standby.address]
    terminal = Terminal(addresses, md)
    for i in range(5):
        await terminal.submit(f"before-{i}")
    leader.proc.send_signal(signal.SIGSTOP)
    try:
        # a submit the paused leader holds: if it is ever answered OK, the order must be in the log
        held = asyncio.create_task(submit_once(leader.address, md, "held-1", terminal.answers))
        await until_role(standby.address, md, system_pb2.NODE_ROLE_LEADER)
        moved = Terminal([standby.address], md, terminal.answers)
        for i in range(5):
            await moved.submit(f"after-{i}")
    finally:
        leader.proc.send_signal(signal.SIGCONT)
    await until_role(leader.address, md, system_pb2.NODE_ROLE_STEPPED_DOWN)
    await held
    async with grpc.aio.insecure_channel(leader.address) as channel:
        request = order_pb2.SubmitOrderRequest(
            symbol="AAPL", side=common_pb2.SIDE_BUY, quantity=1, price="1.00", client_order_id="after-stop"
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await order_pb2_grpc.OrderServiceStub(channel).SubmitOrder(request, metadata=md, timeout=5)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    status = rpc_status.from_call(refused.value)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    next(d for d in status.details if d.Is(info.DESCRIPTOR)).Unpack(info)
    assert info.reason == "NOT_LEADER"
    assert info.metadata["leader_address"] == standby.address
    pages = await check_log(standby.address, terminal.answers)
    assert [node for node, _ in elections(pages)] == ["node-a", "node-b"]
    client_ids = {e.order_id for page in pages for e in page.events}
    for order_id in terminal.answers.accepted:
        assert order_id in client_ids


async def test_the_client_library_follows_the_leader_across_a_kill_9(  # type: ignore[no-untyped-def]
    start_server, pg_url: str, tmp_path: Path
) -> None:
    """The shipped client, given both addresses: its submits land once each (client order ids),
    and its audit stream resumes at the new leader with no gap and no duplicate."""
    from itirp_client import AsyncClient

    leader, standby, _ = await two_nodes(start_server, pg_url, tmp_path)
    addresses = [leader.address, standby.address]
    desk = await AsyncClient.connect(addresses, "trader1", "trader123")
    auditor = await AsyncClient.connect(addresses, "compliance1", "compliance123")
    seen: list[int] = []
    stop = asyncio.Event()

    async def follow() -> None:
        async for message in auditor.audit_events(heartbeat_seconds=1, markers=True):
            if message.HasField("event"):
                seen.append(message.event.sequence)
            if stop.is_set():
                return

    follower = asyncio.create_task(follow())
    try:
        answered = {}
        for i in range(40):
            if i == 10:
                await asyncio.to_thread(leader.kill)
            reply = await desk.submit_order("AAPL", "BUY", 1, "1.00", client_order_id=f"lib-{i}")
            answered[reply.order_id] = f"lib-{i}"
        assert desk.address == standby.address
        for order_id, client_order_id in answered.items():
            assert (await desk.get_order(order_id)).client_order_id == client_order_id
        stop.set()
        await asyncio.wait_for(follower, 30)
    finally:
        follower.cancel()
        await desk.close()
        await auditor.close()
    assert seen == list(range(1, len(seen) + 1)), "the resumed audit stream has a gap or a duplicate"
    pages = await check_log(standby.address, Answers())
    assert len(seen) <= pages[-1].events[-1].sequence
