"""The client with several addresses, against real servers on loopback ports: an address with
nothing listening is passed over; a node answering NOT_LEADER (a small real grpc.aio server
refusing every AuthService and OrderService call the way the server does, naming a real server)
sends the client to the leader; a stream cut when its server stops resumes at the other address,
where the same data folder is served again ("the leader moved"), with no gap and no duplicate."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_status import rpc_status

import itirp_client
from itirp.config import Secret
from itirp.errors import Reason, Unavailable
from itirp.server import serve
from itirp.server.status import NOT_LEADER_RETRY_SECONDS, rich_status
from itirp.v1 import auth_pb2, common_pb2, order_pb2
from itirp_client import AsyncClient
from itirp_client.order_entry import open_session
from tests.conftest import make_config
from tests.integration.test_client import Watching, settle

S = common_pb2
BOUND = 10.0


def free_address() -> str:
    """A loopback address nothing listens on (a port the kernel just handed out, then freed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def _refusal(leader: str) -> Any:
    error = Unavailable(
        "this node is a standby; send writes to the leader",
        reason=Reason.NOT_LEADER,
        metadata={"leader_address": leader, "leader_node_id": "node-a" if leader else "", "term": "3"},
        retry_after_seconds=NOT_LEADER_RETRY_SECONDS,
    )
    return rpc_status.to_status(rich_status(error))


def _handler(service: Any, method: Any, leaders: list[str], refused: list[str]) -> grpc.RpcMethodHandler:
    async def refuse(request: Any, context: grpc.aio.ServicerContext) -> None:
        leader = leaders[min(len(refused), len(leaders) - 1)]
        refused.append(f"/{service.full_name}/{method.name}")
        await context.abort_with_status(_refusal(leader))

    if method.client_streaming and method.server_streaming:
        return grpc.stream_stream_rpc_method_handler(refuse)
    if method.server_streaming:
        return grpc.unary_stream_rpc_method_handler(refuse)
    return grpc.unary_unary_rpc_method_handler(refuse)


@contextlib.asynccontextmanager
async def standby(*leaders: str) -> AsyncIterator[tuple[str, list[str]]]:
    """A node that answers every AuthService and OrderService call with NOT_LEADER naming
    `leaders[n]` the n-th time (the last one from then on): its address, and the methods it
    refused."""
    refused: list[str] = []
    handlers = [
        grpc.method_handlers_generic_handler(
            service.full_name, {m.name: _handler(service, m, list(leaders), refused) for m in service.methods}
        )
        for service in (
            auth_pb2.DESCRIPTOR.services_by_name["AuthService"],
            order_pb2.DESCRIPTOR.services_by_name["OrderService"],
        )
    ]
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(handlers)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}", refused
    finally:
        await server.stop(0)


async def test_an_address_with_nothing_listening_is_passed_over(server) -> None:  # type: ignore[no-untyped-def]
    nothing = free_address()
    async with await itirp_client.aconnect(f"{nothing},{server.address}", "trader1", "trader123") as desk:
        assert desk.addresses == [nothing, server.address]
        assert desk.address == server.address
        updates = desk.order_updates(markers=True)
        async with contextlib.aclosing(updates):
            first = await asyncio.wait_for(anext(updates), BOUND)  # the stream is live
            assert first.WhichOneof("kind") == "caught_up"
            reply = await desk.submit_order("AAPL", "BUY", 3, "100")
            item = await asyncio.wait_for(anext(updates), BOUND)
            assert item.update.order.order_id == reply.order_id
        assert (await settle(desk, reply.order_id)).status == S.ORDER_STATUS_EXECUTED


async def test_the_blocking_client_takes_a_list_of_addresses(server) -> None:  # type: ignore[no-untyped-def]
    nothing = free_address()

    def blocking() -> None:  # on its own thread: the server runs on this test's loop
        with itirp_client.connect([nothing, server.address], "trader1", "trader123") as desk:
            assert (desk.address, desk.addresses) == (server.address, [nothing, server.address])
            assert desk.whoami().username == "trader1"

    await asyncio.to_thread(blocking)


async def test_not_leader_sends_the_client_to_the_leader_it_names(server) -> None:  # type: ignore[no-untyped-def]
    async with (
        standby(server.address) as (node, refused),
        await itirp_client.aconnect(node, "trader1", "trader123") as desk,  # a login is a write
    ):
        assert refused == ["/itirp.v1.AuthService/Login"]
        assert desk.address == server.address  # added to the list, and current
        assert desk.addresses == [node, server.address]
        reply = await desk.submit_order("AAPL", "BUY", 2, "100")
        assert reply.status == S.ORDER_STATUS_APPROVED

        # back on the standby (as after a restart of the client with the standby first):
        # the submit is refused there, sent again to the leader, and recorded once
        desk._endpoints.use(node)
        again = await desk.submit_order("AAPL", "BUY", 2, "100", client_order_id="ha-1")
        assert refused[-1] == "/itirp.v1.OrderService/SubmitOrder"
        assert desk.address == server.address
        mine = [o for o in (await desk.list_orders()).orders if o.client_order_id == "ha-1"]
        assert [o.order_id for o in mine] == [again.order_id]


async def test_an_order_entry_session_opens_at_the_leader(server) -> None:  # type: ignore[no-untyped-def]
    async with (
        standby(server.address) as (node, refused),
        await itirp_client.aconnect([node, server.address], "trader1", "trader123") as desk,
    ):
        desk._endpoints.use(node)
        async with await open_session(desk, name="ha") as session:
            assert refused[-1] == "/itirp.v1.OrderService/OrderEntry"
            assert desk.address == server.address
            order = await asyncio.wait_for(session.submit("AAPL", "BUY", 1, "100"), BOUND)
            assert order.order_id


async def test_a_standby_that_does_not_know_the_leader_yet_is_waited_out(server) -> None:  # type: ignore[no-untyped-def]
    async with (
        standby("") as (node, refused),
        await itirp_client.aconnect([server.address, node], "trader1", "trader123") as desk,
    ):
        desk._endpoints.use(node)
        reply = await desk.submit_order("AAPL", "BUY", 1, "100")  # the next address, after 0.5 s
        assert refused[-1] == "/itirp.v1.OrderService/SubmitOrder"
        assert desk.address == server.address
        assert reply.order_id


async def test_a_standby_naming_a_dead_leader_is_asked_again_until_it_names_the_new_one(server) -> None:  # type: ignore[no-untyped-def]
    """The takeover window: the leader was killed, the standby still names it for a while."""
    dead = free_address()
    async with (
        standby(dead, dead, server.address) as (node, refused),
        await AsyncClient.connect([dead, node], "trader1", "trader123") as desk,
    ):
        assert refused == ["/itirp.v1.AuthService/Login"] * 3
        assert desk.address == server.address
        assert desk.addresses == [dead, node, server.address]


async def test_streams_follow_the_leader_to_its_new_address_with_nothing_missed_or_repeated(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path / "data")
    first = await serve(config)
    second_address = free_address()
    addresses = [first.address, second_address]
    trader = await AsyncClient.connect(addresses, "trader1", "trader123")
    auditor = await AsyncClient.connect(",".join(addresses), "compliance1", "compliance123")
    watching = Watching(trader, auditor)
    updates, events = watching.updates, watching.events
    second = None
    try:
        await watching.live(BOUND)
        before = [await trader.submit_order("RSM", "BUY", 1, "10") for _ in range(3)]
        for r in before:
            await settle(trader, r.order_id)
        await first.shutdown(grace=1)

        # the same event log, served at the other address: the leader moved
        second = await serve(config.replace(listen=second_address))
        after = [await trader.submit_order("RSM", "SELL", 1, "10") for _ in range(3)]
        assert trader.address == second_address
        for r in after:
            await settle(trader, r.order_id)
        head = second.store.head_sequence
        executed = {r.order_id for r in before + after}
        for _ in range(1000):
            done = {oid for _, oid, s in updates if s == S.ORDER_STATUS_EXECUTED}
            if events and events[-1] >= head and executed <= done:
                break
            await asyncio.sleep(0.01)

        assert auditor.address == second_address
        assert events == list(range(1, head + 1))  # every event, once, in order
        sequences = [seq for seq, _, _ in updates]
        assert sequences == sorted(set(sequences))  # no repeats, commit order
        for r in before + after:
            assert [s for _, oid, s in updates if oid == r.order_id][-1] == S.ORDER_STATUS_EXECUTED
    finally:
        await watching.stop()
        await trader.close()
        await auditor.close()
        await first.shutdown(grace=0)
        if second is not None:
            await second.shutdown(grace=0)


@pytest.mark.parametrize("listed", ["comma", "list"])
async def test_from_token_takes_several_addresses(server, listed: str) -> None:  # type: ignore[no-untyped-def]
    nothing = free_address()
    async with await itirp_client.aconnect(server.address, "trader1", "trader123") as first:
        given: Any = f"{nothing},{server.address}" if listed == "comma" else [nothing, server.address]
        async with await AsyncClient.from_token(given, first.token) as again:
            assert (again.username, again.address) == ("trader1", server.address)


async def test_a_node_that_refuses_the_token_gets_a_fresh_login(tmp_path: Path) -> None:
    """Nodes are meant to share the JWT secret; when the one moved to does not (yet), the client
    logs in there again with the credentials it was given."""
    first = await serve(make_config(tmp_path / "a"))
    other = await serve(make_config(tmp_path / "b", jwt_secret=Secret("another-secret-" + "x" * 32)))
    try:
        desk = await AsyncClient.connect([first.address, other.address], "trader1", "trader123")
        try:
            old_token = desk.token
            await first.shutdown(grace=0)
            me = await desk.whoami()  # refused at `first` (gone), then `other` refuses the token
            assert (me.username, desk.address) == ("trader1", other.address)
            assert desk.token != old_token
        finally:
            await desk.close()
    finally:
        await first.shutdown(grace=0)
        await other.shutdown(grace=0)
