"""The audit service and the event log behind it, against a real server on a loopback port."""

from __future__ import annotations

import asyncio
import random
import sqlite3

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from itirp.server import RunningServer, serve
from itirp.store import TamperedLogError
from itirp.v1 import audit_pb2, audit_pb2_grpc, auth_pb2, auth_pb2_grpc, events_pb2
from tests.conftest import bearer, login, make_config

E = events_pb2


def audit_stub(channel: grpc.aio.Channel) -> audit_pb2_grpc.AuditServiceStub:
    return audit_pb2_grpc.AuditServiceStub(channel)


@pytest.fixture
async def compliance(channel: grpc.aio.Channel) -> tuple:
    return bearer((await login(channel, "compliance1")).access_token)


def append_noise(server: RunningServer, count: int, *, order_id: str = "", symbol: str = "") -> asyncio.Future:
    """Append `count` filler events straight through the server's journal. USER_DISABLED of a user
    nobody knows changes no state, so replay after a restart is unaffected."""
    journal = server.journal
    events = [
        journal.new(
            E.UserDisabled(username=f"nobody-{i}"),
            correlation_id=f"c-{i}",
            order_id=order_id or f"o-{i}",
            symbol=symbol,
        )
        for i in range(count)
    ]
    return asyncio.ensure_future(server.store.append(events))


async def test_logins_and_failures_are_events_newest_first(channel: grpc.aio.Channel, compliance: tuple) -> None:
    await login(channel, "trader1")
    with pytest.raises(grpc.aio.AioRpcError):
        await login(channel, "trader1", "wrong")

    reply = await audit_stub(channel).ListEvents(audit_pb2.ListEventsRequest(page_size=3), metadata=compliance)

    newest = [e.event_type for e in reply.events]
    # the compliance login itself came first; then trader1's success and failure; newest first
    assert newest[:2] == [E.EVENT_TYPE_LOGIN_FAILED, E.EVENT_TYPE_USER_LOGGED_IN]
    failed = reply.events[0]
    assert failed.login_failed.username == "trader1"
    assert failed.login_failed.consecutive_failures == 1
    assert reply.events[1].user_logged_in.username == "trader1"
    sequences = [e.sequence for e in reply.events]
    assert sequences == sorted(sequences, reverse=True)
    assert all(len(e.hash) == 64 and len(e.prev_hash) == 64 for e in reply.events)


async def test_demo_users_are_recorded_as_created(channel: grpc.aio.Channel, compliance: tuple) -> None:
    request = audit_pb2.ListEventsRequest(filter=audit_pb2.EventFilter(event_types=[E.EVENT_TYPE_USER_CREATED]))
    reply = await audit_stub(channel).ListEvents(request, metadata=compliance)
    assert {e.user_created.username for e in reply.events} == {"trader1", "trader2", "risk1", "compliance1", "admin"}


async def test_list_events_pages_through_everything_exactly_once(server: RunningServer, channel, compliance) -> None:  # type: ignore[no-untyped-def]
    await append_noise(server, 250)
    head = server.store.head_sequence
    stub = audit_stub(channel)

    seen, token = [], ""
    while True:
        reply = await stub.ListEvents(audit_pb2.ListEventsRequest(page_size=100, page_token=token), metadata=compliance)
        seen += [e.sequence for e in reply.events]
        token = reply.next_page_token
        if not token:
            break
    assert seen == list(range(head, 0, -1))

    ascending, token = [], ""
    while True:
        request = audit_pb2.ListEventsRequest(page_size=70, from_sequence=5, page_token=token)
        reply = await stub.ListEvents(request, metadata=compliance)
        ascending += [e.sequence for e in reply.events]
        token = reply.next_page_token
        if not token:
            break
    assert ascending == list(range(5, head + 1))


async def test_list_events_filters(server: RunningServer, channel, compliance) -> None:  # type: ignore[no-untyped-def]
    await append_noise(server, 3, order_id="ord-7", symbol="AAPL")
    await append_noise(server, 2, symbol="NOISE")  # no instrument NOISE: no listing event names it
    stub = audit_stub(channel)

    by_order = await stub.ListEvents(
        audit_pb2.ListEventsRequest(filter=audit_pb2.EventFilter(order_id="ord-7")), metadata=compliance
    )
    by_symbol = await stub.ListEvents(
        audit_pb2.ListEventsRequest(filter=audit_pb2.EventFilter(symbol="NOISE")), metadata=compliance
    )
    trader = (await login(channel, "trader1")).user_id
    by_user = await stub.ListEvents(
        audit_pb2.ListEventsRequest(filter=audit_pb2.EventFilter(user_id=trader)), metadata=compliance
    )

    assert len(by_order.events) == 3
    assert all(e.order_id == "ord-7" for e in by_order.events)
    assert len(by_symbol.events) == 2
    assert all(e.symbol == "NOISE" for e in by_symbol.events)
    assert [e.event_type for e in by_user.events] == [E.EVENT_TYPE_USER_LOGGED_IN]

    last = by_order.events[0]
    window = audit_pb2.ListEventsRequest(start_time=last.timestamp)
    window.end_time.FromMicroseconds(last.timestamp.ToMicroseconds() + 1)
    in_window = await stub.ListEvents(window, metadata=compliance)
    assert last.sequence in [e.sequence for e in in_window.events]
    assert all(e.timestamp == last.timestamp for e in in_window.events)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (audit_pb2.ListEventsRequest(page_token="garbage"), "page_token"),
        (audit_pb2.ListEventsRequest(page_size=-1), "page_size"),
        (audit_pb2.ListEventsRequest(filter=audit_pb2.EventFilter(event_types=[999])), "filter.event_types"),
    ],
)
async def test_bad_list_requests_name_the_field(channel, compliance, request_, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await audit_stub(channel).ListEvents(request_, metadata=compliance)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details().startswith(field)


async def test_correlation_trail_follows_the_callers_correlation_id(channel: grpc.aio.Channel, compliance) -> None:  # type: ignore[no-untyped-def]
    auth = auth_pb2_grpc.AuthServiceStub(channel)
    corr = (("x-correlation-id", "desk-session-1"),)
    reply = await auth.Login(auth_pb2.LoginRequest(username="risk1", password="risk123"), metadata=corr)
    await auth.Logout(auth_pb2.LogoutRequest(), metadata=bearer(reply.access_token) + corr)

    trail = await audit_stub(channel).GetCorrelationTrail(
        audit_pb2.GetCorrelationTrailRequest(correlation_id="desk-session-1"), metadata=compliance
    )

    assert [e.event_type for e in trail.events] == [E.EVENT_TYPE_USER_LOGGED_IN, E.EVENT_TYPE_TOKEN_REVOKED]
    assert trail.events[1].token_revoked.token_id == trail.events[0].user_logged_in.token_id


async def test_trails_not_found_and_invalid(server: RunningServer, channel, compliance) -> None:  # type: ignore[no-untyped-def]
    stub = audit_stub(channel)
    for call, request_ in (
        (stub.GetCorrelationTrail, audit_pb2.GetCorrelationTrailRequest(correlation_id="nope")),
        (stub.GetOrderTrail, audit_pb2.GetOrderTrailRequest(order_id="nope")),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call(request_, metadata=compliance)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.GetOrderTrail(audit_pb2.GetOrderTrailRequest(), metadata=compliance)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    await append_noise(server, 2, order_id="ord-9")
    trail = await stub.GetOrderTrail(audit_pb2.GetOrderTrailRequest(order_id="ord-9"), metadata=compliance)
    assert len(trail.events) == 2
    assert trail.events[0].sequence < trail.events[1].sequence


async def test_verify_audit_log_reports_the_head(server: RunningServer, channel, compliance) -> None:  # type: ignore[no-untyped-def]
    await append_noise(server, 10)
    result = await audit_stub(channel).VerifyAuditLog(audit_pb2.VerifyAuditLogRequest(), metadata=compliance)
    assert result.ok
    assert result.first_bad_sequence == 0
    assert result.head_sequence == server.store.head_sequence == result.events_checked
    assert result.head_hash == server.store.head_hash


async def test_an_edited_row_is_detected_by_verify_and_at_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path / "data")
    running = await serve(config)
    await append_noise(running, 20)
    async with grpc.aio.insecure_channel(running.address) as channel:
        md = bearer((await login(channel, "compliance1")).access_token)
        db = sqlite3.connect(config.data_dir / "events.db")
        db.execute("UPDATE events SET symbol = 'EDITED' WHERE sequence = 12")
        db.commit()
        db.close()

        result = await audit_stub(channel).VerifyAuditLog(audit_pb2.VerifyAuditLogRequest(), metadata=md)
    await running.shutdown(grace=0)
    head = running.store.head_sequence  # after the clean stop's checkpoint event

    assert not result.ok
    assert result.first_bad_sequence == 12
    assert "event 12" in result.message
    with pytest.raises(TamperedLogError) as info:
        await serve(config)
    assert info.value.first_bad_sequence == 12
    assert "--read-only" in str(info.value)

    # read-only: starts for investigation, serves the audit side, records nothing
    investigating = await serve(config.replace(read_only=True))
    try:
        async with grpc.aio.insecure_channel(investigating.address) as channel:
            md = bearer((await login(channel, "compliance1")).access_token)
            result = await audit_stub(channel).VerifyAuditLog(audit_pb2.VerifyAuditLogRequest(), metadata=md)
            assert result.first_bad_sequence == 12
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await auth_pb2_grpc.AuthServiceStub(channel).Logout(auth_pb2.LogoutRequest(), metadata=md)
            assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert investigating.store.head_sequence == head  # nothing appended since, not even the login
    finally:
        await investigating.shutdown(grace=0)


async def read_until(stream, last_sequence: int) -> tuple[list[int], list[str]]:  # type: ignore[no-untyped-def]
    """Sequences of the events received until `last_sequence`, and the kinds of everything received."""
    sequences, kinds = [], []
    while (item := await stream.read()) is not grpc.aio.EOF:
        kind = item.WhichOneof("kind")
        kinds.append(kind)
        if kind == "event":
            sequences.append(item.event.sequence)
            if item.event.sequence >= last_sequence:
                break
    return sequences, kinds


async def test_subscriber_starting_mid_stream_gets_exactly_the_later_events(
    server: RunningServer, channel, compliance
) -> None:  # type: ignore[no-untyped-def]
    total = 10_000
    rng = random.Random(7)
    start_head = server.store.head_sequence
    mid_stream = asyncio.Event()

    async def producer() -> None:
        appended = 0
        while appended < total:
            n = min(total - appended, rng.randint(1, 60))
            durable = append_noise(server, n)
            appended += n
            if appended >= 3000 and not mid_stream.is_set():
                await durable
                mid_stream.set()
            await asyncio.sleep(0.001 if mid_stream.is_set() else 0)

    task = asyncio.create_task(producer())
    await mid_stream.wait()
    joined_at = server.store.head_sequence
    stream = audit_stub(channel).SubscribeEvents(
        audit_pb2.SubscribeEventsRequest(from_sequence=joined_at), metadata=compliance
    )
    reader = asyncio.create_task(read_until(stream, start_head + total))  # catches up while appends go on
    await task

    sequences, kinds = await reader
    stream.cancel()

    assert start_head + 3000 <= joined_at < start_head + total
    assert sequences == list(range(joined_at + 1, start_head + total + 1))
    assert kinds.count("caught_up") == 1


async def test_catch_up_marker_then_live_events_then_heartbeats(server: RunningServer, channel, compliance) -> None:  # type: ignore[no-untyped-def]
    await append_noise(server, 5)
    head = server.store.head_sequence
    request = audit_pb2.SubscribeEventsRequest(
        from_sequence=head - 2,
        heartbeat_interval_seconds=1,
        filter=audit_pb2.EventFilter(event_types=[E.EVENT_TYPE_USER_DISABLED]),
    )
    stream = audit_stub(channel).SubscribeEvents(request, metadata=compliance)

    first = [await stream.read() for _ in range(3)]
    assert [m.WhichOneof("kind") for m in first] == ["event", "event", "caught_up"]
    assert [m.event.sequence for m in first[:2]] == [head - 1, head]
    assert first[2].caught_up.sequence == head

    await append_noise(server, 1)
    live = await stream.read()
    assert live.event.sequence == head + 1
    await login(channel, "trader1")  # filtered out: not a USER_DISABLED
    beat = await stream.read()
    assert beat.WhichOneof("kind") == "heartbeat"
    assert beat.heartbeat.head_sequence == head + 2
    stream.cancel()


async def test_stalled_subscriber_is_cut_off_with_its_resume_point_and_others_keep_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    running = await serve(make_config(tmp_path / "data", subscriber_queue=2000))
    try:
        # Two terminals, two connections (grpc would share one between same-target channels). The
        # stalled one keeps the default 64 KiB HTTP/2 window (no BDP probing, which would grow it to
        # megabytes), so that the server's writes to it stall once ~300 events are in flight.
        own = (("grpc.use_local_subchannel_pool", 1),)
        async with (
            grpc.aio.insecure_channel(running.address, options=own) as fast_ch,
            grpc.aio.insecure_channel(running.address, options=(*own, ("grpc.http2.bdp_probe", 0))) as slow_ch,
        ):
            md = bearer((await login(fast_ch, "compliance1")).access_token)
            start = running.store.head_sequence
            fast = audit_stub(fast_ch).SubscribeEvents(
                audit_pb2.SubscribeEventsRequest(from_sequence=start), metadata=md
            )
            slow = audit_stub(slow_ch).SubscribeEvents(
                audit_pb2.SubscribeEventsRequest(from_sequence=start), metadata=md
            )
            assert (await fast.read()).WhichOneof("kind") == "caught_up"
            assert (await slow.read()).WhichOneof("kind") == "caught_up"

            fast_task = asyncio.create_task(read_until(fast, start + 8_000))
            for _ in range(160):  # paced so that a reader keeps up; the slow one reads nothing meanwhile
                await append_noise(running, 50)
                await asyncio.sleep(0.01)
            fast_sequences, _ = await fast_task

            received: list[int] = []

            async def read_all() -> None:
                while True:
                    received.append((await slow.read()).event.sequence)

            with pytest.raises(grpc.aio.AioRpcError) as info:
                await read_all()
            assert fast_sequences == list(range(start + 1, start + 8_001))
            assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            resume = int(info.value.details().rsplit("from_sequence=", 1)[1])
            assert received == list(range(start + 1, resume + 1))
            assert resume < start + 8_000

            # resuming from there delivers the rest, no gap, no duplicate
            rest = audit_stub(fast_ch).SubscribeEvents(
                audit_pb2.SubscribeEventsRequest(from_sequence=resume), metadata=md
            )
            tail, _ = await read_until(rest, start + 8_000)
            rest.cancel()
            assert received + tail == list(range(start + 1, start + 8_001))
    finally:
        await running.shutdown(grace=0)


async def test_cancelled_subscriber_leaves_nothing_behind(server: RunningServer, channel, compliance) -> None:  # type: ignore[no-untyped-def]
    streams = [
        audit_stub(channel).SubscribeEvents(audit_pb2.SubscribeEventsRequest(), metadata=compliance) for _ in range(5)
    ]
    for s in streams:
        while (await s.read()).WhichOneof("kind") != "caught_up":
            pass
    assert server.fanout.subscriber_count == 5

    for s in streams:
        s.cancel()
    for _ in range(200):
        if server.fanout.subscriber_count == 0:
            break
        await asyncio.sleep(0.01)
    assert server.fanout.subscriber_count == 0


async def test_revoking_the_token_ends_the_subscription(channel: grpc.aio.Channel) -> None:
    token = (await login(channel, "compliance1")).access_token
    stream = audit_stub(channel).SubscribeEvents(audit_pb2.SubscribeEventsRequest(), metadata=bearer(token))
    while (await stream.read()).WhichOneof("kind") != "caught_up":
        pass

    await auth_pb2_grpc.AuthServiceStub(channel).Logout(auth_pb2.LogoutRequest(), metadata=bearer(token))

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await read_to_end(stream)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in info.value.details()


async def test_a_failed_append_turns_the_server_not_serving(server: RunningServer, channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    assert (await health.Check(health_pb2.HealthCheckRequest())).status == health_pb2.HealthCheckResponse.SERVING
    server.store.fail_next_commit()

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await login(channel, "trader1")

    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "could not record" in info.value.details()
    for _ in range(100):
        if (await health.Check(health_pb2.HealthCheckRequest())).status == health_pb2.HealthCheckResponse.NOT_SERVING:
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("health still SERVING after a failed append")
    with pytest.raises(grpc.aio.AioRpcError) as info:  # and nothing later is acknowledged either
        await login(channel, "risk1")
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_lockout_and_revocations_are_rebuilt_from_events_after_restart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = make_config(tmp_path / "data")
    first = await serve(config)
    async with grpc.aio.insecure_channel(first.address) as channel:
        for _ in range(5):
            with pytest.raises(grpc.aio.AioRpcError):
                await login(channel, "trader1", "wrong")
    await first.shutdown(grace=0)
    head = first.store.head_sequence  # after the clean stop's checkpoint event

    second = await serve(config)
    try:
        assert second.store.head_sequence == head  # replay regenerated nothing
        async with grpc.aio.insecure_channel(second.address) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await login(channel, "trader1")
            assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        await second.shutdown(grace=0)


async def read_to_end(stream) -> None:  # type: ignore[no-untyped-def]
    """Read a stream until it ends (an error ends it with that error)."""
    while await stream.read() is not grpc.aio.EOF:
        pass
