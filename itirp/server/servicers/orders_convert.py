"""Orders and risk state as protobuf messages."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

from itirp.core.commands import SubmitOrder
from itirp.core.protos import (
    ORDER_TYPE_PROTO,
    SIDE_FROM_PROTO,
    SIDE_PROTO,
    STATUS_PROTO,
    STP_PROTO,
    TIF_PROTO,
    TRADING_MODE_PROTO,
    limits_proto,
    scope_proto,
)
from itirp.core.queries import LimitsView
from itirp.domain.accounts import FIRM, Scope
from itirp.domain.controls import TradingMode
from itirp.domain.money import format_money
from itirp.domain.orders import TRANSITIONS, Fill, Order, OrderStatus, OrderType, SelfTradePrevention, TimeInForce
from itirp.domain.risk import RiskMetrics
from itirp.errors import InvalidArgument
from itirp.server.servicers.convert import current_actor, timestamp_from_us
from itirp.store import StoredEvent
from itirp.v1 import order_pb2, risk_pb2

__all__ = [
    "STATUS_FROM_PROTO",
    "STATUS_TO_PROTO",
    "entry_ack",
    "limits_to_proto",
    "metrics_to_proto",
    "order_to_proto",
    "order_update",
    "submit_command",
    "submit_response",
]

STATUS_TO_PROTO = STATUS_PROTO
STATUS_FROM_PROTO = {number: s for s, number in STATUS_TO_PROTO.items()}

T = TypeVar("T")

_ORDER_TYPES: dict[int, OrderType] = {number: t for t, number in ORDER_TYPE_PROTO.items()}
_TIFS: dict[int, TimeInForce] = {number: t for t, number in TIF_PROTO.items()}
_STPS: dict[int, SelfTradePrevention] = {number: m for m, number in STP_PROTO.items()}


def _enum(table: dict[int, T], number: int, field: str, default: T) -> T:
    """A request enum field as a domain value: unset is the default, an unknown number refused."""
    if not number:
        return default
    value = table.get(number)
    if value is None:
        names = ", ".join(getattr(v, "value", str(v)) for v in table.values())
        raise InvalidArgument(field, f"unknown value {number} (one of {names})")
    return value


def submit_command(request: order_pb2.SubmitOrderRequest, session_id: str = "") -> SubmitOrder:
    """The SubmitOrder command of a request (enumerations checked; the core validates the rest),
    sent on order-entry session `session_id` if any."""
    side = SIDE_FROM_PROTO.get(request.side)
    if side is None:
        raise InvalidArgument("side", "must be SIDE_BUY or SIDE_SELL")
    return SubmitOrder(
        actor=current_actor(new_correlation=True),
        symbol=request.symbol,
        side=side,
        quantity=request.quantity,
        price=request.price,
        strategy=request.strategy,
        client_order_id=request.client_order_id,
        order_type=_enum(_ORDER_TYPES, request.order_type, "order_type", OrderType.LIMIT),
        time_in_force=_enum(_TIFS, request.time_in_force, "time_in_force", TimeInForce.GTC),
        stp=_enum(_STPS, request.self_trade_prevention, "self_trade_prevention", SelfTradePrevention.CANCEL_RESTING),
        account=request.account,
        intended_duplicate=request.intended_duplicate,
        session_id=session_id,
    )


#: The status an order is in right after each kind of order event: its first listing in the table
#: (an event that also occurs while a cancel is pending, such as an acknowledgement, reads as the
#: status it gives outside one).
_STATUS_AFTER: dict[str, OrderStatus] = {}
for (_, _trigger), _to in TRANSITIONS.items():
    _STATUS_AFTER.setdefault(_trigger.value, _to)
_STATUS_AFTER["ORDER_CREATED"] = OrderStatus.PENDING
#: What an update for an earlier moment says (the order's own message is about its latest state).
_STATUS_MESSAGE = {
    OrderStatus.PENDING: "received",
    OrderStatus.RISK_CHECK: "pre-trade risk check",
    OrderStatus.APPROVED: "Order approved and submitted for execution",
    OrderStatus.EXECUTING: "executing",
    OrderStatus.EXECUTED: "executed",
    OrderStatus.WORKING: "in the book",
    OrderStatus.PARTIALLY_FILLED: "partially filled",
    OrderStatus.PENDING_CANCEL: "cancel sent to the venue",
    OrderStatus.UNKNOWN: "outcome at the venue unknown",
}


def _status_at(event: StoredEvent, order: Order, filled: int) -> OrderStatus:
    """The status `event` put the order in, `filled` being what had filled by then."""
    if event.event_type == "ORDER_FILLED":
        return OrderStatus.EXECUTED if filled >= order.quantity else OrderStatus.PARTIALLY_FILLED
    if event.event_type == "ORDER_AMENDED":
        return OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.WORKING
    return _STATUS_AFTER.get(event.event_type, order.status)


def _fills(proto: order_pb2.Order, fills: Sequence[Fill]) -> None:
    """Set the fill fields of `proto` from `fills` (all of an order's, or those up to a moment)."""
    filled = sum(f.quantity for f in fills)
    proto.filled_quantity = filled
    notional = sum((f.quantity * f.price for f in fills), Decimal(0))
    proto.average_fill_price = format_money(notional / filled) if filled else ""
    del proto.fills[:]
    proto.fills.extend(
        order_pb2.OrderFill(
            trade_id=f.trade_id,
            quantity=f.quantity,
            price=format_money(f.price),
            aggressor=f.aggressor,
            timestamp=timestamp_from_us(f.timestamp_us),
            sequence=f.sequence,
        )
        for f in fills
    )


def _order_fields(order: Order, status: OrderStatus, sequence: int, at_us: int) -> dict[str, object]:
    """The fields of the API's `Order` (fills apart) as constructor arguments; its two times as
    dicts, which the constructor writes in place (a Timestamp message would be built, then copied)."""
    created, updated = divmod(order.created_us, 1_000_000), divmod(at_us or order.updated_us, 1_000_000)
    return {
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "user_id": order.user_id,
        "username": order.username,
        "symbol": order.symbol,
        "side": SIDE_PROTO[order.side],
        "quantity": order.quantity,
        "price": format_money(order.price) if order.price is not None else "",
        "strategy": order.strategy,
        "status": STATUS_TO_PROTO[status],
        "correlation_id": order.correlation_id,
        "created_at": {"seconds": created[0], "nanos": created[1] * 1000},
        "updated_at": {"seconds": updated[0], "nanos": updated[1] * 1000},
        "message": order.message,
        "violations": order.violations,
        "filled_quantity": order.filled_quantity,
        "average_fill_price": format_money(order.average_fill_price) if order.average_fill_price is not None else "",
        "execution_attempts": order.execution_attempts,
        "last_sequence": sequence or order.last_sequence,
        "order_type": ORDER_TYPE_PROTO[order.order_type],
        "time_in_force": TIF_PROTO[order.time_in_force],
        "self_trade_prevention": STP_PROTO[order.stp],
        "remaining_quantity": 0 if status.terminal else order.quantity - order.filled_quantity,
        "account": order.account,
        "desk": order.desk,
        "session_id": order.session_id,
        "released": order.released,
    }


def order_to_proto(
    order: Order, *, status: OrderStatus | None = None, sequence: int = 0, at_us: int = 0
) -> order_pb2.Order:
    proto = order_pb2.Order(**_order_fields(order, status or order.status, sequence, at_us))  # type: ignore[arg-type]  # the fields' types vary; the constructor checks each
    if order.fills:
        _fills(proto, order.fills)
    return proto


def submit_response(order: Order) -> order_pb2.SubmitOrderResponse:
    """SubmitOrder's answer, built in one go: the order written straight into the answer, not
    built apart and copied in (its status and time repeated at the top level)."""
    fields = _order_fields(order, order.status, 0, 0)
    response = order_pb2.SubmitOrderResponse(
        order_id=order.order_id,
        status=fields["status"],  # type: ignore[arg-type]  # an OrderStatus number (see _order_fields)
        correlation_id=order.correlation_id,
        timestamp=fields["updated_at"],  # type: ignore[arg-type]  # a Timestamp as a dict (see _order_fields)
        message=order.message,
        violations=order.violations,
        order=fields,  # the Order as a dict: written in place, not copied
    )
    if order.fills:
        _fills(response.order, order.fills)
    return response


def entry_ack(tag: str, order: Order, priority_kept: bool = False) -> order_pb2.OrderEntryResponse:
    """An order-entry `ack`, built in one go: the order written straight into it (not an `Order`
    built, copied into an `OrderEntryAck`, copied into the response)."""
    fields = _order_fields(order, order.status, 0, 0)
    response = order_pb2.OrderEntryResponse(ack={"tag": tag, "order": fields, "priority_kept": priority_kept})
    if order.fills:
        _fills(response.ack.order, order.fills)
    return response


def order_update(event: StoredEvent, order: Order, *, as_of_event: bool = False) -> order_pb2.OrderUpdate:
    """The order as of `event`, with that event's sequence and time. `as_of_event`: `order` is
    already the order as the event left it (`itirp.app.order_history`); otherwise (it could not be
    rebuilt) the status that event put it in, with the rest as the order is now."""
    if as_of_event or event.sequence >= order.last_sequence:
        proto = order_to_proto(order, sequence=event.sequence, at_us=event.timestamp_us)
    else:
        # later events have changed the order since; this update describes the earlier moment
        fills = [f for f in order.fills if f.sequence <= event.sequence]
        filled = sum(f.quantity for f in fills)
        status = _status_at(event, order, filled)
        proto = order_to_proto(order, status=status, sequence=event.sequence, at_us=event.timestamp_us)
        proto.message = _STATUS_MESSAGE.get(status, "")
        _fills(proto, fills)
        proto.remaining_quantity = 0 if status.terminal else order.quantity - filled
    return order_pb2.OrderUpdate(sequence=event.sequence, order=proto, timestamp=timestamp_from_us(event.timestamp_us))


def limits_to_proto(view: LimitsView) -> risk_pb2.RiskLimits:
    return limits_proto(view.limits, view.updated_us, view.updated_by)


def metrics_to_proto(
    m: RiskMetrics, trading_day: str, now_us: int, scope: Scope = FIRM, mode: TradingMode = TradingMode.ACTIVE
) -> risk_pb2.RiskMetrics:
    proto = risk_pb2.RiskMetrics(
        net_exposure=format_money(m.net_exposure),
        gross_exposure=format_money(m.gross_exposure),
        daily_volume=format_money(m.daily_volume),
        total_positions=m.total_positions,
        largest_position=format_money(m.largest_position),
        kill_switch_active=m.kill_switch_active,
        working_exposure=format_money(m.working_exposure),
        trading_day=trading_day,
        timestamp=timestamp_from_us(now_us),
        credit_used=format_money(m.credit_used),
        daily_pnl=format_money(m.daily_pnl),
        trading_state=TRADING_MODE_PROTO[mode],
    )
    if scope != FIRM:
        proto.scope.CopyFrom(scope_proto(scope))
    return proto
