"""itirp.v1.RiskService. Positions and metrics carry the reference prices (marks) they are valued
at, from `TradingQueries.reference`."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import grpc

from itirp.app.trading import TradingService
from itirp.auth.roles import Role
from itirp.core.commands import SetKillSwitch, UpdateRiskLimits
from itirp.core.protos import mark_proto
from itirp.core.queries import TradingQueries
from itirp.domain.money import format_money
from itirp.domain.risk import LIMIT_AMOUNTS
from itirp.domain.viewer import Viewer
from itirp.server.servicers.convert import current_actor, timestamp_from_seconds
from itirp.server.servicers.orders_convert import limits_to_proto, metrics_to_proto
from itirp.v1 import common_pb2, risk_pb2, risk_pb2_grpc

__all__ = ["RiskServicer"]

#: Risk is firm-wide: the symbols worked are those of everyone's open orders.
_FIRM = Viewer("", Role.ADMIN)


def _marks(queries: TradingQueries) -> list[common_pb2.Mark]:
    """The reference price of every symbol held or worked, by symbol."""
    held = {p.symbol for p in queries.positions() if p.quantity}
    worked = {o.symbol for o in queries.open_orders(_FIRM)}
    marks = (queries.reference(symbol) for symbol in sorted(held | worked))
    return [mark_proto(m) for m in marks if m is not None]


def _mark_of(queries: TradingQueries, symbol: str) -> common_pb2.Mark | None:
    mark = queries.reference(symbol)
    return mark_proto(mark) if mark is not None else None


class RiskServicer(risk_pb2_grpc.RiskServiceServicer):
    def __init__(self, trading: TradingService, *, clock: Callable[[], float]) -> None:
        self._trading = trading
        self._queries = trading.queries
        self._clock = clock

    async def GetRiskMetrics(
        self, request: risk_pb2.GetRiskMetricsRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.GetRiskMetricsResponse:
        await self._trading.settled_state()
        return risk_pb2.GetRiskMetricsResponse(metrics=self._metrics())

    def _metrics(self) -> risk_pb2.RiskMetrics:
        q = self._queries
        metrics = metrics_to_proto(q.metrics(), q.trading_day, int(self._clock() * 1_000_000))
        metrics.marks.extend(_marks(q))
        return metrics

    async def GetRiskLimits(
        self, request: risk_pb2.GetRiskLimitsRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.GetRiskLimitsResponse:
        await self._trading.settled_state()
        return risk_pb2.GetRiskLimitsResponse(limits=limits_to_proto(self._queries.limits()))

    async def UpdateRiskLimits(
        self, request: risk_pb2.UpdateRiskLimitsRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.UpdateRiskLimitsResponse:
        previous = limits_to_proto(self._queries.limits())
        amounts = {name: getattr(request, name) for name in LIMIT_AMOUNTS}
        await self._trading.update_limits(
            UpdateRiskLimits(actor=current_actor(), amounts=amounts, reason=request.reason)
        )
        return risk_pb2.UpdateRiskLimitsResponse(
            limits=limits_to_proto(self._queries.limits()), previous_limits=previous
        )

    async def SetKillSwitch(
        self, request: risk_pb2.SetKillSwitchRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.SetKillSwitchResponse:
        command = SetKillSwitch(actor=current_actor(), enabled=request.enabled, reason=request.reason)
        changed = await self._trading.set_kill_switch(command)
        switch = self._queries.kill_switch()
        return risk_pb2.SetKillSwitchResponse(
            kill_switch_active=switch.active,
            changed=changed,
            reason=switch.reason,
            set_by=switch.set_by,
            timestamp=timestamp_from_seconds(self._clock()),
        )

    async def ListPositions(
        self, request: risk_pb2.ListPositionsRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.ListPositionsResponse:
        await self._trading.settled_state()
        positions = self._queries.positions(request.symbol)
        realized = sum((p.realized_pnl for p in positions), start=Decimal(0))
        unrealized = sum((p.unrealized_pnl for p in positions), start=Decimal(0))
        return risk_pb2.ListPositionsResponse(
            positions=[
                risk_pb2.Position(
                    symbol=p.symbol,
                    quantity=p.quantity,
                    average_price=format_money(p.average_price),
                    last_price=format_money(p.last_price) if p.last_price is not None else "",
                    market_value=format_money(p.market_value),
                    realized_pnl=format_money(p.realized_pnl),
                    unrealized_pnl=format_money(p.unrealized_pnl),
                    mark=_mark_of(self._queries, p.symbol),
                )
                for p in positions
            ],
            total_realized_pnl=format_money(realized),
            total_unrealized_pnl=format_money(unrealized),
        )
