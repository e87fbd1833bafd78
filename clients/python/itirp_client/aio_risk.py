"""The risk calls of the asyncio client (limits, controls, metrics and positions at every level):
`AsyncClient` inherits them. A scope is written "LEVEL:ID" ("ACCOUNT:EQ-PROP", "DESK:EQ",
"TRADER:trader1", "INSTRUMENT:AAPL"); "" or "FIRM" is the firm."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from itirp.v1 import common_pb2, order_pb2, risk_pb2, risk_pb2_grpc

__all__ = ["RiskCalls", "risk_scope"]

T = TypeVar("T")


class _Client(Protocol):
    _risk: risk_pb2_grpc.RiskServiceStub

    async def _call(self, rpc: Callable[..., Awaitable[T]], request: Any) -> T: ...


def risk_scope(text: str) -> common_pb2.RiskScope:
    """ "" or "FIRM": the firm (unset); else "LEVEL:ID"."""
    if not text or text.upper() == "FIRM":
        return common_pb2.RiskScope()
    level, sep, id_ = text.partition(":")
    if not sep or not id_:
        raise ValueError(f"a scope is LEVEL:ID, e.g. ACCOUNT:EQ-PROP (got {text!r})")
    return common_pb2.RiskScope(level=f"SCOPE_LEVEL_{level.upper()}", id=id_)


class RiskCalls:
    async def risk_metrics(self: _Client, scope: str = "") -> risk_pb2.RiskMetrics:
        """The figures of a level: "" (the firm for a risk manager, your own for a trader),
        "FIRM", "DESK:EQ", "ACCOUNT:EQ-PROP", "TRADER:trader1"."""
        request = risk_pb2.GetRiskMetricsRequest(scope=risk_scope(scope))
        reply: risk_pb2.GetRiskMetricsResponse = await self._call(self._risk.GetRiskMetrics, request)
        return reply.metrics

    async def risk_limits(self: _Client, scope: str = "", symbol: str = "") -> risk_pb2.RiskLimits:
        request = risk_pb2.GetRiskLimitsRequest(scope=risk_scope(scope), symbol=symbol)
        reply: risk_pb2.GetRiskLimitsResponse = await self._call(self._risk.GetRiskLimits, request)
        return reply.limits

    async def update_risk_limits(
        self: _Client,
        *,
        reason: str = "",
        scope: str = "",
        symbol: str = "",
        clear: Iterable[str] = (),
        **limits: str | Decimal,
    ) -> risk_pb2.UpdateRiskLimitsResponse:
        request = risk_pb2.UpdateRiskLimitsRequest(reason=reason, scope=risk_scope(scope), symbol=symbol, clear=clear)
        for name, value in limits.items():
            setattr(request, name, str(value))
        return await self._call(self._risk.UpdateRiskLimits, request)

    async def set_kill_switch(
        self: _Client, enabled: bool, reason: str, *, scope: str = "", cancel_working: bool = False
    ) -> risk_pb2.SetKillSwitchResponse:
        request = risk_pb2.SetKillSwitchRequest(
            enabled=enabled, reason=reason, scope=risk_scope(scope), cancel_working=cancel_working
        )
        return await self._call(self._risk.SetKillSwitch, request)

    async def positions(self: _Client, symbol: str = "", scope: str = "") -> risk_pb2.ListPositionsResponse:
        request = risk_pb2.ListPositionsRequest(symbol=symbol, scope=risk_scope(scope))
        return await self._call(self._risk.ListPositions, request)

    async def set_trading_state(self: _Client, scope: str, state: str, reason: str) -> risk_pb2.SetTradingStateResponse:
        """`state`: "ACTIVE", "REDUCING" or "HALTED"."""
        request = risk_pb2.SetTradingStateRequest(
            scope=risk_scope(scope), state=f"TRADING_STATE_{state}", reason=reason
        )
        return await self._call(self._risk.SetTradingState, request)

    async def set_restriction(
        self: _Client, symbol: str, restriction: str, reason: str, *, scope: str = ""
    ) -> risk_pb2.SetRestrictionResponse:
        """`restriction`: "NONE", "NO_TRADING" or "SELL_ONLY"; `scope`: "" (the firm) or "ACCOUNT:ID"."""
        request = risk_pb2.SetRestrictionRequest(
            scope=risk_scope(scope),
            symbol=symbol,
            restriction=f"RESTRICTION_{restriction}",
            reason=reason,
        )
        return await self._call(self._risk.SetRestriction, request)

    async def list_controls(self: _Client) -> risk_pb2.ListControlsResponse:
        return await self._call(self._risk.ListControls, risk_pb2.ListControlsRequest())

    async def release_order(self: _Client, order_id: str, reason: str) -> order_pb2.Order:
        reply: risk_pb2.ReleaseOrderResponse = await self._call(
            self._risk.ReleaseOrder, risk_pb2.ReleaseOrderRequest(order_id=order_id, reason=reason)
        )
        return reply.order
