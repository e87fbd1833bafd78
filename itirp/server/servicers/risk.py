"""itirp.v1.RiskService: limits, controls, metrics and positions at every level (firm, desk,
account, trader). Positions and metrics carry the reference prices (marks) they are valued at,
from `TradingQueries.reference`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import grpc

from itirp.app.trading import TradingService
from itirp.auth.roles import Role
from itirp.core.commands import ReleaseOrder, SetKillSwitch, SetRestriction, SetTradingState, UpdateRiskLimits
from itirp.core.protos import (
    RESTRICTION_FROM_PROTO,
    RESTRICTION_PROTO,
    TRADING_MODE_PROTO,
    limits_proto,
    mark_proto,
    scope_from_proto,
    scope_proto,
)
from itirp.core.queries import TradingQueries
from itirp.domain.accounts import FIRM, Level, Scope
from itirp.domain.controls import ControlNote, Restriction, TradingMode
from itirp.domain.money import format_money
from itirp.domain.positions import Position
from itirp.domain.risk import LIMIT_AMOUNTS
from itirp.domain.viewer import Viewer
from itirp.errors import InvalidArgument, NotFound
from itirp.events import timestamp_from_us
from itirp.server.servicers.convert import current_actor, timestamp_from_seconds
from itirp.server.servicers.orders_convert import metrics_to_proto, order_to_proto
from itirp.v1 import common_pb2, risk_pb2, risk_pb2_grpc

__all__ = ["RiskServicer"]

#: Metrics name the symbols worked in a scope from everyone's open orders.
_EVERYONE = Viewer("", Role.ADMIN)
_MODES = {
    common_pb2.TRADING_STATE_ACTIVE: TradingMode.ACTIVE,
    common_pb2.TRADING_STATE_REDUCING: TradingMode.REDUCING,
    common_pb2.TRADING_STATE_HALTED: TradingMode.HALTED,
}


def _marks(queries: TradingQueries, symbols: set[str]) -> list[common_pb2.Mark]:
    """The reference price of every symbol given, by symbol."""
    marks = (queries.reference(symbol) for symbol in sorted(symbols))
    return [mark_proto(m) for m in marks if m is not None]


def _scope(message: common_pb2.RiskScope) -> Scope | None:
    """The scope asked for; None when the request names none."""
    if message.level == common_pb2.SCOPE_LEVEL_UNSPECIFIED and not message.id:
        return None
    return scope_from_proto(message)


def _position(queries: TradingQueries, p: Position) -> risk_pb2.Position:
    mark = queries.reference(p.symbol)
    return risk_pb2.Position(
        symbol=p.symbol,
        quantity=p.quantity,
        average_price=format_money(p.average_price),
        last_price=format_money(p.last_price) if p.last_price is not None else "",
        market_value=format_money(p.market_value),
        realized_pnl=format_money(p.realized_pnl),
        unrealized_pnl=format_money(p.unrealized_pnl),
        mark=mark_proto(mark) if mark is not None else None,
    )


def _noted(scope: Scope, note: ControlNote) -> dict[str, object]:
    return {
        "scope": scope_proto(scope),
        "reason": note.reason,
        "set_by": note.set_by or note.control,
        "set_at": timestamp_from_us(note.set_us),
    }


class RiskServicer(risk_pb2_grpc.RiskServiceServicer):
    def __init__(
        self,
        trading: TradingService,
        *,
        clock: Callable[[], float],
        users: Callable[[str], Awaitable[object | None]] | None = None,
    ) -> None:
        self._trading = trading
        self._queries = trading.queries
        self._clock = clock
        #: The user of a name, or None (a trader scope a control is set on must name a user).
        self._users = users

    async def _control_scope(self, message: common_pb2.RiskScope) -> Scope:
        """The scope a control or limit is set on (unset: the firm). A trader scope must name a
        user: a kill switch on a misspelt name would guard nobody (NOT_FOUND)."""
        scope = _scope(message) or FIRM
        if scope.level is Level.TRADER and self._users is not None and await self._users(scope.id) is None:
            raise NotFound(f"no user {scope.id!r}: a trader scope names a user (see itirp users list)")
        return scope

    def _readable(self, message: common_pb2.RiskScope) -> Scope:
        actor = current_actor()
        return self._queries.readable(actor.viewer, actor.username, _scope(message))

    async def GetRiskMetrics(
        self, request: risk_pb2.GetRiskMetricsRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.GetRiskMetricsResponse:
        await self._trading.settled_state()
        scope = self._readable(request.scope)
        q = self._queries
        now_us = int(self._clock() * 1_000_000)
        metrics = metrics_to_proto(q.scope_metrics(scope), q.trading_day, now_us, scope, q.trading_mode(scope))
        held = {p.symbol for p in q.scope_positions(scope) if p.quantity}
        worked = {o.symbol for o in q.open_orders(_EVERYONE) if scope.covers(o.desk, o.account, o.username, o.symbol)}
        metrics.marks.extend(_marks(q, held | worked))
        return risk_pb2.GetRiskMetricsResponse(metrics=metrics)

    async def GetRiskLimits(
        self, request: risk_pb2.GetRiskLimitsRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.GetRiskLimitsResponse:
        await self._trading.settled_state()
        scope = _scope(request.scope) or FIRM
        limits, note = self._queries.scope_limits(scope, request.symbol)
        updated_us, updated_by = (note.set_us, note.set_by) if note else (0, "")
        if scope == FIRM and not request.symbol:
            view = self._queries.limits()
            updated_us, updated_by = view.updated_us, view.updated_by
        proto = limits_proto(limits, updated_us, updated_by, scope=scope, symbol=request.symbol)
        proto.kill_switch_enabled = scope in self._queries.controls.kill_switches or (
            scope == FIRM and self._queries.kill_switch().active
        )
        return risk_pb2.GetRiskLimitsResponse(limits=proto)

    async def UpdateRiskLimits(
        self, request: risk_pb2.UpdateRiskLimitsRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.UpdateRiskLimitsResponse:
        scope = await self._control_scope(request.scope)
        unknown = [name for name in request.clear if name not in LIMIT_AMOUNTS]
        if unknown:
            raise InvalidArgument("clear", f"{unknown[0]!r} is not a limit (one of {', '.join(LIMIT_AMOUNTS)})")
        amounts = {name: getattr(request, name) for name in LIMIT_AMOUNTS}
        command = UpdateRiskLimits(
            actor=current_actor(),
            amounts=amounts,
            reason=request.reason,
            scope=scope,
            symbol=request.symbol,
            clear=tuple(request.clear),
        )
        previous = (
            await self.GetRiskLimits(risk_pb2.GetRiskLimitsRequest(scope=request.scope, symbol=request.symbol), context)
        ).limits
        await self._trading.update_limits(command)
        current = await self.GetRiskLimits(
            risk_pb2.GetRiskLimitsRequest(scope=request.scope, symbol=request.symbol), context
        )
        return risk_pb2.UpdateRiskLimitsResponse(limits=current.limits, previous_limits=previous)

    async def SetKillSwitch(
        self, request: risk_pb2.SetKillSwitchRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.SetKillSwitchResponse:
        scope = await self._control_scope(request.scope)
        command = SetKillSwitch(
            actor=current_actor(),
            enabled=request.enabled,
            reason=request.reason,
            scope=scope,
            cancel_working=request.cancel_working,
        )
        changed, cancelled = await self._trading.set_kill_switch(command)
        note = self._queries.controls.kill_switches.get(scope)
        if scope == FIRM:
            switch = self._queries.kill_switch()
            active, reason, set_by = switch.active, switch.reason, switch.set_by
        else:
            active = note is not None
            reason, set_by = (note.reason, note.set_by) if note else (request.reason.strip(), current_actor().username)
        return risk_pb2.SetKillSwitchResponse(
            kill_switch_active=active,
            changed=changed,
            reason=reason,
            set_by=set_by,
            timestamp=timestamp_from_seconds(self._clock()),
            scope=scope_proto(scope),
            cancelled_order_ids=cancelled,
        )

    async def ListPositions(
        self, request: risk_pb2.ListPositionsRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.ListPositionsResponse:
        await self._trading.settled_state()
        scope = self._readable(request.scope)
        positions = self._queries.scope_positions(scope, request.symbol)
        realized = sum((p.realized_pnl for p in positions), start=Decimal(0))
        unrealized = sum((p.unrealized_pnl for p in positions), start=Decimal(0))
        return risk_pb2.ListPositionsResponse(
            positions=[_position(self._queries, p) for p in positions],
            total_realized_pnl=format_money(realized),
            total_unrealized_pnl=format_money(unrealized),
            scope=scope_proto(scope),
        )

    async def SetTradingState(
        self, request: risk_pb2.SetTradingStateRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.SetTradingStateResponse:
        mode = _MODES.get(request.state)
        if mode is None:
            raise InvalidArgument("state", "give ACTIVE, REDUCING or HALTED")
        scope = await self._control_scope(request.scope)
        command = SetTradingState(actor=current_actor(), scope=scope, mode=mode, reason=request.reason)
        before = await self._trading.set_trading_state(command)
        return risk_pb2.SetTradingStateResponse(
            scope=scope_proto(scope),
            state=TRADING_MODE_PROTO[mode],
            previous_state=TRADING_MODE_PROTO[before],
            changed=before is not mode,
        )

    async def SetRestriction(
        self, request: risk_pb2.SetRestrictionRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.SetRestrictionResponse:
        if request.restriction == risk_pb2.RESTRICTION_UNSPECIFIED:
            raise InvalidArgument("restriction", "give NONE, NO_TRADING or SELL_ONLY")
        if not request.symbol:
            raise InvalidArgument("symbol", "required")
        restriction = RESTRICTION_FROM_PROTO.get(request.restriction)
        if restriction is None:
            raise InvalidArgument("restriction", "give NONE, NO_TRADING or SELL_ONLY")
        scope = _scope(request.scope) or FIRM
        command = SetRestriction(
            actor=current_actor(), scope=scope, symbol=request.symbol, restriction=restriction, reason=request.reason
        )
        before = await self._trading.set_restriction(command)
        return risk_pb2.SetRestrictionResponse(
            scope=scope_proto(scope),
            symbol=request.symbol,
            restriction=RESTRICTION_PROTO[restriction],
            previous_restriction=RESTRICTION_PROTO[before],
            changed=before is not restriction,
        )

    async def ListControls(
        self, request: risk_pb2.ListControlsRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.ListControlsResponse:
        await self._trading.settled_state()
        controls = self._queries.controls
        entries: dict[Scope, risk_pb2.ScopeControl] = {}
        for scope, (mode, note) in controls.states.items():
            entries[scope] = risk_pb2.ScopeControl(trading_state=TRADING_MODE_PROTO[mode], **_noted(scope, note))  # type: ignore[arg-type]
        for scope, note in controls.kill_switches.items():
            entry = entries.setdefault(
                scope,
                risk_pb2.ScopeControl(trading_state=TRADING_MODE_PROTO[TradingMode.ACTIVE], **_noted(scope, note)),  # type: ignore[arg-type]
            )
            entry.kill_switch_active = True
        restrictions = [
            risk_pb2.RestrictedInstrument(symbol=symbol, restriction=RESTRICTION_PROTO[r], **_noted(scope, note))  # type: ignore[arg-type]
            for (scope, symbol), (r, note) in sorted(
                controls.restrictions.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])
            )
            if r is not Restriction.NONE
        ]
        limits = [
            limits_proto(limits_, note.set_us if note else 0, note.set_by if note else "", scope=scope, symbol=symbol)
            for scope, symbol, limits_, note in self._queries.limits_set()
        ]
        return risk_pb2.ListControlsResponse(
            controls=[entries[s] for s in sorted(entries, key=str)], restrictions=restrictions, limits=limits
        )

    async def ReleaseOrder(
        self, request: risk_pb2.ReleaseOrderRequest, context: grpc.aio.ServicerContext
    ) -> risk_pb2.ReleaseOrderResponse:
        order = await self._trading.release(
            ReleaseOrder(actor=current_actor(), order_id=request.order_id, reason=request.reason)
        )
        return risk_pb2.ReleaseOrderResponse(order=order_to_proto(order))
