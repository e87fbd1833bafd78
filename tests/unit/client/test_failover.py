"""Several addresses and following the leader (`itirp_client.failover`, `AsyncClient._call`,
`Resumable`'s follow hook): fake RPCs and an injected sleep, no network."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from itirp_client import AsyncClient, DuplicateOrder, NotAuthenticated, RetryPolicy, ServerUnavailable
from itirp_client.errors import from_rpc_error
from itirp_client.failover import Endpoints, Move, leader_hint, parse_addresses, route
from itirp_client.streams import Resumable, follow_sequenced
from tests.unit.client.support import FakeSource, Sleeps, error_info, retry_info, rpc_error
from tests.unit.client.test_calls import FlakyRpc
from tests.unit.client.test_streams import take, trade

UNAVAILABLE = grpc.StatusCode.UNAVAILABLE


def not_leader(leader: str = "", delay: float = 0.5) -> grpc.aio.AioRpcError:
    info = error_info("NOT_LEADER", leader_address=leader, leader_node_id="n2" if leader else "", term="7")
    return rpc_error(UNAVAILABLE, "not the leader", info, retry_info(delay))


def unreachable() -> grpc.aio.AioRpcError:
    return rpc_error(UNAVAILABLE, "failed to connect to all addresses")  # no details: grpc's own


# ---------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("127.0.0.1:50051", ["127.0.0.1:50051"]),
        ("a:1,b:2", ["a:1", "b:2"]),
        (" a:1 , b:2 ,, a:1 ", ["a:1", "b:2"]),
        (["a:1", "b:2"], ["a:1", "b:2"]),
        (("a:1,b:2", "c:3"), ["a:1", "b:2", "c:3"]),
    ],
)
def test_addresses_are_split_stripped_and_kept_once_in_order(given: Any, expected: list[str]) -> None:
    assert parse_addresses(given) == expected


@pytest.mark.parametrize("given", ["", " , ", []])
def test_no_address_at_all_is_an_error(given: Any) -> None:
    with pytest.raises(ValueError, match="no server address"):
        parse_addresses(given)


def test_the_leader_hint_is_read_from_not_leader_only() -> None:
    assert leader_hint(from_rpc_error(not_leader("b:2"))) == "b:2"
    assert leader_hint(from_rpc_error(not_leader(""))) == ""  # a takeover under way: not known yet
    assert leader_hint(from_rpc_error(unreachable())) is None


@pytest.mark.parametrize(
    ("error", "move"),
    [
        (not_leader("b:2"), Move.LEADER),
        (not_leader(""), Move.NEXT),
        (unreachable(), Move.NEXT),
        (rpc_error(UNAVAILABLE, "stopping", error_info("SHUTTING_DOWN")), Move.NEXT),
        # the node is fine, its store is not: another node would not help
        (rpc_error(UNAVAILABLE, "store down", error_info("STORE_UNAVAILABLE"), retry_info(5)), None),
        (rpc_error(grpc.StatusCode.NOT_FOUND, "no such order", error_info("ORDER_NOT_FOUND")), None),
        (rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "slow"), None),
    ],
)
def test_route(error: grpc.aio.AioRpcError, move: Move | None) -> None:
    assert route(from_rpc_error(error)) is move


def test_endpoints_cycle_and_add_the_leader_named() -> None:
    ends = Endpoints("a:1,b:2")
    assert ends.current == "a:1"
    assert ends.next_after("a:1")
    assert ends.current == "b:2"
    assert ends.next_after("b:2")
    assert ends.current == "a:1"
    assert ends.use("c:3")
    assert (ends.current, ends.addresses) == ("c:3", ["a:1", "b:2", "c:3"])
    assert not ends.use("c:3")


def test_a_failure_on_an_address_already_left_does_not_move_again() -> None:
    ends = Endpoints(["a:1", "b:2"])
    ends.next_after("a:1")  # a first stream saw a:1 fail and moved on
    assert not ends.next_after("a:1")  # a second one, cut at the same time, stays on b:2
    assert ends.current == "b:2"
    assert not Endpoints("a:1").next_after("a:1")  # one address: nowhere else to go


# ---------------------------------------------------------------------------------- unary calls


async def test_not_leader_switches_to_the_leader_named_and_resends_at_once() -> None:
    sleeps = Sleeps()
    client = AsyncClient("a:1,b:2", sleep=sleeps)
    try:
        rpc = FlakyRpc(not_leader("c:3"))
        assert await client._call(rpc, None) == "ok"
        assert (rpc.calls, sleeps.delays) == (2, [])
        assert client.address == "c:3"
        assert client.addresses == ["a:1", "b:2", "c:3"]
    finally:
        await client.close()


async def test_not_leader_is_resent_even_where_a_call_is_not_retried() -> None:
    client = AsyncClient("a:1,b:2", sleep=Sleeps())
    try:
        rpc = FlakyRpc(not_leader("b:2"))
        assert await client._call(rpc, None, retry=False) == "ok"  # nothing was recorded: safe
        with pytest.raises(ServerUnavailable):
            await client._call(FlakyRpc(unreachable()), None, retry=False)  # it might have been
    finally:
        await client.close()


async def test_a_takeover_is_waited_out_across_the_addresses() -> None:
    """The leader gone, the standby not leader yet: more attempts than `attempts`, cycling."""
    sleeps = Sleeps()
    client = AsyncClient("a:1,b:2", retry=RetryPolicy(attempts=2, failover_seconds=15), sleep=sleeps)
    seen: list[str] = []
    try:
        errors = [unreachable(), not_leader(""), unreachable(), not_leader(""), unreachable()]

        async def rpc(request: Any, metadata: Any = ()) -> str:
            seen.append(client.address)
            if errors:
                raise errors.pop(0)
            return "ok"

        assert await client._call(rpc, None) == "ok"
        assert seen == ["a:1", "b:2", "a:1", "b:2", "a:1", "b:2"]
        assert sum(sleeps.delays) <= 15
    finally:
        await client.close()


async def test_the_failover_wait_is_bounded_by_failover_seconds() -> None:
    sleeps = Sleeps()
    client = AsyncClient("a:1,b:2", retry=RetryPolicy(failover_seconds=2.0), sleep=sleeps)
    try:
        rpc = FlakyRpc(*[not_leader("") for _ in range(100)])
        with pytest.raises(ServerUnavailable) as raised:
            await client._call(rpc, None)
        assert raised.value.reason == "NOT_LEADER"
        assert sleeps.delays == [0.5] * 4  # the server's RetryInfo, until 2 s are used up
    finally:
        await client.close()


async def test_nodes_naming_each_other_are_not_followed_forever() -> None:
    sleeps = Sleeps()
    client = AsyncClient("a:1,b:2", retry=RetryPolicy(attempts=3), sleep=sleeps)
    try:
        rpc = FlakyRpc(*[not_leader("b:2" if i % 2 == 0 else "a:1") for i in range(100)])
        with pytest.raises(ServerUnavailable):
            await client._call(rpc, None)
        assert rpc.calls <= 12  # attempts * 4
        assert sleeps.delays  # hops at once only a few in a row, then the server's RetryInfo
    finally:
        await client.close()


async def test_one_address_keeps_the_attempts_it_always_had() -> None:
    sleeps = Sleeps()
    client = AsyncClient("a:1", retry=RetryPolicy(attempts=3), sleep=sleeps)
    try:
        rpc = FlakyRpc(*[unreachable() for _ in range(10)])
        with pytest.raises(ServerUnavailable):
            await client._call(rpc, None)
        assert rpc.calls == 3
    finally:
        await client.close()


async def test_a_node_refusing_the_token_after_a_switch_gets_a_fresh_login() -> None:
    client = AsyncClient("a:1,b:2", sleep=Sleeps())
    logins: list[tuple[str, str]] = []

    async def login(username: str, password: str) -> None:
        logins.append((username, password))
        client._token = "fresh"

    client._credentials, client._token = ("trader1", "pw"), "old"
    client.login = login  # type: ignore[method-assign]
    try:
        refused = rpc_error(grpc.StatusCode.UNAUTHENTICATED, "bad token", error_info("TOKEN_INVALID"))
        rpc = FlakyRpc(not_leader("b:2"), refused)
        assert await client._call(rpc, None) == "ok"
        assert logins == [("trader1", "pw")]
        # not after a switch (or twice in one call): the refusal stands
        client._moved = False
        with pytest.raises(NotAuthenticated):
            await client._call(FlakyRpc(refused), None)
        assert len(logins) == 1
    finally:
        await client.close()


# ---------------------------------------------------------------------------------- streams


async def test_a_stream_follows_the_leader_named_at_once_and_backs_off_otherwise() -> None:
    sleeps = Sleeps()
    ends = Endpoints("a:1,b:2")
    opened_at: list[str] = []
    source = FakeSource([trade(1), not_leader("b:2")], [trade(2), unreachable()], [trade(3)])

    def open_here(after: int) -> Any:
        opened_at.append(ends.current)
        return source(after)

    stream = Resumable(
        open_here,
        0,
        retry=RetryPolicy(attempts=3),
        sleep=sleeps,
        follow=lambda error: ends.follow(error, opened_at[-1]),
    )
    got = await take(follow_sequenced(stream, lambda item: item.trade.sequence, False), 3)
    assert [item.trade.sequence for item in got] == [1, 2, 3]
    assert source.opened == [0, 1, 2]  # resumed after the last sequence seen, each time
    assert opened_at == ["a:1", "b:2", "a:1"]
    assert sleeps.delays[0] == 0.0
    assert sleeps.delays[1] > 0


def test_several_addresses_reconnect_sooner_unless_told_otherwise() -> None:
    from itirp_client.connection import QUICK_RECONNECTS, _with_quick_reconnects

    assert _with_quick_reconnects((), 1) == ()  # one address: grpc's defaults, as before
    assert _with_quick_reconnects((), 2) == QUICK_RECONNECTS
    mine = (("grpc.max_reconnect_backoff_ms", 10_000),)
    chosen = dict(_with_quick_reconnects(mine, 2))
    assert chosen["grpc.max_reconnect_backoff_ms"] == 10_000
    assert chosen["grpc.initial_reconnect_backoff_ms"] == 250


async def test_a_duplicate_after_not_leader_alone_is_the_callers_duplicate() -> None:
    """The standby recorded nothing: ALREADY_EXISTS at the leader is not "my first attempt"."""
    client = AsyncClient("a:1,b:2", sleep=Sleeps())
    asked: list[str] = []

    async def first_attempt_got_through(error: Any, attempt: int) -> str | None:
        asked.append(error.reason)
        return "the existing order"

    duplicate = rpc_error(
        grpc.StatusCode.ALREADY_EXISTS, "taken", error_info("DUPLICATE_CLIENT_ORDER_ID", existing_order_id="o-1")
    )
    try:
        with pytest.raises(DuplicateOrder):
            await client._call(FlakyRpc(not_leader("b:2"), duplicate), None, on_retry_error=first_attempt_got_through)
        assert asked == []
        # after a connection failure the first attempt may have landed: the existing order
        rpc = FlakyRpc(unreachable(), duplicate)
        assert await client._call(rpc, None, on_retry_error=first_attempt_got_through) == "the existing order"
        assert asked == ["DUPLICATE_CLIENT_ORDER_ID"]
    finally:
        await client.close()


async def test_a_stream_between_nodes_naming_each_other_backs_off() -> None:
    sleeps = Sleeps()
    ends = Endpoints("a:1,b:2")
    opened_at: list[str] = []
    source = FakeSource([not_leader("b:2")], [not_leader("a:1")], [not_leader("b:2")], [trade(1)])

    def open_here(after: int) -> Any:
        opened_at.append(ends.current)
        return source(after)

    stream = Resumable(
        open_here, 0, retry=RetryPolicy(attempts=3), sleep=sleeps, follow=lambda e: ends.follow(e, opened_at[-1])
    )
    got = await take(follow_sequenced(stream, lambda item: item.trade.sequence, False), 1)
    assert [item.trade.sequence for item in got] == [1]
    assert opened_at == ["a:1", "b:2", "a:1", "b:2"]
    assert sleeps.delays[0] == 0.0
    assert sleeps.delays[1] > 0  # a second hop in a row waits
    assert sleeps.delays[2] == 0.0
