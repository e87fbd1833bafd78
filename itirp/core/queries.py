"""Read-only answers about the trading state, for the servicers, market data and metrics. The
rule of who sees which order is `Viewer.may_see`, applied here and nowhere else."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from itirp.core.state import TradingState, check_exists, not_entitled
from itirp.domain.accounts import FIRM, Level, Scope
from itirp.domain.breaker import BreakerState
from itirp.domain.controls import ControlNote, Controls, TradingMode
from itirp.domain.instruments import Instrument, InstrumentStatus, Mark
from itirp.domain.orders import Order, OrderStatus, Side
from itirp.domain.positions import Position
from itirp.domain.risk import NO_LIMITS, InstrumentLimits, RiskEngine, RiskLimits, RiskMetrics
from itirp.domain.viewer import Viewer
from itirp.errors import NotFound, PermissionDenied, Reason

__all__ = ["BreakerView", "KillSwitchView", "LimitsView", "TradingQueries"]


@dataclass(frozen=True, slots=True)
class LimitsView:
    limits: RiskLimits
    updated_us: int
    updated_by: str


@dataclass(frozen=True, slots=True)
class KillSwitchView:
    active: bool
    reason: str
    set_by: str


@dataclass(frozen=True, slots=True)
class BreakerView:
    state: BreakerState
    consecutive_failures: int
    open_until_us: int


class TradingQueries:
    def __init__(self, state: TradingState) -> None:
        self._state = state

    # ------------------------------------------------------------------ orders

    def visible(self, viewer: Viewer, order_id: str) -> Order:
        """The order, if `viewer` may see it: a trader only their own (others are NOT_FOUND)."""
        order = self._state.orders.get(order_id)
        if order is None or not viewer.may_see(order.user_id):
            raise NotFound(f"no order {order_id!r}", reason=Reason.ORDER_NOT_FOUND, metadata={"order_id": order_id})
        return order

    def order(self, order_id: str) -> Order | None:
        """Any order, unchecked: for filters that apply `Viewer.may_see` themselves."""
        return self._state.orders.get(order_id)

    def order_as_of(self, sequence: int, order_id: str) -> Order | None:
        """The order as its event at `sequence` left it, while that moment is kept (recent events);
        None beyond (fold the order's events from the log: `itirp.app.order_history`)."""
        return self._state.order_as_of(sequence, order_id)

    def in_doubt(self) -> list[str]:
        """Orders whose state at the external venue waits for its answer: UNKNOWN, PENDING_CANCEL."""
        counts = self._state.status_counts
        if not counts[OrderStatus.UNKNOWN] and not counts[OrderStatus.PENDING_CANCEL]:
            return []
        doubt = (OrderStatus.UNKNOWN, OrderStatus.PENDING_CANCEL)
        return [o.order_id for o in self._state.order_list if o.status in doubt]

    def watched_orders(self, viewer: Viewer, order_id: str = "") -> Callable[[str], bool]:
        """Which orders' changes a stream shows: the one order asked for (NOT_FOUND now if the
        viewer may not see it), or every order the viewer may see, including orders created later."""
        if order_id:
            self.visible(viewer, order_id)
            return lambda changed_id: changed_id == order_id
        orders = self._state.orders

        def watched(changed_id: str) -> bool:
            order = orders.get(changed_id)
            return order is not None and viewer.may_see(order.user_id)

        return watched

    def _orders_of(self, viewer: Viewer, user_id: str = "") -> Sequence[Order]:
        """In creation order: the viewer's own, or (when they see everyone's) `user_id`'s or all."""
        state = self._state
        if not viewer.sees_all:
            return state.orders_by_user.get(viewer.user_id, [])
        if user_id:
            return state.orders_by_user.get(user_id, [])
        return state.order_list

    def open_orders(self, viewer: Viewer, order_id: str = "") -> list[Order]:
        """The orders a stream starts with: one order (any status), or the viewer's open orders."""
        if order_id:
            return [self.visible(viewer, order_id)]
        return [o for o in self._orders_of(viewer) if not o.status.terminal]

    def list_orders(
        self,
        viewer: Viewer,
        *,
        statuses: frozenset[OrderStatus],
        symbol: str,
        user_id: str,
        before: int | None,
        limit: int,
    ) -> tuple[list[Order], int | None]:
        """Newest first; (page, cursor for the next page or None)."""
        source = self._orders_of(viewer, user_id)
        page: list[Order] = []
        index = len(source) - 1 if before is None else min(before, len(source)) - 1
        while index >= 0:
            order = source[index]
            if (not statuses or order.status in statuses) and (not symbol or order.symbol == symbol):
                if len(page) == limit:
                    return page, index + 1
                page.append(order)
            index -= 1
        return page, None

    def side_of(self, order_id: str) -> Side:
        return self._state.orders[order_id].side

    # ------------------------------------------------------------------ risk

    def limits(self) -> LimitsView:
        state = self._state
        return LimitsView(state.risk.limits, state.limits_updated_us, state.limits_updated_by)

    def kill_switch(self) -> KillSwitchView:
        state = self._state
        return KillSwitchView(state.risk.limits.kill_switch_enabled, state.kill_switch_reason, state.kill_switch_by)

    def metrics(self) -> RiskMetrics:
        return self._state.risk.metrics()

    @property
    def trading_day(self) -> str:
        return self._state.trading_day

    @property
    def realized_pnl(self) -> Decimal:
        return self._state.realized_pnl

    def positions(self, symbol: str = "") -> list[Position]:
        return [p for p in self._state.risk.positions_view() if not symbol or p.symbol == symbol]

    # ------------------------------------------------------------------ risk by level

    def readable(self, viewer: Viewer, username: str, scope: Scope | None) -> Scope:
        """The level whose figures `viewer` asks for: RISK_MANAGER and above any (the firm when
        none is named); a trader their own trader level (the default) or an account they are
        entitled to. PERMISSION_DENIED otherwise; NOT_FOUND for a desk or account that does not exist."""
        if scope is None:
            return FIRM if viewer.sees_all else Scope(Level.TRADER, username)
        check_exists(self._state, scope)
        if viewer.sees_all or scope == Scope(Level.TRADER, username):
            return scope
        if scope.level is Level.ACCOUNT and scope.id in self._state.accounts.entitled(viewer.user_id):
            return scope
        if scope.level is Level.ACCOUNT:
            raise not_entitled(username, scope.id)
        raise PermissionDenied(
            f"a TRADER reads only their own trader level and their accounts, not {scope}",
            reason=Reason.ROLE_REQUIRED,
            metadata={"scope": str(scope), "required_role": "ROLE_RISK_MANAGER", "role": "ROLE_TRADER"},
        )

    def scope_metrics(self, scope: Scope) -> RiskMetrics:
        """The level's figures (all zero for a level nothing has been booked to yet); its kill
        switch shows on when the firm's or its own is."""
        engine = self._state.risk.known(scope)
        metrics = (engine or RiskEngine(NO_LIMITS)).metrics()
        on = self.kill_switch().active or scope in self._state.controls.kill_switches
        return dataclasses.replace(metrics, kill_switch_active=on)

    def scope_positions(self, scope: Scope, symbol: str = "") -> list[Position]:
        engine = self._state.risk.known(scope)
        if engine is None:
            return []
        return [p for p in engine.positions_view() if not symbol or p.symbol == symbol]

    def scope_limits(self, scope: Scope, symbol: str = "") -> tuple[RiskLimits | InstrumentLimits, ControlNote | None]:
        """The limits set at a level (or an instrument's overrides at it), and who set them last."""
        check_exists(self._state, scope)
        engine = self._state.risk.known(scope)
        note = self._state.limits_notes.get((scope, symbol))
        if symbol:
            return (engine.instrument_limits.get(symbol) if engine else None) or InstrumentLimits(), note
        return (engine.limits if engine else NO_LIMITS), note

    def trading_mode(self, scope: Scope) -> TradingMode:
        return self._state.controls.mode(scope)

    @property
    def controls(self) -> Controls:
        """The controls in force (read them; change them only by commands)."""
        return self._state.controls

    def limits_set(self) -> list[tuple[Scope, str, RiskLimits | InstrumentLimits, ControlNote | None]]:
        """Every level's limits and instrument overrides that were ever set, the firm's first."""
        state = self._state
        found: list[tuple[Scope, str, RiskLimits | InstrumentLimits, ControlNote | None]] = [
            (FIRM, "", state.risk.limits, state.limits_notes.get((FIRM, "")))
        ]
        for scope, symbol in sorted(state.limits_notes, key=lambda k: (str(k[0]), k[1])):
            if scope == FIRM and not symbol:
                continue
            engine = state.risk.engines[scope]
            limits = engine.instrument_limits.get(symbol) if symbol else engine.limits
            if limits is not None:
                found.append((scope, symbol, limits, state.limits_notes[(scope, symbol)]))
        return found

    # ------------------------------------------------------------------ reference data

    def instruments(self, status: InstrumentStatus | None = None) -> list[Instrument]:
        """By symbol; only those in `status` when given."""
        listed = self._state.instruments
        return [listed[s] for s in sorted(listed) if status is None or listed[s].status is status]

    def instrument(self, symbol: str) -> Instrument:
        instrument = self._state.instruments.get(symbol)
        if instrument is None:
            raise NotFound(
                f"no instrument {symbol!r} is listed", reason=Reason.INSTRUMENT_NOT_FOUND, metadata={"symbol": symbol}
            )
        return instrument

    def reference(self, symbol: str) -> Mark | None:
        """The reference price risk uses for `symbol`: the last recorded mark, else the listing price."""
        return self._state.reference(symbol)

    # ------------------------------------------------------------------ the system

    @property
    def last_applied(self) -> int:
        """The sequence of the last event behind the state (maybe not yet durable)."""
        return self._state.last_applied

    @property
    def total_orders(self) -> int:
        return len(self._state.order_list)

    def status_counts(self) -> Mapping[OrderStatus, int]:
        return self._state.status_counts

    def breaker(self) -> BreakerView:
        b = self._state.breaker
        return BreakerView(b.state, b.consecutive_failures, b.open_until_us)
