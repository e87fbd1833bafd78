"""The trading application service: the async shell around the synchronous core.

It validates requests, runs one core command (no await inside it), waits for the command's events
to be durable, starts execution after the reply, rolls the trading day at midnight UTC, and keeps
the submit latency figures. Servicers call it with plain values; it raises `itirp.errors`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal

from itirp.auth.roles import Role
from itirp.auth.service import Principal
from itirp.core.trading import INTERNAL_VENUE, TradingCore
from itirp.domain.money import parse_amount, parse_price
from itirp.domain.orders import (
    Order,
    OrderStatus,
    OrderType,
    OrderValidationError,
    SelfTradePrevention,
    TimeInForce,
    validate_new_order,
)
from itirp.domain.risk import LIMIT_AMOUNTS, RiskLimits
from itirp.errors import FailedPrecondition, InvalidArgument, NotFound
from itirp.execution.executor import Executor
from itirp.observability.latency import LatencyHistogram
from itirp.observability.logging import emit_many
from itirp.store import StoredEvent

__all__ = ["LIMIT_FIELDS", "TradingService"]

log = logging.getLogger("itirp.orders")

#: The limits UpdateRiskLimits may change (the request has one field for each).
LIMIT_FIELDS = LIMIT_AMOUNTS


class TradingService:
    def __init__(
        self,
        core: TradingCore,
        executor: Executor,
        *,
        durable: Callable[[int], Awaitable[None]],
        clock: Callable[[], float],
        max_quantity: int,
        read_only: bool = False,
    ) -> None:
        self.core = core
        self.executor = executor
        self._durable = durable
        self._clock = clock
        self._max_quantity = max_quantity
        self._read_only = read_only
        self.submit_latency = LatencyHistogram()
        self._day_task: asyncio.Task[None] | None = None

    def _now_us(self) -> int:
        return int(self._clock() * 1_000_000)

    def _writable(self) -> None:
        if self._read_only:
            raise FailedPrecondition("the server is read-only (started for investigation): nothing can be recorded")

    async def settled_state(self) -> None:
        """Read barrier: wait until every event behind the current state is durable (a group commit
        at most; nothing when idle). Reads call it so that no one sees what could still be lost."""
        await self._durable(self.core.last_applied)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """After replay: fail orders a stop caught executing, resume those approved but never sent."""
        if self._read_only:
            return
        approved, executing = self.core.recovery_plan()
        for order_id in executing:
            await self.core.interrupted(order_id, self._now_us())
        if executing:
            log.warning("orders interrupted by the last stop were failed for reconciliation", extra={"orders": executing})
        for order_id in approved:
            if self.core.venue == INTERNAL_VENUE:
                await self.core.accept(order_id, self._now_us())
            else:
                self.executor.execute(order_id)
        self._day_task = asyncio.create_task(self._roll_days(), name="itirp-trading-day")

    async def stop(self, grace: float) -> None:
        if self._day_task is not None:
            self._day_task.cancel()
        await self.executor.drain(grace)

    async def _roll_days(self) -> None:
        while True:
            await asyncio.sleep(30)
            committed = self.core.roll_day(self._now_us())
            if committed is not None:
                await committed

    @staticmethod
    def log_order_events(events: list[StoredEvent]) -> None:
        """Commit listener: one structured log line per order state change, once it is durable
        (queued as one block per committed batch)."""
        emit_many(
            log,
            (
                (
                    ev.event_type,
                    {"order_id": ev.order_id, "correlation_id": ev.correlation_id, "user_id": ev.user_id,
                     "symbol": ev.symbol, "sequence": ev.sequence},
                )
                for ev in events
                if ev.order_id
            ),
        )

    # ------------------------------------------------------------------ orders

    async def submit(
        self,
        principal: Principal,
        *,
        symbol: str,
        side: str,
        quantity: int,
        price: str,
        strategy: str,
        client_order_id: str,
        correlation_id: str,
        causation_id: str,
        order_type: OrderType = OrderType.LIMIT,
        time_in_force: TimeInForce = TimeInForce.GTC,
        stp: SelfTradePrevention = SelfTradePrevention.CANCEL_RESTING,
    ) -> Order:
        started = self._clock()
        self._writable()
        try:
            request = validate_new_order(
                symbol=symbol,
                side=side,
                quantity=quantity,
                price=price,
                strategy=strategy,
                client_order_id=client_order_id,
                max_quantity=self._max_quantity,
                order_type=order_type,
                time_in_force=time_in_force,
                stp=stp,
            )
        except OrderValidationError as exc:
            raise InvalidArgument(exc.field, exc.problem) from None
        order, committed = self.core.submit(
            request,
            user_id=principal.user_id,
            username=principal.username,
            correlation_id=correlation_id,
            causation_id=causation_id,
            now_us=self._now_us(),
        )
        await committed
        if order.status is OrderStatus.APPROVED:
            self.executor.execute(order.order_id)
        self.submit_latency.record(self._clock() - started)
        return order

    def visible(self, principal: Principal, order_id: str) -> Order:
        """The order, if the caller may see it: a trader only their own (others are NOT_FOUND)."""
        order = self.core.orders.get(order_id)
        if order is None or (principal.role < Role.RISK_MANAGER and order.user_id != principal.user_id):
            raise NotFound(f"no order {order_id!r}")
        return order

    def snapshot_orders(self, principal: Principal, order_id: str = "") -> list[Order]:
        """The orders a stream starts with: one order (any status), or the caller's open orders
        (everyone's for RISK_MANAGER and above)."""
        if order_id:
            return [self.visible(principal, order_id)]
        source = self.core.order_list if principal.role >= Role.RISK_MANAGER else self.core.orders_by_user.get(principal.user_id, [])
        return [o for o in source if not o.status.terminal]

    def list_orders(
        self, principal: Principal, *, statuses: frozenset[OrderStatus], symbol: str, user_id: str, before: int | None, limit: int
    ) -> tuple[list[Order], int | None]:
        """Newest first; (page, cursor for the next page or None)."""
        if principal.role < Role.RISK_MANAGER:
            source = self.core.orders_by_user.get(principal.user_id, [])
        elif user_id:
            source = self.core.orders_by_user.get(user_id, [])
        else:
            source = self.core.order_list
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

    async def cancel(self, principal: Principal, order_id: str, *, reason: str, correlation_id: str, causation_id: str) -> Order:
        self._writable()
        self.visible(principal, order_id)
        order, committed = self.core.cancel(
            order_id,
            actor_id=principal.user_id,
            reason=reason,
            correlation_id=correlation_id,
            causation_id=causation_id,
            now_us=self._now_us(),
        )
        await committed
        return order

    async def amend(
        self,
        principal: Principal,
        order_id: str,
        *,
        quantity: int,
        price: str,
        correlation_id: str,
        causation_id: str,
    ) -> tuple[Order, bool]:
        """(the amended order, whether it kept its place in the queue)."""
        self._writable()
        if quantity < 0:
            raise InvalidArgument("quantity", "must be a positive whole number (0 keeps the quantity)")
        if quantity >= self._max_quantity:
            raise InvalidArgument("quantity", f"must be below {self._max_quantity:,}")
        try:
            new_price = parse_price(price) if price else None
        except ValueError as exc:
            raise InvalidArgument("price", str(exc)) from None
        if not quantity and new_price is None:
            raise InvalidArgument("amend", "give a new quantity, a new price or both")
        self.visible(principal, order_id)
        order, priority_kept, committed = self.core.amend(
            order_id,
            quantity=quantity,
            price=new_price,
            actor_id=principal.user_id,
            correlation_id=correlation_id,
            causation_id=causation_id,
            now_us=self._now_us(),
        )
        await committed
        return order, priority_kept

    # ------------------------------------------------------------------ risk control

    async def update_limits(
        self, principal: Principal, values: dict[str, str], *, reason: str, correlation_id: str, causation_id: str
    ) -> tuple[RiskLimits, RiskLimits]:
        self._writable()
        changes: dict[str, Decimal] = {}
        for name in LIMIT_FIELDS:
            text = values.get(name, "")
            if text:
                try:
                    changes[name] = parse_amount(text)
                except ValueError as exc:
                    raise InvalidArgument(name, str(exc)) from None
        if not changes:
            raise InvalidArgument("limits", f"give at least one of {', '.join(LIMIT_FIELDS)}")
        old, new, committed = self.core.update_limits(
            changes,
            actor_id=principal.user_id,
            updated_by=principal.username,
            reason=reason,
            correlation_id=correlation_id,
            causation_id=causation_id,
            now_us=self._now_us(),
        )
        await committed
        return old, new

    async def set_kill_switch(
        self, principal: Principal, enabled: bool, *, reason: str, correlation_id: str, causation_id: str
    ) -> bool:
        """Returns whether the switch changed."""
        self._writable()
        if not reason.strip():
            raise InvalidArgument("reason", "required: it is recorded in the audit log")
        committed = self.core.set_kill_switch(
            enabled,
            actor_id=principal.user_id,
            username=principal.username,
            reason=reason.strip(),
            correlation_id=correlation_id,
            causation_id=causation_id,
            now_us=self._now_us(),
        )
        if committed is None:
            return False
        await committed
        return True
