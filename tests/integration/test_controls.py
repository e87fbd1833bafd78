"""Pre-trade controls at every level, through gRPC: each refusing with the reason a trader reads
(naming its level and limit) beside a normal order that passes. A real server (internal venue, so
orders rest and trade inside the desk), real channels.

The floor: desks EQ and FX; accounts EQ-A and EQ-B (desk EQ) and FX-A (desk FX); trader2 entitled
to EQ-A (default) and EQ-B, trader3 to FX-A. risk1 trades too (entitled to nothing: the house
account), as the other side of the trades.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc_status import rpc_status

from itirp.auth.roles import Role
from itirp.auth.users import UserStore
from itirp.core.accounts import EntitleTrader, UpsertAccount, UpsertDesk
from itirp.core.commands import Actor
from itirp.domain.viewer import Viewer
from itirp.server import RunningServer, serve
from itirp.v1 import audit_pb2, common_pb2, events_pb2, order_pb2, reference_data_pb2, reference_data_pb2_grpc, risk_pb2
from tests.conftest import login, make_config
from tests.integration.test_error_details import error_info
from tests.integration.test_trading import BUY, SELL, Desk, open_desk, rejected

S = common_pb2
REJECTED = S.ORDER_STATUS_REJECTED
ACCOUNT, DESK, TRADER, INSTRUMENT = (
    S.SCOPE_LEVEL_ACCOUNT,
    S.SCOPE_LEVEL_DESK,
    S.SCOPE_LEVEL_TRADER,
    S.SCOPE_LEVEL_INSTRUMENT,
)
ADMIN = Actor(viewer=Viewer("admin-id", Role.ADMIN), username="admin", correlation_id="floor")


def scope(level: int, id_: str) -> common_pb2.RiskScope:
    return common_pb2.RiskScope(level=level, id=id_)  # type: ignore[arg-type]


async def build_floor(server: RunningServer, user_ids: dict[str, str]) -> None:
    """The desks, accounts and entitlements, recorded as events through the core's commands."""
    core = server.trading.core
    run = server.trading.run

    def step(command: object) -> object:
        def go(now_us: int) -> tuple[None, object]:
            if isinstance(command, UpsertDesk):
                return None, core.accounts.upsert_desk(command, now_us)[2]
            if isinstance(command, UpsertAccount):
                return None, core.accounts.upsert_account(command, now_us)[2]
            assert isinstance(command, EntitleTrader)
            return None, core.accounts.entitle(command, now_us)[2]

        return go

    for desk in ("EQ", "FX"):
        await run(step(UpsertDesk(actor=ADMIN, desk_id=desk, name=desk, reason="the floor")))  # type: ignore[arg-type]
    for account, desk in (("EQ-A", "EQ"), ("EQ-B", "EQ"), ("FX-A", "FX")):
        command = UpsertAccount(
            actor=ADMIN, account_id=account, desk_id=desk, name=account, kind=None, reason="the floor"
        )
        await run(step(command))  # type: ignore[arg-type]
    for trader, accounts in (("trader2", ("EQ-A", "EQ-B")), ("trader3", ("FX-A",))):
        command = EntitleTrader(
            actor=ADMIN,
            user_id=user_ids[trader],
            username=trader,
            accounts=accounts,
            default_account=accounts[0],
            reason="the floor",
        )
        await run(step(command))  # type: ignore[arg-type]


async def floor_desk(data: Path, **overrides: object) -> tuple[Desk, grpc.aio.Channel, RunningServer]:
    users = UserStore(data / "users.db")
    ids = {name: users.add(name, f"{name}-pass", Role.TRADER, scrypt_n=1024).user_id for name in ("trader2", "trader3")}
    users.close()
    server = await serve(make_config(data, venue="internal", access_log=False, **overrides))
    await build_floor(server, ids)
    desk, channel = await open_desk(server)
    for name in ids:
        desk.tokens[name] = (await login(channel, name, f"{name}-pass")).access_token
    return desk, channel, server


@pytest.fixture
async def floor(tmp_path: Path) -> AsyncIterator[Desk]:
    desk, channel, server = await floor_desk(tmp_path / "data")
    try:
        yield desk
    finally:
        await channel.close()
        await server.shutdown(grace=1)


async def set_limits(desk: Desk, where: common_pb2.RiskScope, symbol: str = "", **limits: str) -> None:
    request = risk_pb2.UpdateRiskLimitsRequest(scope=where, symbol=symbol, reason="desk drill", **limits)
    await desk.risk.UpdateRiskLimits(request, metadata=desk.md("risk1"))


def only_violation(reply: order_pb2.SubmitOrderResponse) -> common_pb2.RiskViolation:
    assert reply.status == REJECTED, reply
    assert len(reply.violations) == 1, reply.violations
    (violation,) = reply.violations
    return violation


# ---------------------------------------------------------------- accounts


async def test_an_order_is_booked_to_the_default_or_the_named_account_and_not_to_anyone_elses(floor: Desk) -> None:
    default = await floor.submit("AAPL", BUY, 10, "100", user="trader2")
    named = await floor.submit("AAPL", BUY, 10, "100", user="trader2", account="EQ-B")

    assert (default.order.account, default.order.desk) == ("EQ-A", "EQ")
    assert (named.order.account, named.order.desk) == ("EQ-B", "EQ")
    error = await rejected(floor.submit("AAPL", BUY, 10, "100", user="trader2", account="FX-A"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "trader2 is not entitled to account FX-A" in error.details()
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_info(status)
    assert info.reason == "ACCOUNT_NOT_ENTITLED"
    assert dict(info.metadata) == {"account_id": "FX-A", "username": "trader2"}
    unknown = await rejected(floor.submit("AAPL", BUY, 10, "100", user="trader2", account="NOPE"))
    assert unknown.code() == grpc.StatusCode.NOT_FOUND


async def test_positions_and_metrics_are_kept_per_account_and_roll_up_to_desk_and_firm(floor: Desk) -> None:
    await floor.submit("AAPL", SELL, 30, "100", user="risk1")
    await floor.submit("AAPL", BUY, 10, "100", user="trader2")  # EQ-A
    await floor.submit("AAPL", BUY, 20, "100", user="trader2", account="EQ-B")

    async def held(where: common_pb2.RiskScope | None, user: str = "risk1") -> int:
        request = risk_pb2.ListPositionsRequest(symbol="AAPL", scope=where)
        reply = await floor.risk.ListPositions(request, metadata=floor.md(user))
        return sum(p.quantity for p in reply.positions)

    assert await held(scope(ACCOUNT, "EQ-A")) == 10
    assert await held(scope(ACCOUNT, "EQ-B")) == 20
    assert await held(scope(DESK, "EQ")) == 30
    assert await held(scope(ACCOUNT, "HOUSE")) == -30
    assert await held(None) == 0  # the firm: the two sides net out
    assert await held(scope(ACCOUNT, "EQ-B"), user="trader2") == 20  # a trader reads their accounts
    error = await rejected(held(scope(ACCOUNT, "FX-A"), user="trader2"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    metrics = await floor.risk.GetRiskMetrics(
        risk_pb2.GetRiskMetricsRequest(scope=scope(DESK, "EQ")), metadata=floor.md("risk1")
    )
    assert metrics.metrics.gross_exposure == "3000.00"
    assert metrics.metrics.scope.id == "EQ"


# ---------------------------------------------------------------- limits at every level


async def test_a_limit_at_each_level_refuses_by_name_and_a_smaller_order_passes(floor: Desk) -> None:
    await set_limits(floor, scope(ACCOUNT, "EQ-A"), max_position_size="5000")
    await set_limits(floor, scope(DESK, "FX"), max_daily_volume="3000")
    await set_limits(floor, scope(TRADER, "trader2"), max_order_quantity="500")

    account = only_violation(await floor.submit("AAPL", BUY, 60, "100", user="trader2"))
    desk = only_violation(await floor.submit("MSFT", BUY, 40, "100", user="trader3"))
    trader = only_violation(await floor.submit("IBM", BUY, 501, "1", user="trader2", account="EQ-B"))

    assert (account.scope, account.limit_name, account.limit, account.projected) == (
        "ACCOUNT:EQ-A",
        "max_position_size",
        "5000.00",
        "6000.00",
    )
    assert account.message.startswith("ACCOUNT:EQ-A/max_position_size: projected AAPL position 6,000.00 above")
    assert (desk.scope, desk.limit_name, desk.type) == (
        "DESK:FX",
        "max_daily_volume",
        S.VIOLATION_TYPE_DAILY_VOLUME_LIMIT,
    )
    assert (trader.scope, trader.type, trader.limit, trader.projected) == (
        "TRADER:trader2",
        S.VIOLATION_TYPE_ORDER_QUANTITY_LIMIT,
        "500",
        "501",
    )
    assert trader.message == "TRADER:trader2/max_order_quantity: order quantity 501 above max_order_quantity 500"
    # the same orders, small enough, pass; another account of the same desk is not limited by EQ-A's
    assert (await floor.submit("AAPL", BUY, 50, "100", user="trader2")).status != REJECTED
    assert (await floor.submit("AAPL", BUY, 60, "100", user="trader2", account="EQ-B")).status != REJECTED
    assert (await floor.submit("MSFT", BUY, 30, "100", user="trader3")).status != REJECTED
    assert (await floor.submit("IBM", BUY, 500, "1", user="trader2", account="EQ-B")).status != REJECTED


async def test_an_instrument_override_and_the_order_value_and_credit_limits(floor: Desk) -> None:
    await set_limits(floor, scope(ACCOUNT, "EQ-A"), max_order_value="10000")
    await set_limits(floor, scope(ACCOUNT, "EQ-A"), symbol="TSLA", max_order_value="1000")
    await set_limits(floor, scope(ACCOUNT, "FX-A"), credit_limit="2500")

    tsla = only_violation(await floor.submit("TSLA", BUY, 11, "100", user="trader2"))
    aapl_ok = await floor.submit("AAPL", BUY, 11, "100", user="trader2")
    too_big = only_violation(await floor.submit("AAPL", BUY, 101, "100", user="trader2"))
    await floor.submit("MSFT", BUY, 20, "100", user="trader3")
    credit = only_violation(await floor.submit("MSFT", SELL, 6, "100", user="trader3"))

    assert (tsla.scope, tsla.limit_name, tsla.limit) == ("ACCOUNT:EQ-A", "max_order_value", "1000.00")
    assert tsla.message.startswith("ACCOUNT:EQ-A/max_order_value: order value 1,100.00 above max_order_value 1,000.00")
    assert aapl_ok.status != REJECTED
    assert (too_big.limit, too_big.projected) == ("10000.00", "10100.00")
    # a working buy of 20 and a sell of 6: if every buy fills the account holds 2,000, if every sell
    # fills it owes 600 on a short - 2,600 in all, above 2,500
    assert (credit.type, credit.limit_name, credit.projected) == (
        S.VIOLATION_TYPE_CREDIT_LIMIT,
        "credit_limit",
        "2600.00",
    )
    assert (await floor.submit("MSFT", SELL, 5, "100", user="trader3")).status != REJECTED


async def test_limits_need_a_reason_and_each_change_is_an_event_with_who_and_why(floor: Desk) -> None:
    no_reason = risk_pb2.UpdateRiskLimitsRequest(scope=scope(ACCOUNT, "EQ-A"), max_position_size="1")
    error = await rejected(floor.risk.UpdateRiskLimits(no_reason, metadata=floor.md("risk1")))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    await set_limits(floor, scope(ACCOUNT, "EQ-A"), credit_limit="1000")
    unknown = await rejected(floor.risk.UpdateRiskLimits(
        risk_pb2.UpdateRiskLimitsRequest(scope=scope(DESK, "NOPE"), credit_limit="1", reason="x"),
        metadata=floor.md("risk1"),
    ))  # fmt: skip
    assert unknown.code() == grpc.StatusCode.NOT_FOUND

    got = await floor.risk.GetRiskLimits(
        risk_pb2.GetRiskLimitsRequest(scope=scope(ACCOUNT, "EQ-A")), metadata=floor.md("trader2")
    )
    events = await floor.audit.ListEvents(
        audit_pb2.ListEventsRequest(
            filter=audit_pb2.EventFilter(event_types=[events_pb2.EVENT_TYPE_RISK_LIMITS_UPDATED])
        ),
        metadata=floor.md("compliance1"),
    )
    (event,) = events.events
    assert (got.limits.credit_limit, got.limits.max_position_size, got.limits.updated_by) == ("1000.00", "", "risk1")
    update = event.risk_limits_updated
    assert (update.reason, update.new_limits.updated_by, update.new_limits.scope.id) == ("desk drill", "risk1", "EQ-A")
    assert (update.old_limits.credit_limit, update.new_limits.credit_limit) == ("", "1000.00")


# ---------------------------------------------------------------- the controls


async def test_a_scoped_kill_switch_stops_its_scope_only(floor: Desk) -> None:
    on = await floor.risk.SetKillSwitch(
        risk_pb2.SetKillSwitchRequest(enabled=True, reason="runaway algo", scope=scope(TRADER, "trader2")),
        metadata=floor.md("risk1"),
    )
    stopped = only_violation(await floor.submit("AAPL", BUY, 1, "100", user="trader2"))
    other = await floor.submit("AAPL", BUY, 1, "100", user="trader3")
    await floor.risk.SetKillSwitch(
        risk_pb2.SetKillSwitchRequest(enabled=True, reason="bad print", scope=scope(INSTRUMENT, "MSFT")),
        metadata=floor.md("risk1"),
    )
    msft = only_violation(await floor.submit("MSFT", BUY, 1, "100", user="trader3"))

    assert (on.kill_switch_active, on.changed, on.set_by) == (True, True, "risk1")
    assert (stopped.type, stopped.scope) == (S.VIOLATION_TYPE_KILL_SWITCH_ACTIVE, "TRADER:trader2")
    assert other.status != REJECTED
    assert msft.message == "INSTRUMENT:MSFT/kill_switch: kill switch is active: no new orders are accepted"
    controls = await floor.risk.ListControls(risk_pb2.ListControlsRequest(), metadata=floor.md("trader2"))
    assert {(c.scope.id, c.kill_switch_active, c.reason) for c in controls.controls} == {
        ("trader2", True, "runaway algo"),
        ("MSFT", True, "bad print"),
    }


async def test_trading_states_halted_and_reducing(floor: Desk) -> None:
    await floor.submit("AAPL", SELL, 10, "100", user="risk1")
    await floor.submit("AAPL", BUY, 10, "100", user="trader3")  # FX-A holds 10 AAPL

    async def state(where: common_pb2.RiskScope, value: int) -> risk_pb2.SetTradingStateResponse:
        request = risk_pb2.SetTradingStateRequest(scope=where, state=value, reason="desk drill")  # type: ignore[arg-type]
        return await floor.risk.SetTradingState(request, metadata=floor.md("risk1"))

    halted = await state(scope(ACCOUNT, "EQ-A"), S.TRADING_STATE_HALTED)
    reducing = await state(scope(INSTRUMENT, "AAPL"), S.TRADING_STATE_REDUCING)
    stopped = only_violation(await floor.submit("MSFT", BUY, 1, "100", user="trader2"))
    adds = only_violation(await floor.submit("AAPL", BUY, 1, "100", user="trader3"))
    reduces = await floor.submit("AAPL", SELL, 4, "100", user="trader3")
    flips = only_violation(await floor.submit("AAPL", SELL, 7, "100", user="trader3"))  # 4 working + 7 > 10

    assert (halted.changed, halted.previous_state) == (True, S.TRADING_STATE_ACTIVE)
    assert reducing.state == S.TRADING_STATE_REDUCING
    assert (stopped.type, stopped.scope) == (S.VIOLATION_TYPE_TRADING_HALTED, "ACCOUNT:EQ-A")
    assert "trading is HALTED (desk drill)" in stopped.message
    assert (adds.type, adds.scope) == (S.VIOLATION_TYPE_REDUCE_ONLY, "INSTRUMENT:AAPL")
    assert reduces.status != REJECTED
    assert flips.type == S.VIOLATION_TYPE_REDUCE_ONLY
    await state(scope(ACCOUNT, "EQ-A"), S.TRADING_STATE_ACTIVE)
    assert (await floor.submit("MSFT", BUY, 1, "100", user="trader2")).status != REJECTED


async def test_restricted_lists_of_the_firm_and_of_an_account(floor: Desk) -> None:
    async def restrict(where: common_pb2.RiskScope | None, symbol: str, value: int) -> None:
        request = risk_pb2.SetRestrictionRequest(scope=where, symbol=symbol, restriction=value, reason="MNPI")  # type: ignore[arg-type]
        await floor.risk.SetRestriction(request, metadata=floor.md("risk1"))

    await restrict(None, "NVDA", risk_pb2.RESTRICTION_NO_TRADING)
    await restrict(scope(ACCOUNT, "EQ-A"), "IBM", risk_pb2.RESTRICTION_SELL_ONLY)

    firm = only_violation(await floor.submit("NVDA", SELL, 1, "100", user="trader3"))
    buy = only_violation(await floor.submit("IBM", BUY, 1, "100", user="trader2"))
    sell = await floor.submit("IBM", SELL, 1, "100", user="trader2")
    elsewhere = await floor.submit("IBM", BUY, 1, "100", user="trader2", account="EQ-B")

    assert (firm.type, firm.scope, firm.limit_name) == (
        S.VIOLATION_TYPE_RESTRICTED_INSTRUMENT,
        "FIRM",
        "restricted_list",
    )
    assert firm.message == "FIRM/restricted_list: NVDA is on the firm's restricted list (no trading)"
    assert buy.message == "ACCOUNT:EQ-A/restricted_list: IBM is on account EQ-A's restricted list (sells only)"
    assert sell.status != REJECTED
    assert elsewhere.status != REJECTED
    await restrict(None, "NVDA", risk_pb2.RESTRICTION_NONE)
    assert (await floor.submit("NVDA", SELL, 1, "100", user="trader3")).status != REJECTED


async def test_the_daily_loss_limit_moves_the_level_to_reducing(floor: Desk) -> None:
    await set_limits(floor, scope(ACCOUNT, "FX-A"), daily_loss_limit="500")
    await floor.submit("AAPL", SELL, 200, "150", user="risk1")
    await floor.submit("AAPL", BUY, 200, "150", user="trader3")
    await floor.submit("AAPL", BUY, 100, "140", user="risk1")
    await floor.submit("AAPL", SELL, 100, "140", user="trader3")  # realized -1,000; 100 left, valued at 140

    hit = only_violation(await floor.submit("AAPL", BUY, 1, "140", user="trader3"))
    reduces = await floor.submit("AAPL", SELL, 10, "141", user="trader3")
    adds = only_violation(await floor.submit("AAPL", BUY, 1, "140", user="trader3"))

    assert (hit.type, hit.scope, hit.limit, hit.projected) == (
        S.VIOLATION_TYPE_DAILY_LOSS_LIMIT,
        "ACCOUNT:FX-A",
        "500.00",
        "2000.00",
    )
    assert "trading is REDUCING" in hit.message
    assert reduces.status != REJECTED
    assert adds.type == S.VIOLATION_TYPE_REDUCE_ONLY
    events = await floor.audit.ListEvents(
        audit_pb2.ListEventsRequest(
            filter=audit_pb2.EventFilter(event_types=[events_pb2.EVENT_TYPE_TRADING_STATE_CHANGED])
        ),
        metadata=floor.md("compliance1"),
    )
    (changed,) = [e.trading_state_changed for e in events.events]
    assert (changed.scope.id, changed.new_state, changed.control) == (
        "FX-A",
        S.TRADING_STATE_REDUCING,
        "daily_loss_limit",
    )


async def test_a_risk_manager_releases_a_blocked_order_with_a_reason(floor: Desk) -> None:
    await set_limits(floor, scope(ACCOUNT, "EQ-A"), max_order_quantity="100")
    blocked = await floor.submit("AAPL", BUY, 150, "100", user="trader2")
    assert blocked.status == REJECTED

    async def release(order_id: str, reason: str, user: str = "risk1") -> risk_pb2.ReleaseOrderResponse:
        request = risk_pb2.ReleaseOrderRequest(order_id=order_id, reason=reason)
        return await floor.risk.ReleaseOrder(request, metadata=floor.md(user))

    assert (await rejected(release(blocked.order_id, ""))).code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (await rejected(release(blocked.order_id, "mine", "trader2"))).code() == grpc.StatusCode.PERMISSION_DENIED
    released = (await release(blocked.order_id, "client confirmed the size by phone")).order

    assert (released.status, released.released) == (S.ORDER_STATUS_WORKING, True)
    trail = await floor.audit.GetOrderTrail(
        audit_pb2.GetOrderTrailRequest(order_id=blocked.order_id), metadata=floor.md("compliance1")
    )
    release_event = next(e for e in trail.events if e.HasField("order_released"))
    assert release_event.order_released.reason == "client confirmed the size by phone"
    assert release_event.order_released.username == "risk1"
    assert list(release_event.order_released.overridden) == [S.VIOLATION_TYPE_ORDER_QUANTITY_LIMIT]
    again = await rejected(release(blocked.order_id, "twice"))
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION
    # a kill switch is not overridden
    await floor.risk.SetKillSwitch(
        risk_pb2.SetKillSwitchRequest(enabled=True, reason="stop", scope=scope(ACCOUNT, "EQ-A")),
        metadata=floor.md("risk1"),
    )
    killed = await floor.submit("AAPL", BUY, 1, "100", user="trader2")
    refused = await rejected(release(killed.order_id, "please"))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    status = rpc_status.from_call(refused)
    assert status is not None
    assert error_info(status).reason == "ORDER_NOT_RELEASABLE"


async def test_the_duplicate_check_and_the_execution_throttle(tmp_path: Path) -> None:
    desk, channel, server = await floor_desk(
        tmp_path / "data", orders_duplicate_window_ms=60_000, orders_execution_throttle_fills=2,
        orders_execution_throttle_seconds=60,
    )  # fmt: skip
    try:
        first = await desk.submit("AAPL", BUY, 10, "100", user="trader2")
        twice = only_violation(await desk.submit("AAPL", BUY, 10, "100", user="trader2"))
        meant = await desk.submit("AAPL", BUY, 10, "100", user="trader2", intended_duplicate=True)
        other_account = await desk.submit("AAPL", BUY, 10, "100", user="trader2", account="EQ-B")

        assert first.status != REJECTED
        assert (twice.type, twice.scope, twice.limit_name) == (
            S.VIOLATION_TYPE_DUPLICATE_ORDER,
            "ACCOUNT:EQ-A",
            "duplicate_window",
        )
        assert "within the 60000 ms duplicate window; send it with intended_duplicate" in twice.message
        assert meant.status != REJECTED
        assert other_account.status != REJECTED

        for n in range(3):  # three fills of FX-A
            await desk.submit("MSFT", SELL, 1, f"10{n}", user="risk1")
            assert (await desk.submit("MSFT", BUY, 1, f"10{n}", user="trader3")).status == S.ORDER_STATUS_EXECUTED
        throttled = only_violation(await desk.submit("MSFT", BUY, 1, "99", user="trader3"))
        assert (throttled.type, throttled.scope, throttled.limit_name) == (
            S.VIOLATION_TYPE_TRADING_HALTED,
            "ACCOUNT:FX-A",
            "execution_throttle",
        )
        still = only_violation(await desk.submit("MSFT", BUY, 1, "98", user="trader3"))
        assert still.type == S.VIOLATION_TYPE_TRADING_HALTED
        await desk.risk.SetTradingState(
            risk_pb2.SetTradingStateRequest(
                scope=scope(ACCOUNT, "FX-A"), state=S.TRADING_STATE_ACTIVE, reason="checked the algo"
            ),
            metadata=desk.md("risk1"),
        )
        assert (await desk.submit("MSFT", BUY, 1, "97", user="trader3")).status != REJECTED
    finally:
        await channel.close()
        await server.shutdown(grace=1)


async def test_controls_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    desk, channel, server = await floor_desk(data)
    try:
        await set_limits(desk, scope(ACCOUNT, "EQ-A"), max_order_quantity="5")
        await desk.risk.SetRestriction(
            risk_pb2.SetRestrictionRequest(symbol="NVDA", restriction=risk_pb2.RESTRICTION_NO_TRADING, reason="x"),
            metadata=desk.md("risk1"),
        )
    finally:
        await channel.close()
        await server.shutdown(grace=1)
    server = await serve(make_config(data, venue="internal", access_log=False))
    desk, channel = await open_desk(server)
    try:
        desk.tokens["trader2"] = (await login(channel, "trader2", "trader2-pass")).access_token
        qty = only_violation(await desk.submit("AAPL", BUY, 6, "100", user="trader2"))
        nvda = only_violation(await desk.submit("NVDA", BUY, 1, "100", user="trader2"))
        assert (qty.scope, qty.limit_name) == ("ACCOUNT:EQ-A", "max_order_quantity")
        assert nvda.type == S.VIOLATION_TYPE_RESTRICTED_INSTRUMENT
    finally:
        await channel.close()
        await server.shutdown(grace=1)


async def test_a_kill_switch_with_cancel_working_cancels_its_scope_and_nothing_else(floor: Desk) -> None:
    resting_a = await floor.submit("AAPL", BUY, 5, "90", user="trader2")  # EQ-A, rests in the book
    resting_b = await floor.submit("AAPL", BUY, 5, "90", user="trader2", account="EQ-B")
    elsewhere = await floor.submit("AAPL", BUY, 5, "90", user="trader3")  # FX-A

    reply = await floor.risk.SetKillSwitch(
        risk_pb2.SetKillSwitchRequest(
            enabled=True, reason="runaway algo", scope=scope(ACCOUNT, "EQ-A"), cancel_working=True
        ),
        metadata=floor.md("risk1"),
    )

    assert list(reply.cancelled_order_ids) == [resting_a.order_id]
    assert (await floor.get(resting_a.order_id, "risk1")).status == S.ORDER_STATUS_CANCELLED
    assert (await floor.get(resting_b.order_id, "risk1")).status == S.ORDER_STATUS_WORKING
    assert (await floor.get(elsewhere.order_id, "risk1")).status == S.ORDER_STATUS_WORKING
    mass = await floor.audit.ListEvents(
        audit_pb2.ListEventsRequest(
            filter=audit_pb2.EventFilter(event_types=[events_pb2.EVENT_TYPE_MASS_CANCEL_REQUESTED])
        ),
        metadata=floor.md("compliance1"),
    )
    (event,) = mass.events
    assert (event.mass_cancel_requested.trigger, event.mass_cancel_requested.orders) == ("kill_switch", 1)
    assert event.mass_cancel_requested.scope.id == "EQ-A"


async def test_the_price_collar_in_ticks_from_the_reference_price(floor: Desk) -> None:
    listing = common_pb2.Instrument(
        symbol="WIDE", name="collared", currency="USD", tick_size="0.05", price_band_ticks=10, reference_price="100"
    )
    reference = reference_data_pb2_grpc.ReferenceDataServiceStub(floor.channel)
    await reference.UpsertInstrument(
        reference_data_pb2.UpsertInstrumentRequest(instrument=listing, reason="a collar of 10 ticks"),
        metadata=floor.md("risk1"),
    )

    outside = only_violation(await floor.submit("WIDE", BUY, 1, "100.55", user="trader2"))
    edge = await floor.submit("WIDE", BUY, 1, "100.50", user="trader2")

    assert (outside.type, outside.scope, outside.limit_name) == (
        S.VIOLATION_TYPE_PRICE_BAND,
        "INSTRUMENT:WIDE",
        "price_collar",
    )
    assert outside.message == (
        "INSTRUMENT:WIDE/price_collar: limit price 100.55 is more than 10 ticks of 0.05 above the reference"
        " price 100.00: the price band's upper edge is 100.50"
    )
    assert (outside.limit, outside.reference_price) == ("100.50", "100.00")
    assert edge.status != REJECTED
    got = await reference.GetInstrument(
        reference_data_pb2.GetInstrumentRequest(symbol="WIDE"), metadata=floor.md("trader2")
    )
    assert got.instrument.price_band_ticks == 10


async def test_a_control_on_a_trader_who_does_not_exist_is_refused(floor: Desk) -> None:
    typo = risk_pb2.SetKillSwitchRequest(enabled=True, reason="runaway algo", scope=scope(TRADER, "trdaer2"))
    limit = risk_pb2.UpdateRiskLimitsRequest(scope=scope(TRADER, "nobody"), max_order_quantity="1", reason="x")

    error = await rejected(floor.risk.SetKillSwitch(typo, metadata=floor.md("risk1")))
    other = await rejected(floor.risk.UpdateRiskLimits(limit, metadata=floor.md("risk1")))

    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert "no user 'trdaer2'" in str(error.details())
    assert other.code() == grpc.StatusCode.NOT_FOUND
    controls = await floor.risk.ListControls(risk_pb2.ListControlsRequest(), metadata=floor.md("risk1"))
    assert list(controls.controls) == []  # nothing was recorded
