"""The trading core through gRPC: orders, race-free risk, execution with retry and breaker,
positions, restart, live order status. A real server on a loopback port, real grpc.aio channels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from itirp.auth.roles import Role
from itirp.auth.users import UserStore
from itirp.server import RunningServer, serve
from itirp.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    common_pb2,
    events_pb2,
    order_pb2,
    order_pb2_grpc,
    risk_pb2,
    risk_pb2_grpc,
    system_pb2,
    system_pb2_grpc,
)
from tests.conftest import ScriptedVenue, bearer, login, make_config

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
S = common_pb2
E = events_pb2


class Desk:
    """A terminal session per role against one server."""

    def __init__(self, server: RunningServer, channel: grpc.aio.Channel, tokens: dict[str, str]) -> None:
        self.server = server
        self.channel = channel
        self.tokens = tokens
        self.orders = order_pb2_grpc.OrderServiceStub(channel)
        self.risk = risk_pb2_grpc.RiskServiceStub(channel)
        self.audit = audit_pb2_grpc.AuditServiceStub(channel)
        self.system = system_pb2_grpc.SystemServiceStub(channel)

    def md(self, user: str = "trader1", **extra: str) -> tuple:
        return bearer(self.tokens[user]) + tuple((k.replace("_", "-"), v) for k, v in extra.items())

    async def submit(
        self,
        symbol: str = "AAPL",
        side: int = BUY,
        quantity: int = 100,
        price: str = "150.50",
        user: str = "trader1",
        **fields: str,
    ) -> order_pb2.SubmitOrderResponse:
        request = order_pb2.SubmitOrderRequest(symbol=symbol, side=side, quantity=quantity, price=price, **fields)
        return await self.orders.SubmitOrder(request, metadata=self.md(user))

    async def get(self, order_id: str, user: str = "trader1") -> order_pb2.Order:
        return (await self.orders.GetOrder(order_pb2.GetOrderRequest(order_id=order_id), metadata=self.md(user))).order

    async def settled(self, order_id: str, user: str = "trader1") -> order_pb2.Order:
        """The order once it reached a final status (executions run after the reply), or UNKNOWN
        (nothing more happens to it until the venue answers a reconciliation)."""
        for _ in range(500):
            order = await self.get(order_id, user)
            if order.status in (
                S.ORDER_STATUS_EXECUTED,
                S.ORDER_STATUS_FAILED,
                S.ORDER_STATUS_REJECTED,
                S.ORDER_STATUS_CANCELLED,
                S.ORDER_STATUS_UNKNOWN,
            ):
                return order
            await asyncio.sleep(0.01)
        raise AssertionError(f"order {order_id} never settled: {order}")

    async def trail(self, order_id: str) -> list[int]:
        reply = await self.audit.GetOrderTrail(
            audit_pb2.GetOrderTrailRequest(order_id=order_id), metadata=self.md("compliance1")
        )
        return [e.event_type for e in reply.events]

    async def set_limits(self, reason: str = "desk drill", **limits: str) -> risk_pb2.UpdateRiskLimitsResponse:
        return await self.risk.UpdateRiskLimits(
            risk_pb2.UpdateRiskLimitsRequest(reason=reason, **limits), metadata=self.md("risk1")
        )

    async def kill_switch(self, enabled: bool, reason: str = "desk drill") -> risk_pb2.SetKillSwitchResponse:
        return await self.risk.SetKillSwitch(
            risk_pb2.SetKillSwitchRequest(enabled=enabled, reason=reason), metadata=self.md("risk1")
        )

    async def positions(self) -> risk_pb2.ListPositionsResponse:
        return await self.risk.ListPositions(risk_pb2.ListPositionsRequest(), metadata=self.md())


async def open_desk(server: RunningServer) -> tuple[Desk, grpc.aio.Channel]:
    channel = grpc.aio.insecure_channel(server.address)
    tokens = {}
    for user in ("trader1", "risk1", "compliance1", "admin"):
        tokens[user] = (await login(channel, user)).access_token
    return Desk(server, channel, tokens), channel


@pytest.fixture
def venue() -> ScriptedVenue:
    return ScriptedVenue()


@pytest.fixture
def trading_config(tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_config(tmp_path / "data", retry_base_delay_seconds=0.001, breaker_open_seconds=0.3, access_log=False)


@pytest.fixture
async def desk(trading_config, venue: ScriptedVenue) -> AsyncIterator[Desk]:  # type: ignore[no-untyped-def]
    server = await serve(trading_config, venue=venue)
    d, channel = await open_desk(server)
    try:
        yield d
    finally:
        if venue.gate is not None:
            venue.gate.set()
        await channel.close()
        await server.shutdown(grace=1)


async def rejected(awaitable) -> grpc.aio.AioRpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await awaitable
    return info.value


# ---------------------------------------------------------------- the REST design's four cases


async def test_100000_tsla_at_200_is_rejected_for_position_limit(desk: Desk) -> None:
    reply = await desk.submit("TSLA", BUY, 100_000, "200")

    assert reply.status == S.ORDER_STATUS_REJECTED
    assert reply.message.startswith("Risk violations: POSITION_LIMIT")
    types = [v.type for v in reply.violations]
    assert types[0] == S.VIOLATION_TYPE_POSITION_LIMIT
    position = reply.violations[0]
    assert (position.limit, position.projected) == ("1000000.00", "20000000.00")
    assert (await desk.get(reply.order_id)).status == S.ORDER_STATUS_REJECTED


async def test_kill_switch_rejects_new_orders_until_it_is_off(desk: Desk) -> None:
    switched = await desk.kill_switch(True, "fat-finger alert")
    assert switched.kill_switch_active
    assert switched.changed
    assert switched.set_by == "risk1"

    reply = await desk.submit("AAPL", BUY, 10, "150")

    assert reply.status == S.ORDER_STATUS_REJECTED
    assert reply.message == "Risk violations: KILL_SWITCH_ACTIVE"
    assert [v.type for v in reply.violations] == [S.VIOLATION_TYPE_KILL_SWITCH_ACTIVE]
    again = await desk.kill_switch(True, "still on")
    assert not again.changed
    await desk.kill_switch(False, "all clear")
    assert (await desk.submit("AAPL", BUY, 10, "150")).status == S.ORDER_STATUS_APPROVED


async def test_repeated_client_order_id_is_already_exists_naming_the_order(desk: Desk) -> None:
    first = await desk.submit(client_order_id="unique-123")

    error = await rejected(desk.submit(client_order_id="unique-123"))

    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    assert first.order_id in error.details()
    # unique per user: another user may use the same id
    assert (await desk.submit(client_order_id="unique-123", user="risk1")).status == S.ORDER_STATUS_APPROVED


async def test_simultaneous_duplicates_yield_exactly_one_order(desk: Desk) -> None:
    results = await asyncio.gather(
        *(desk.submit(client_order_id="same-moment") for _ in range(10)), return_exceptions=True
    )

    accepted = [r for r in results if isinstance(r, order_pb2.SubmitOrderResponse)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(accepted) == 1
    assert len(refused) == 9
    assert all(e.code() == grpc.StatusCode.ALREADY_EXISTS and accepted[0].order_id in e.details() for e in refused)


async def test_trail_by_correlation_id_tells_the_whole_story(desk: Desk) -> None:
    request = order_pb2.SubmitOrderRequest(symbol="AAPL", side=BUY, quantity=100, price="150.50", strategy="momentum")
    reply = await desk.orders.SubmitOrder(request, metadata=desk.md(x_correlation_id="corr-rest-4"))
    assert reply.correlation_id == "corr-rest-4"
    await desk.settled(reply.order_id)

    trail = await desk.audit.GetCorrelationTrail(
        audit_pb2.GetCorrelationTrailRequest(correlation_id="corr-rest-4"), metadata=desk.md("compliance1")
    )

    assert [e.event_type for e in trail.events] == [
        E.EVENT_TYPE_ORDER_CREATED,
        E.EVENT_TYPE_RISK_CHECK_STARTED,
        E.EVENT_TYPE_RISK_CHECK_PASSED,
        E.EVENT_TYPE_EXECUTION_STARTED,
        E.EVENT_TYPE_ORDER_ACCEPTED,
        E.EVENT_TYPE_ORDER_FILLED,
    ]
    created = trail.events[0].order_created
    assert (created.symbol, created.quantity, created.price, created.strategy) == ("AAPL", 100, "150.50", "momentum")
    assert trail.events[5].order_filled.price == "150.50"
    assert {e.order_id for e in trail.events} == {reply.order_id}


async def test_a_new_correlation_id_when_the_caller_sends_none(desk: Desk) -> None:
    a, b = await desk.submit(), await desk.submit()
    assert a.correlation_id
    assert b.correlation_id
    assert a.correlation_id != b.correlation_id


# ---------------------------------------------------------------- race-free risk


async def test_fifty_concurrent_orders_are_approved_only_as_far_as_the_limit_allows(desk: Desk) -> None:
    await desk.set_limits(max_position_size="10000")

    replies = await asyncio.gather(*(desk.submit("NVDA", BUY, 1, "1000") for _ in range(50)))

    statuses = [r.status for r in replies]
    assert statuses.count(S.ORDER_STATUS_APPROVED) == 10
    assert statuses.count(S.ORDER_STATUS_REJECTED) == 40
    assert all(r.message == "Risk violations: POSITION_LIMIT" for r in replies if r.status == S.ORDER_STATUS_REJECTED)
    for r in replies:
        await desk.settled(r.order_id)
    nvda = [p for p in (await desk.positions()).positions if p.symbol == "NVDA"]
    assert nvda[0].quantity == 10
    assert nvda[0].market_value == "10000.00"


async def test_working_orders_count_toward_limits_until_they_fill_or_fail(desk: Desk, venue: ScriptedVenue) -> None:
    venue.gate = asyncio.Event()  # hold executions: approved orders stay working
    await desk.set_limits(max_daily_volume="2000")
    first = await desk.submit("IBM", BUY, 10, "100")
    assert first.status == S.ORDER_STATUS_APPROVED
    second = await desk.submit("IBM", SELL, 10, "100")  # would net out, but volume counts both
    assert second.status == S.ORDER_STATUS_APPROVED
    third = await desk.submit("IBM", BUY, 1, "100")
    assert third.status == S.ORDER_STATUS_REJECTED
    assert third.message == "Risk violations: DAILY_VOLUME_LIMIT"
    metrics = (await desk.risk.GetRiskMetrics(risk_pb2.GetRiskMetricsRequest(), metadata=desk.md())).metrics
    assert metrics.daily_volume == "2000.00"
    assert metrics.working_exposure != "0.00"
    venue.gate.set()


# ---------------------------------------------------------------- lifecycle and cancel


async def test_cancel_before_execution_at_once_and_at_the_venue_pending_its_answer(
    tmp_path: Path, venue: ScriptedVenue
) -> None:
    venue.gate = asyncio.Event()
    server = await serve(make_config(tmp_path / "data", max_in_flight_executions=1), venue=venue)
    desk, channel = await open_desk(server)
    try:
        executing = await desk.submit("AAPL", BUY, 1, "10")
        await venue.entered.wait()  # the first order is at the venue
        waiting = await desk.submit("AAPL", BUY, 1, "10")  # approved, queued behind it
        assert (await desk.get(waiting.order_id)).status == S.ORDER_STATUS_APPROVED

        cancelled = await desk.orders.CancelOrder(
            order_pb2.CancelOrderRequest(order_id=waiting.order_id, reason="changed my mind"), metadata=desk.md()
        )
        assert cancelled.order.status == S.ORDER_STATUS_CANCELLED
        # at the venue, no answer yet: the cancel is sent after it (it used to be refused, EXECUTING)
        pending = await desk.orders.CancelOrder(
            order_pb2.CancelOrderRequest(order_id=executing.order_id), metadata=desk.md()
        )
        assert pending.order.status == S.ORDER_STATUS_PENDING_CANCEL

        venue.gate.set()  # the venue filled it whole before the cancel could reach it: it stays filled
        assert (await desk.settled(executing.order_id)).status == S.ORDER_STATUS_EXECUTED
        assert venue.cancel_calls == []  # filled before the cancel could go out: nothing left to cancel
        await asyncio.sleep(0.05)
        assert (await desk.get(waiting.order_id)).status == S.ORDER_STATUS_CANCELLED  # never sent
        assert len(venue.calls) == 1
        assert await desk.trail(waiting.order_id) == [
            E.EVENT_TYPE_ORDER_CREATED,
            E.EVENT_TYPE_RISK_CHECK_STARTED,
            E.EVENT_TYPE_RISK_CHECK_PASSED,
            E.EVENT_TYPE_ORDER_CANCELLED,
        ]
        error = await rejected(
            desk.orders.CancelOrder(order_pb2.CancelOrderRequest(order_id=waiting.order_id), metadata=desk.md())
        )
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    finally:
        await channel.close()
        await server.shutdown(grace=1)


async def test_orders_are_private_to_their_trader_but_not_to_risk(tmp_path: Path) -> None:
    data = tmp_path / "data"
    users = UserStore(data / "users.db")
    users.add("trader2", "trader2-pass", Role.TRADER, scrypt_n=1024)
    users.close()
    server = await serve(make_config(data))
    desk, channel = await open_desk(server)
    try:
        desk.tokens["trader2"] = (await login(channel, "trader2", "trader2-pass")).access_token
        mine = await desk.submit(symbol="MSFT")
        theirs = await desk.submit(symbol="GOOG", user="trader2")

        error = await rejected(desk.get(theirs.order_id))
        assert error.code() == grpc.StatusCode.NOT_FOUND
        assert (await rejected(desk.get("no-such-order"))).code() == grpc.StatusCode.NOT_FOUND
        assert (await desk.get(theirs.order_id, "risk1")).symbol == "GOOG"
        error = await rejected(
            desk.orders.CancelOrder(order_pb2.CancelOrderRequest(order_id=theirs.order_id), metadata=desk.md())
        )
        assert error.code() == grpc.StatusCode.NOT_FOUND

        own = await desk.orders.ListOrders(order_pb2.ListOrdersRequest(), metadata=desk.md())
        assert [o.order_id for o in own.orders] == [mine.order_id]
        everyone = await desk.orders.ListOrders(order_pb2.ListOrdersRequest(), metadata=desk.md("risk1"))
        assert [o.order_id for o in everyone.orders] == [theirs.order_id, mine.order_id]  # newest first
        only = await desk.orders.ListOrders(
            order_pb2.ListOrdersRequest(user_id=theirs.order.user_id), metadata=desk.md("risk1")
        )
        assert [o.order_id for o in only.orders] == [theirs.order_id]
    finally:
        await channel.close()
        await server.shutdown(grace=1)


async def test_list_orders_filters_and_pages(desk: Desk) -> None:
    ids = [(await desk.submit("AAPL" if i % 2 else "MSFT", BUY, 1, "10")).order_id for i in range(7)]
    rejected_id = (await desk.submit("TSLA", BUY, 100_000, "200")).order_id

    seen, token = [], ""
    while True:
        page = await desk.orders.ListOrders(
            order_pb2.ListOrdersRequest(page_size=3, page_token=token), metadata=desk.md()
        )
        seen += [o.order_id for o in page.orders]
        token = page.next_page_token
        if not token:
            break
    assert seen == [rejected_id, *reversed(ids)]

    aapl = await desk.orders.ListOrders(order_pb2.ListOrdersRequest(symbol="AAPL"), metadata=desk.md())
    assert {o.symbol for o in aapl.orders} == {"AAPL"}
    assert len(aapl.orders) == 3
    rejected_only = await desk.orders.ListOrders(
        order_pb2.ListOrdersRequest(statuses=[S.ORDER_STATUS_REJECTED]), metadata=desk.md()
    )
    assert [o.order_id for o in rejected_only.orders] == [rejected_id]
    error = await rejected(desk.orders.ListOrders(order_pb2.ListOrdersRequest(page_token="??"), metadata=desk.md()))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"symbol": "aapl"}, "symbol"),
        ({"symbol": ""}, "symbol"),
        ({"symbol": "ABCDEFGHIJKLM"}, "symbol"),
        ({"side": common_pb2.SIDE_UNSPECIFIED}, "side"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": -5}, "quantity"),
        ({"quantity": 1_000_000}, "quantity"),
        ({"price": "abc"}, "price"),
        ({"price": "-1"}, "price"),
        ({"price": "0"}, "price"),
        ({"price": "1.23456"}, "price"),
        ({"price": "1e3"}, "price"),
        ({"price": ""}, "price"),
        ({"client_order_id": "x" * 65}, "client_order_id"),
        ({"strategy": "s" * 65}, "strategy"),
    ],
)
async def test_bad_orders_are_invalid_arguments_naming_the_field(desk: Desk, fields: dict, field: str) -> None:
    request = {"symbol": "AAPL", "side": BUY, "quantity": 10, "price": "150.50", **fields}
    error = await rejected(desk.orders.SubmitOrder(order_pb2.SubmitOrderRequest(**request), metadata=desk.md()))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(f"{field}:")


# ---------------------------------------------------------------- execution: retry, breaker


async def test_transient_failures_are_retried_then_the_order_is_unknown(desk: Desk, venue: ScriptedVenue) -> None:
    venue.mode = "transient"

    order = await desk.settled((await desk.submit()).order_id)

    # it may have reached the venue: UNKNOWN, never FAILED (it used to end FAILED)
    assert order.status == S.ORDER_STATUS_UNKNOWN
    assert order.execution_attempts == 3
    assert len(venue.calls) == 1  # the retries asked for its status; the order went out once
    assert await desk.trail(order.order_id) == [
        E.EVENT_TYPE_ORDER_CREATED,
        E.EVENT_TYPE_RISK_CHECK_STARTED,
        E.EVENT_TYPE_RISK_CHECK_PASSED,
        E.EVENT_TYPE_EXECUTION_STARTED,
        E.EVENT_TYPE_EXECUTION_RETRIED,
        E.EVENT_TYPE_EXECUTION_STARTED,
        E.EVENT_TYPE_EXECUTION_RETRIED,
        E.EVENT_TYPE_EXECUTION_STARTED,
        E.EVENT_TYPE_ORDER_STATUS_UNKNOWN,
    ]
    # its reservation stays: an order that may have filled still counts against the limits
    metrics = (await desk.risk.GetRiskMetrics(risk_pb2.GetRiskMetricsRequest(), metadata=desk.md())).metrics
    assert metrics.working_exposure != "0.00"


async def test_a_permanent_rejection_is_never_retried(desk: Desk, venue: ScriptedVenue) -> None:
    venue.mode = "permanent"
    order = await desk.settled((await desk.submit()).order_id)
    assert order.status == S.ORDER_STATUS_FAILED
    assert "symbol halted" in order.message
    assert len(venue.calls) == 1
    assert (await desk.trail(order.order_id))[-2:] == [E.EVENT_TYPE_EXECUTION_STARTED, E.EVENT_TYPE_EXECUTION_FAILED]


async def test_a_hung_venue_call_times_out_and_is_retried(tmp_path: Path, venue: ScriptedVenue) -> None:
    venue.mode = "hang"
    server = await serve(
        make_config(tmp_path / "data", attempt_timeout_seconds=0.05, retry_base_delay_seconds=0.001), venue=venue
    )
    desk, channel = await open_desk(server)
    try:
        order = await desk.settled((await desk.submit()).order_id)
        assert order.status == S.ORDER_STATUS_UNKNOWN
        assert "no answer within 0.05 s" in order.message
        # one order sent; each retry asked for its status instead of sending it again
        assert (len(venue.calls), len(venue.status_calls)) == (1, 2)
    finally:
        await channel.close()
        await server.shutdown(grace=1)


async def test_every_circuit_breaker_transition_is_an_event(desk: Desk, venue: ScriptedVenue) -> None:
    breaker_events = [
        E.EVENT_TYPE_CIRCUIT_BREAKER_OPENED,
        E.EVENT_TYPE_CIRCUIT_BREAKER_HALF_OPENED,
        E.EVENT_TYPE_CIRCUIT_BREAKER_CLOSED,
    ]

    async def transitions() -> list[int]:
        reply = await desk.audit.ListEvents(
            audit_pb2.ListEventsRequest(from_sequence=1, filter=audit_pb2.EventFilter(event_types=breaker_events)),
            metadata=desk.md("compliance1"),
        )
        return [e.event_type for e in reply.events]

    async def breaker() -> system_pb2.CircuitBreakerStatus:
        return (
            await desk.system.GetSystemMetrics(system_pb2.GetSystemMetricsRequest(), metadata=desk.md())
        ).circuit_breaker

    venue.mode = "transient"
    first = await desk.settled((await desk.submit()).order_id)  # 3 failed attempts
    assert (await breaker()).consecutive_failures == 3
    second = await desk.settled((await desk.submit()).order_id)  # 2 more: the 5th opens the breaker
    assert second.status == S.ORDER_STATUS_UNKNOWN
    assert "circuit breaker opened" in second.message
    assert second.execution_attempts == 2
    status = await breaker()
    assert status.state == system_pb2.CIRCUIT_BREAKER_STATE_OPEN
    assert status.open_until.seconds > 0
    calls = len(venue.calls)

    fast = await desk.settled((await desk.submit()).order_id)  # fails fast, venue not called
    assert fast.status == S.ORDER_STATUS_FAILED
    assert fast.message.startswith("circuit breaker open")
    assert len(venue.calls) == calls
    assert (await transitions()) == [E.EVENT_TYPE_CIRCUIT_BREAKER_OPENED]

    await asyncio.sleep(0.35)  # the open period (0.3 s) is over: one probe goes through, and fails
    probe = await desk.settled((await desk.submit()).order_id)
    assert probe.status == S.ORDER_STATUS_UNKNOWN
    assert (await transitions()) == [
        E.EVENT_TYPE_CIRCUIT_BREAKER_OPENED,
        E.EVENT_TYPE_CIRCUIT_BREAKER_HALF_OPENED,
        E.EVENT_TYPE_CIRCUIT_BREAKER_OPENED,
    ]

    venue.mode = "fill"
    await asyncio.sleep(0.35)
    healed = await desk.settled((await desk.submit()).order_id)
    assert healed.status == S.ORDER_STATUS_EXECUTED
    assert (await transitions())[-2:] == [E.EVENT_TYPE_CIRCUIT_BREAKER_HALF_OPENED, E.EVENT_TYPE_CIRCUIT_BREAKER_CLOSED]
    status = await breaker()
    assert status.state == system_pb2.CIRCUIT_BREAKER_STATE_CLOSED
    assert status.consecutive_failures == 0
    assert first.status == S.ORDER_STATUS_UNKNOWN


# ---------------------------------------------------------------- positions and P&L


async def test_exact_pnl_over_a_buy_a_partial_sell_and_a_flip(desk: Desk) -> None:
    for side, quantity, price in ((BUY, 100, "10.00"), (SELL, 40, "12.50"), (SELL, 100, "9.00")):
        await desk.settled((await desk.submit("PNL", side, quantity, price)).order_id)

    (position,) = [p for p in (await desk.positions()).positions if p.symbol == "PNL"]

    assert position.quantity == -40
    assert position.average_price == "9.00"
    assert position.last_price == "9.00"
    assert position.realized_pnl == "40.00"  # +100.00 on the partial sell, -60.00 closing the rest
    assert position.unrealized_pnl == "0.00"
    assert position.market_value == "-360.00"
    await desk.settled((await desk.submit("PNL", BUY, 10, "8.75")).order_id)  # covers 10 of the short at a profit
    (position,) = [p for p in (await desk.positions()).positions if p.symbol == "PNL"]
    assert position.quantity == -30
    assert position.realized_pnl == "42.50"
    assert position.unrealized_pnl == "7.50"  # (8.75 - 9.00) * -30


async def test_limits_update_is_an_event_with_old_and_new_values_and_who(desk: Desk) -> None:
    reply = await desk.set_limits(max_position_size="500000", max_daily_volume="5000000.50", reason="quarter end")

    assert reply.previous_limits.max_position_size == "1000000.00"
    assert reply.limits.max_position_size == "500000.00"
    assert reply.limits.max_daily_volume == "5000000.50"
    assert reply.limits.max_net_exposure == "5000000.00"  # unchanged
    events = await desk.audit.ListEvents(
        audit_pb2.ListEventsRequest(filter=audit_pb2.EventFilter(event_types=[E.EVENT_TYPE_RISK_LIMITS_UPDATED])),
        metadata=desk.md("compliance1"),
    )
    (event,) = events.events
    change = event.risk_limits_updated
    assert (change.old_limits.max_position_size, change.new_limits.max_position_size) == ("1000000.00", "500000.00")
    assert change.reason == "quarter end"
    assert change.new_limits.updated_by == "risk1"
    assert event.user_id != ""
    limits = (await desk.risk.GetRiskLimits(risk_pb2.GetRiskLimitsRequest(), metadata=desk.md())).limits
    assert limits.max_position_size == "500000.00"
    assert limits.updated_at.seconds > 0


@pytest.mark.parametrize("value", ["-5", "0", "abc", "1e6", "1.23456"])
async def test_bad_limits_are_invalid_arguments(desk: Desk, value: str) -> None:
    error = await rejected(desk.set_limits(max_gross_exposure=value))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("max_gross_exposure:")


async def test_empty_limits_update_and_kill_switch_without_reason_are_refused(desk: Desk) -> None:
    assert (await rejected(desk.set_limits())).code() == grpc.StatusCode.INVALID_ARGUMENT
    error = await rejected(desk.kill_switch(True, reason=" "))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("reason:")


async def test_orders_already_executing_complete_when_the_kill_switch_goes_on(desk: Desk, venue: ScriptedVenue) -> None:
    venue.gate = asyncio.Event()
    executing = await desk.submit()
    await venue.entered.wait()
    await desk.kill_switch(True, "market halt")
    venue.gate.set()
    assert (await desk.settled(executing.order_id)).status == S.ORDER_STATUS_EXECUTED
    events = await desk.audit.ListEvents(
        audit_pb2.ListEventsRequest(filter=audit_pb2.EventFilter(event_types=[E.EVENT_TYPE_KILL_SWITCH_ACTIVATED])),
        metadata=desk.md("compliance1"),
    )
    assert events.events[0].kill_switch_activated.reason == "market halt"
    assert events.events[0].kill_switch_activated.username == "risk1"


async def test_system_metrics_after_some_orders(desk: Desk) -> None:
    for r in [await desk.submit(), await desk.submit(), await desk.submit("TSLA", BUY, 100_000, "200")]:
        await desk.settled(r.order_id)

    metrics = await desk.system.GetSystemMetrics(system_pb2.GetSystemMetricsRequest(), metadata=desk.md())

    assert metrics.total_orders == 3
    assert metrics.total_events == desk.server.store.head_sequence
    by_status = {c.status: c.count for c in metrics.orders_by_status}
    assert by_status == {S.ORDER_STATUS_EXECUTED: 2, S.ORDER_STATUS_REJECTED: 1}
    assert metrics.circuit_breaker.state == system_pb2.CIRCUIT_BREAKER_STATE_CLOSED
    assert metrics.risk_metrics.net_exposure == "30100.00"
    assert metrics.submit_latency.count == 3
    assert metrics.submit_latency.p99.ToNanoseconds() > 0


# ---------------------------------------------------------------- restart


async def _state(desk: Desk) -> tuple:
    orders = await desk.orders.ListOrders(order_pb2.ListOrdersRequest(page_size=1000), metadata=desk.md("risk1"))
    positions = await desk.positions()
    limits = await desk.risk.GetRiskLimits(risk_pb2.GetRiskLimitsRequest(), metadata=desk.md())
    metrics = (await desk.risk.GetRiskMetrics(risk_pb2.GetRiskMetricsRequest(), metadata=desk.md())).metrics
    metrics.ClearField("timestamp")
    return orders, positions, limits, metrics


async def test_identical_state_after_a_restart(trading_config, venue: ScriptedVenue) -> None:  # type: ignore[no-untyped-def]
    server = await serve(trading_config, venue=venue)
    desk, channel = await open_desk(server)
    await desk.set_limits(max_position_size="900000", reason="test")
    for side, qty, price in ((BUY, 100, "10.00"), (SELL, 40, "12.50"), (BUY, 7, "101.0001")):
        await desk.settled((await desk.submit("RST", side, qty, price, client_order_id=f"k-{qty}")).order_id)
    await desk.submit("TSLA", BUY, 100_000, "200")
    venue.mode = "transient"
    await desk.settled((await desk.submit("FAIL", BUY, 1, "1")).order_id)
    await desk.kill_switch(True, "end of day")
    before = await _state(desk)
    await channel.close()
    await server.shutdown(grace=1)
    head = server.store.head_sequence  # after the clean stop's checkpoint event

    server = await serve(trading_config, venue=venue)
    desk, channel = await open_desk(server)
    try:
        assert server.store.head_sequence == head + 4  # the four logins of the new session, nothing else
        assert await _state(desk) == before
        error = await rejected(desk.submit("RST", BUY, 1, "1", client_order_id="k-100"))
        assert error.code() == grpc.StatusCode.ALREADY_EXISTS
        breaker = (
            await desk.system.GetSystemMetrics(system_pb2.GetSystemMetricsRequest(), metadata=desk.md())
        ).circuit_breaker
        assert breaker.consecutive_failures == 3
    finally:
        await channel.close()
        await server.shutdown(grace=1)


async def test_orders_caught_by_a_stop_are_resumed_or_reconciled_with_the_venue(
    tmp_path: Path, venue: ScriptedVenue
) -> None:
    venue.gate = asyncio.Event()
    config = make_config(tmp_path / "data", max_in_flight_executions=1)
    server = await serve(config, venue=venue)
    desk, channel = await open_desk(server)
    at_venue = await desk.submit()
    await venue.entered.wait()
    queued = await desk.submit()
    await channel.close()
    await server.shutdown(grace=0.1)  # the venue never answers: the execution is cut off

    venue.gate.set()
    server = await serve(config, venue=venue)
    desk, channel = await open_desk(server)
    try:
        # asked at start: the venue never got it (the call was cut off before it arrived)
        interrupted = await desk.settled(at_venue.order_id)
        assert interrupted.status == S.ORDER_STATUS_FAILED
        assert "never arrived" in interrupted.message
        assert venue.status_calls[0] == at_venue.order_id
        assert (await desk.settled(queued.order_id)).status == S.ORDER_STATUS_EXECUTED
    finally:
        await channel.close()
        await server.shutdown(grace=1)


# ---------------------------------------------------------------- live order status


async def test_stream_subscriber_sees_every_transition_of_1000_orders_in_order(desk: Desk) -> None:
    stream = desk.orders.StreamOrderUpdates(order_pb2.StreamOrderUpdatesRequest(), metadata=desk.md())
    first = await stream.read()
    assert first.WhichOneof("kind") == "caught_up"

    semaphore = asyncio.Semaphore(32)

    async def one(i: int) -> str:
        async with semaphore:
            return (await desk.submit("STRM", BUY if i % 2 else SELL, 1, "10")).order_id

    ids = set(await asyncio.gather(*(one(i) for i in range(1000))))
    history: dict[str, list[int]] = {i: [] for i in ids}
    last_sequence = 0
    finished = 0
    while finished < len(ids):
        item = await asyncio.wait_for(stream.read(), 30)
        if item.WhichOneof("kind") != "update":
            continue
        update = item.update
        assert update.sequence > last_sequence  # in commit order
        last_sequence = update.sequence
        history[update.order.order_id].append(update.order.status)
        if update.order.status == S.ORDER_STATUS_PENDING:
            assert update.order.message == "received"  # this moment's words, not the order's latest
        if update.order.status == S.ORDER_STATUS_EXECUTED:
            finished += 1
    stream.cancel()

    expected = [
        S.ORDER_STATUS_PENDING,
        S.ORDER_STATUS_RISK_CHECK,
        S.ORDER_STATUS_APPROVED,
        S.ORDER_STATUS_EXECUTING,
        S.ORDER_STATUS_WORKING,  # acknowledged by the venue
        S.ORDER_STATUS_EXECUTED,
    ]
    assert all(statuses == expected for statuses in history.values())


async def test_stream_starts_with_open_orders_and_resumes_from_a_sequence(desk: Desk, venue: ScriptedVenue) -> None:
    venue.gate = asyncio.Event()
    held = await desk.submit()
    await venue.entered.wait()

    stream = desk.orders.StreamOrderUpdates(order_pb2.StreamOrderUpdatesRequest(), metadata=desk.md())
    snapshot = await stream.read()
    assert snapshot.update.snapshot
    assert snapshot.update.order.order_id == held.order_id
    assert snapshot.update.order.status == S.ORDER_STATUS_EXECUTING
    assert (await stream.read()).WhichOneof("kind") == "caught_up"
    venue.gate.set()
    accepted = await stream.read()
    assert accepted.update.order.status == S.ORDER_STATUS_WORKING
    executed = await stream.read()
    assert executed.update.order.status == S.ORDER_STATUS_EXECUTED
    assert not executed.update.snapshot
    stream.cancel()

    # a terminal that reconnects from the snapshot's sequence misses nothing
    resumed = desk.orders.StreamOrderUpdates(
        order_pb2.StreamOrderUpdatesRequest(from_sequence=snapshot.update.sequence), metadata=desk.md()
    )
    again = [await resumed.read(), await resumed.read()]
    assert [u.update.sequence for u in again] == [accepted.update.sequence, executed.update.sequence]
    assert again[-1].update.order.status == S.ORDER_STATUS_EXECUTED
    resumed.cancel()


async def test_stream_of_one_order_and_of_someone_elses(desk: Desk) -> None:
    reply = await desk.submit()
    await desk.settled(reply.order_id)
    one = desk.orders.StreamOrderUpdates(
        order_pb2.StreamOrderUpdatesRequest(order_id=reply.order_id), metadata=desk.md()
    )
    item = await one.read()
    assert item.update.snapshot
    assert item.update.order.status == S.ORDER_STATUS_EXECUTED
    one.cancel()
    other = desk.orders.StreamOrderUpdates(order_pb2.StreamOrderUpdatesRequest(order_id="nope"), metadata=desk.md())
    error = await rejected(other.read())
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_daily_volume_resets_at_midnight_utc_as_an_event(tmp_path: Path) -> None:
    now = [1_795_305_599.0]  # 2026-11-21 23:59:59 UTC
    server = await serve(make_config(tmp_path / "data"), clock=lambda: now[0])
    desk, channel = await open_desk(server)
    try:
        await desk.settled((await desk.submit("DAY", BUY, 10, "100")).order_id)
        metrics = (await desk.risk.GetRiskMetrics(risk_pb2.GetRiskMetricsRequest(), metadata=desk.md())).metrics
        assert (metrics.trading_day, metrics.daily_volume) == ("2026-11-21", "1000.00")

        now[0] += 2  # past midnight
        await desk.settled((await desk.submit("DAY", BUY, 1, "100")).order_id)

        metrics = (await desk.risk.GetRiskMetrics(risk_pb2.GetRiskMetricsRequest(), metadata=desk.md())).metrics
        assert (metrics.trading_day, metrics.daily_volume) == ("2026-11-22", "100.00")
        resets = await desk.audit.ListEvents(
            audit_pb2.ListEventsRequest(filter=audit_pb2.EventFilter(event_types=[E.EVENT_TYPE_DAILY_VOLUME_RESET])),
            metadata=desk.md("compliance1"),
        )
        (reset,) = resets.events
        assert reset.daily_volume_reset.previous_trading_day == "2026-11-21"
        assert reset.daily_volume_reset.previous_volume == "1000.00"
    finally:
        await channel.close()
        await server.shutdown(grace=1)
