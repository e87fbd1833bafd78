"""itirp.v1.RiskService."""

from __future__ import annotations

from collections.abc import Callable

from decimal import Decimal

import grpc

from itirp.domain.money import format_money
from itirp.observability.context import correlation_id_var, current_principal, request_id_var
from itirp.server.servicers.convert import timestamp_from_seconds
from itirp.server.servicers.orders_convert import limits_to_proto, metrics_to_proto
from itirp.trading import LIMIT_FIELDS, TradingService
from itirp.v1 import risk_pb2, risk_pb2_grpc

__all__ = ["RiskServicer"]


class RiskServicer(risk_pb2_grpc.RiskServiceServicer):
    def __init__(self, trading: TradingService, *, clock: Callable[[], float]) -> None:
        self._trading = trading
        self._core = trading.core
        self._clock = clock

    async def GetRiskMetrics(
        self, request: risk_pb2.GetRiskMetricsRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.GetRiskMetricsResponse:
        await self._trading.settled_state()
        return risk_pb2.GetRiskMetricsResponse(metrics=metrics_to_proto(self._core, int(self._clock() * 1_000_000)))

    async def GetRiskLimits(
        self, request: risk_pb2.GetRiskLimitsRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.GetRiskLimitsResponse:
        await self._trading.settled_state()
        return risk_pb2.GetRiskLimitsResponse(limits=limits_to_proto(self._core))

    async def UpdateRiskLimits(
        self, request: risk_pb2.UpdateRiskLimitsRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.UpdateRiskLimitsResponse:
        previous = limits_to_proto(self._core)
        await self._trading.update_limits(
            current_principal(),
            {name: getattr(request, name) for name in LIMIT_FIELDS},
            reason=request.reason,
            correlation_id=correlation_id_var.get(),
            causation_id=request_id_var.get(),
        )
        return risk_pb2.UpdateRiskLimitsResponse(limits=limits_to_proto(self._core), previous_limits=previous)

    async def SetKillSwitch(
        self, request: risk_pb2.SetKillSwitchRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.SetKillSwitchResponse:
        principal = current_principal()
        changed = await self._trading.set_kill_switch(
            principal,
            request.enabled,
            reason=request.reason,
            correlation_id=correlation_id_var.get(),
            causation_id=request_id_var.get(),
        )
        return risk_pb2.SetKillSwitchResponse(
            kill_switch_active=self._core.risk.limits.kill_switch_enabled,
            changed=changed,
            reason=self._core.kill_switch_reason,
            set_by=self._core.kill_switch_by,
            timestamp=timestamp_from_seconds(self._clock()),
        )

    async def ListPositions(
        self, request: risk_pb2.ListPositionsRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.ListPositionsResponse:
        await self._trading.settled_state()
        positions = [p for p in self._core.risk.positions_view() if not request.symbol or p.symbol == request.symbol]
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
                )
                for p in positions
            ],
            total_realized_pnl=format_money(realized),
            total_unrealized_pnl=format_money(unrealized),
        )


