"""The one reconnect loop of the client's streams (`itirp_client.streams`), against a scripted
stream source: no network, no real sleeps."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any, TypeVar

import grpc
import pytest

from itirp.v1 import common_pb2, market_data_pb2
from itirp_client.errors import ItirpError, NotAuthenticated, ServerUnavailable, TooManyRequests
from itirp_client.streams import Resumable, RetryPolicy, follow_book, follow_sequenced
from tests.unit.client.support import FakeSource, Sleeps, error_info, retry_info, rpc_error

T = TypeVar("T")
POLICY = RetryPolicy(attempts=3, base_delay=0.1, max_delay=1.0)
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE


def trade(seq: int) -> market_data_pb2.StreamTradesResponse:
    return market_data_pb2.StreamTradesResponse(trade=market_data_pb2.Trade(trade_id=f"t{seq}", sequence=seq))


def caught_up(seq: int) -> market_data_pb2.StreamTradesResponse:
    return market_data_pb2.StreamTradesResponse(caught_up=common_pb2.StreamCaughtUp(sequence=seq))


def heartbeat() -> market_data_pb2.StreamTradesResponse:
    return market_data_pb2.StreamTradesResponse(heartbeat=common_pb2.StreamHeartbeat(head_sequence=1))


def stream(source: FakeSource, sleeps: Sleeps, start: int = 0, relogin: Any = None) -> Resumable:
    return Resumable(source, start, retry=POLICY, sleep=sleeps, relogin=relogin, name="the test stream")


def trades(resumable: Resumable, markers: bool = False) -> AsyncGenerator[Any, None]:
    return follow_sequenced(resumable, lambda item: item.trade.sequence, markers)


async def take(items: AsyncGenerator[T, None], n: int) -> list[T]:
    got = []
    try:
        async for item in items:
            got.append(item)
            if len(got) == n:
                break
    finally:
        await items.aclose()
    return got


def sequences(items: list[Any]) -> list[int]:
    return [item.trade.sequence for item in items]


async def test_resumes_after_the_last_sequence_delivered_with_no_repeat() -> None:
    source = FakeSource(
        [caught_up(100), trade(101), trade(103), rpc_error(UNAVAILABLE)],
        [trade(103), trade(105), heartbeat(), caught_up(107), rpc_error(UNAVAILABLE)],  # 103 again: skipped
        [trade(108)],
    )
    sleeps = Sleeps()
    got = await take(trades(stream(source, sleeps)), 4)
    assert sequences(got) == [101, 103, 105, 108]
    assert source.opened == [0, 103, 107]  # after the caught-up marker's sequence too
    assert len(sleeps.delays) == 2
    assert all(0.05 <= d <= 0.1 for d in sleeps.delays)
    assert all(call.cancelled for call in source.calls)


async def test_markers_are_yielded_only_when_asked_for() -> None:
    source = FakeSource([caught_up(5), heartbeat(), trade(6)])
    got = await take(trades(stream(source, Sleeps()), markers=True), 3)
    assert [item.WhichOneof("kind") for item in got] == ["caught_up", "heartbeat", "trade"]


async def test_the_server_named_resume_point_and_retry_delay_are_used() -> None:
    cut_off = rpc_error(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "subscriber fell behind",
        error_info("SUBSCRIBER_TOO_SLOW", resume_from_sequence="250"),  # beyond 101: filtered-out events
        retry_info(2.5),
    )
    source = FakeSource([trade(101), cut_off], [trade(251)])
    sleeps = Sleeps()
    got = await take(trades(stream(source, sleeps)), 2)
    assert sequences(got) == [101, 251]
    assert source.opened == [0, 250]
    assert sleeps.delays == [2.5]


async def test_resource_exhausted_without_a_resume_point_ends_the_stream() -> None:
    source = FakeSource([trade(1), rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "quota", error_info("LOCKED_OUT"))])
    with pytest.raises(TooManyRequests) as raised:
        await take(trades(stream(source, Sleeps())), 5)
    assert raised.value.reason == "LOCKED_OUT"
    assert raised.value.__cause__ is None
    assert raised.value.__suppress_context__


async def test_an_expired_token_logs_in_again_and_resumes_at_once() -> None:
    logins: list[str] = []

    async def relogin() -> bool:
        logins.append("again")
        return True

    expired = rpc_error(grpc.StatusCode.UNAUTHENTICATED, "token expired", error_info("TOKEN_EXPIRED"))
    source = FakeSource([trade(1), expired], [trade(2)])
    sleeps = Sleeps()
    got = await take(trades(stream(source, sleeps, relogin=relogin)), 2)
    assert sequences(got) == [1, 2]
    assert logins == ["again"]
    assert source.opened == [0, 1]
    assert sleeps.delays == []


@pytest.mark.parametrize("reason", ["TOKEN_REVOKED", "USER_DISABLED", ""])
async def test_a_revoked_token_or_unknown_reason_is_not_retried(reason: str) -> None:
    async def relogin() -> bool:
        raise AssertionError("must not log in again")

    details = [error_info(reason)] if reason else []
    source = FakeSource([rpc_error(grpc.StatusCode.UNAUTHENTICATED, "no", *details)])
    with pytest.raises(NotAuthenticated):
        await take(trades(stream(source, Sleeps(), relogin=relogin)), 1)


async def test_without_credentials_an_expired_token_is_raised() -> None:
    async def cannot() -> bool:
        return False

    expired = rpc_error(grpc.StatusCode.UNAUTHENTICATED, "token expired", error_info("TOKEN_EXPIRED"))
    with pytest.raises(NotAuthenticated):
        await take(trades(stream(FakeSource([expired]), Sleeps(), relogin=cannot)), 1)


async def test_attempts_are_bounded_and_back_off_with_jitter() -> None:
    limit = POLICY.attempts * 4
    source = FakeSource(*[[rpc_error(UNAVAILABLE, "down")] for _ in range(limit + 1)])
    sleeps = Sleeps()
    with pytest.raises(ServerUnavailable):
        await take(trades(stream(source, sleeps)), 1)
    assert len(source.opened) == limit + 1
    assert len(sleeps.delays) == limit
    ceilings = [
        min(POLICY.max_delay, POLICY.base_delay * 2 ** (min(n, POLICY.attempts) - 1)) for n in range(1, limit + 1)
    ]
    assert all(c / 2 <= d <= c for d, c in zip(sleeps.delays, ceilings, strict=True))


async def test_a_message_resets_the_count_of_failures() -> None:
    limit = POLICY.attempts * 4
    failing = [[rpc_error(UNAVAILABLE)] for _ in range(limit)]
    # a full run of failures, a message, then the failure it ended with and another full run but one
    source = FakeSource(*failing, [trade(1), rpc_error(UNAVAILABLE)], *failing[1:], [trade(2)])
    got = await take(trades(stream(source, Sleeps())), 2)
    assert sequences(got) == [1, 2]


async def test_a_deadline_is_not_retried() -> None:
    source = FakeSource([rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")])
    with pytest.raises(ServerUnavailable):
        await take(trades(stream(source, Sleeps())), 1)


def test_delay_is_jittered_between_half_and_all_of_the_ceiling() -> None:
    policy = RetryPolicy(attempts=6, base_delay=0.1, max_delay=3.0)
    assert policy.delay(1, rng=lambda: 0.0) == pytest.approx(0.05)
    assert policy.delay(1, rng=lambda: 1.0) == pytest.approx(0.1)
    assert policy.delay(3, rng=lambda: 0.5) == pytest.approx(0.3)
    assert policy.delay(10, rng=lambda: 1.0) == pytest.approx(3.0)


# ---------------------------------------------------------------------------------- the book


def snapshot(seq: int, bid: str = "100.00") -> market_data_pb2.StreamOrderBookResponse:
    return market_data_pb2.StreamOrderBookResponse(
        snapshot=market_data_pb2.OrderBookSnapshot(
            symbol="SCR", sequence=seq, depth=5, bids=[market_data_pb2.PriceLevel(price=bid, quantity=1)]
        )
    )


def update(prev: int, seq: int) -> market_data_pb2.StreamOrderBookResponse:
    change = market_data_pb2.LevelUpdate(side=common_pb2.SIDE_SELL, price="101.00", quantity=seq)
    return market_data_pb2.StreamOrderBookResponse(
        update=market_data_pb2.OrderBookUpdate(symbol="SCR", sequence=seq, previous_sequence=prev, levels=[change])
    )


async def test_the_book_resubscribes_on_a_gap_and_after_a_drop() -> None:
    source = FakeSource(
        [snapshot(5), update(5, 6), update(7, 8)],  # 7 is not the 6 applied: a gap
        [snapshot(8), rpc_error(UNAVAILABLE)],
        [update(8, 9), snapshot(9)],  # an update before the new subscription's snapshot: a gap too
        [snapshot(9), update(9, 10)],
    )
    sleeps = Sleeps()
    books = await take(follow_book(stream(source, sleeps), "SCR"), 5)
    assert [(b.sequence, b.snapshot, b.resubscriptions) for b in books] == [
        (5, True, 0),
        (6, False, 0),
        (8, True, 1),
        (9, True, 3),
        (10, False, 3),
    ]
    assert books[-1].asks[0].quantity == 10
    assert len(sleeps.delays) == 2  # after the drop; the first gap resubscribes at once, the second backs off


async def test_a_book_that_keeps_skipping_updates_gives_up() -> None:
    limit = POLICY.attempts * 4
    source = FakeSource(*[[snapshot(1), update(2, 3)] for _ in range(limit + 1)])
    with pytest.raises(ItirpError) as raised:
        await take(follow_book(stream(source, Sleeps()), "SCR"), 10 * limit)
    assert raised.value.code == "DATA_LOSS"
    assert "keeps skipping updates" in raised.value.message
