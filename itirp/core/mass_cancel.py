"""Mass cancel: every open order in a scope cancelled in one step, and the one decision of how
an order is cancelled, which a single cancel (`OrderCommands.cancel`) shares.

    command = CancelAll(actor=actor, scope=Scope(Level.DESK, "EQ"), reason="...", trigger="kill_switch")
    cancelled, pending, committed = core.orders.cancel_all(command, now_us)

One append: MASS_CANCEL_REQUESTED (scope, symbol, reason, who, trigger, how many orders), then
for each open order in scope the event a single cancel records, each caused by the
MASS_CANCEL_REQUESTED event (`causation_id` is its event id): ORDER_CANCELLED at once for an order
that never left the desk or rests in the internal book, ORDER_CANCEL_REQUESTED for one (maybe) at
an external venue (the application then asks the venue: `executor.cancel`). Orders whose cancel
is pending already are left as they are. Nothing open in scope: nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from google.protobuf.message import Message

from itirp.auth.roles import Role
from itirp.core.commands import Actor
from itirp.core.matching import INTERNAL_VENUE, order_envelope
from itirp.core.protos import STATUS_PROTO, scope_proto
from itirp.core.recorder import Committed, Item, Recorder
from itirp.core.state import TradingState, check_exists, not_entitled
from itirp.domain.accounts import FIRM, Level, Scope
from itirp.domain.orders import Order, OrderStatus, Trigger
from itirp.errors import FailedPrecondition, PermissionDenied, Reason
from itirp.v1 import events_pb2

__all__ = [
    "TRIGGERS",
    "CancelAll",
    "at_external_venue",
    "cancel_all",
    "cancel_items",
    "cancel_payload",
    "in_scope",
    "requested_cancel",
]

#: What may ask for a mass cancel (MassCancelRequested.trigger).
TRIGGERS: Final = ("cancel_all", "kill_switch", "disconnect", "cancel_all_after")


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAll:
    """Cancel every open order in `scope` (FIRM: all; DESK, ACCOUNT: the orders booked there;
    TRADER: the orders entered by that username; INSTRUMENT: that symbol's), narrowed to `symbol`,
    to the orders of `user_id` and to those entered on order-entry session `session_id` when given.
    `trigger` says what asked (one of `TRIGGERS`); `reason` is recorded with each cancel."""

    actor: Actor
    scope: Scope = FIRM
    symbol: str = ""
    reason: str = ""
    trigger: str = "cancel_all"
    user_id: str = ""
    session_id: str = ""

    def __post_init__(self) -> None:
        if self.trigger not in TRIGGERS:
            raise ValueError(f"trigger must be one of {', '.join(TRIGGERS)} (got {self.trigger!r})")


def at_external_venue(order: Order) -> bool:
    """Whether the order went to an external venue (not the internal book, not yet anywhere)."""
    return order.venue not in ("", INTERNAL_VENUE)


def cancel_payload(order: Order, reason: str) -> Message | None:
    """The event that cancels `order`: ORDER_CANCELLED at once when it never left the desk or
    rests in the internal book; ORDER_CANCEL_REQUESTED when it is (or may be) at an external venue,
    which the executor then asks; None when its cancel is pending already (nothing to record).
    FAILED_PRECONDITION ORDER_NOT_CANCELLABLE when it can no longer be cancelled."""
    if order.status is OrderStatus.PENDING_CANCEL:
        return None
    external = at_external_venue(order)
    if external and order.can(Trigger.ORDER_CANCEL_REQUESTED):
        return events_pb2.OrderCancelRequested(reason=reason, previous_status=STATUS_PROTO[order.status])
    if order.can(Trigger.ORDER_CANCELLED) and not external:
        return events_pb2.OrderCancelled(reason=reason, quantity=order.remaining_quantity)
    raise FailedPrecondition(
        f"order {order.order_id} is {order.status.value} and can no longer be cancelled",
        reason=Reason.ORDER_NOT_CANCELLABLE,
        metadata={"order_id": order.order_id, "order_status": order.status.value},
    )


def in_scope(order: Order, scope: Scope) -> bool:
    return scope.covers(order.desk, order.account, order.username, order.symbol)


def _candidates(state: TradingState, command: CancelAll) -> Iterable[Order]:
    """The open orders the command names, oldest first."""
    source = state.orders_by_user.get(command.user_id, []) if command.user_id else state.order_list
    scope, symbol, session_id = command.scope, command.symbol, command.session_id
    for order in source:
        if order.status.terminal or order.status is OrderStatus.PENDING_CANCEL:
            continue
        if symbol and order.symbol != symbol:
            continue
        if session_id and order.session_id != session_id:
            continue
        if in_scope(order, scope):
            yield order


def cancel_items(state: TradingState, recorder: Recorder, command: CancelAll) -> tuple[list[Item], list[str]]:
    """The events of a mass cancel and the ids of the orders they cancel ([], [] when nothing
    open is in scope). For callers that record more in the same append (a session's end)."""
    actor = command.actor
    reason = command.reason or f"mass cancel ({command.trigger})"
    cancels: list[tuple[Order, Message]] = []
    for order in _candidates(state, command):
        try:
            payload = cancel_payload(order, reason)
        except FailedPrecondition:
            continue  # not cancellable from where it is (an answer from the venue is awaited)
        if payload is not None:
            cancels.append((order, payload))
    if not cancels:
        return [], []
    correlation_id = actor.correlation_id or recorder.journal.new_id()
    mass_id = recorder.journal.new_id()
    requested = events_pb2.MassCancelRequested(
        scope=scope_proto(command.scope),
        symbol=command.symbol,
        reason=reason,
        username=actor.username,
        trigger=command.trigger,
        orders=len(cancels),
        session_id=command.session_id,
    )
    envelope = {**actor.envelope(command.symbol), "correlation_id": correlation_id, "event_id": mass_id}
    items: list[Item] = [(requested, envelope)]
    for order, payload in cancels:
        order_ids = order_envelope(order, correlation_id, mass_id)
        order_ids["user_id"] = actor.user_id
        items.append((payload, order_ids))
    return items, [order.order_id for order, _ in cancels]


def cancel_all(
    state: TradingState, recorder: Recorder, command: CancelAll, now_us: int
) -> tuple[list[Order], list[Order], Committed | None]:
    """Cancel every open order the command names, in one append (see the module docstring).
    Returns (orders cancelled at once, orders now PENDING_CANCEL at their venue, the events);
    ([], [], None) when nothing open is in scope."""
    items, order_ids = cancel_items(state, recorder, command)
    if not items:
        return [], [], None
    committed = recorder.emit(items, now_us)
    orders = [state.orders[order_id] for order_id in order_ids]
    cancelled = [o for o in orders if o.status is OrderStatus.CANCELLED]
    pending = [o for o in orders if o.status is OrderStatus.PENDING_CANCEL]
    return cancelled, pending, committed


def requested_cancel(
    state: TradingState, actor: Actor, scope: Scope | None, *, symbol: str = "", reason: str = ""
) -> CancelAll:
    """The mass cancel a caller asks for (CancelAllOrders), as they may ask it. RISK_MANAGER and
    above: any scope that exists (None: the firm), everyone's orders in it. A trader: no scope or
    their own trader scope (their orders), or an account they are entitled to (their orders in it);
    PERMISSION_DENIED for anything else, NOT_FOUND for a desk, account or instrument that does not
    exist."""
    if scope is not None:
        check_exists(state, scope)
    if actor.viewer.sees_all:
        return CancelAll(actor=actor, scope=scope or FIRM, symbol=symbol, reason=reason)
    own = Scope(Level.TRADER, actor.username)
    if scope is None or scope == own:
        return CancelAll(actor=actor, scope=own, symbol=symbol, reason=reason, user_id=actor.user_id)
    if scope.level is Level.ACCOUNT:
        if scope.id not in state.accounts.entitled(actor.user_id):
            raise not_entitled(actor.username, scope.id, actor.user_id)
        return CancelAll(actor=actor, scope=scope, symbol=symbol, reason=reason, user_id=actor.user_id)
    raise PermissionDenied(
        f"a trader may cancel all of their own orders, or theirs in an account they are entitled to; "
        f"cancelling in {scope} requires the RISK_MANAGER role or above",
        reason=Reason.ROLE_REQUIRED,
        metadata={
            "method": "/itirp.v1.OrderService/CancelAllOrders",
            "required_role": Role.RISK_MANAGER.proto_name,
            "role": actor.viewer.role.proto_name,
        },
    )
