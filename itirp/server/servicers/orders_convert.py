"""Orders and risk state as protobuf messages."""

from __future__ import annotations

from itirp.core.trading import SIDE_PROTO, TradingCore, limits_proto
from itirp.domain.money import format_money
from itirp.domain.orders import TRANSITIONS, Order, OrderStatus
from itirp.server.servicers.convert import timestamp_from_us
from itirp.store import StoredEvent
from itirp.v1 import common_pb2, order_pb2, risk_pb2

__all__ = ["STATUS_FROM_PROTO", "STATUS_TO_PROTO", "limits_to_proto", "metrics_to_proto", "order_to_proto", "order_update"]

STATUS_TO_PROTO = {s: common_pb2.OrderStatus.Value(f"ORDER_STATUS_{s.value}") for s in OrderStatus}
STATUS_FROM_PROTO = {number: s for s, number in STATUS_TO_PROTO.items()}

#: The status an order is in right after each kind of order event.
_STATUS_AFTER = {trigger.value: to for (_, trigger), to in TRANSITIONS.items()}
_STATUS_AFTER["ORDER_CREATED"] = OrderStatus.PENDING
#: What an update for an earlier moment says (the order's own message is about its latest state).
_STATUS_MESSAGE = {
    OrderStatus.PENDING: "received",
    OrderStatus.RISK_CHECK: "pre-trade risk check",
    OrderStatus.APPROVED: "Order approved and submitted for execution",
    OrderStatus.EXECUTING: "executing",
    OrderStatus.EXECUTED: "executed",
}


def order_to_proto(order: Order, *, status: OrderStatus | None = None, sequence: int = 0, at_us: int = 0) -> order_pb2.Order:
    return order_pb2.Order(
        order_id=order.order_id,
        client_order_id=order.client_order_id,
        user_id=order.user_id,
        username=order.username,
        symbol=order.symbol,
        side=SIDE_PROTO[order.side],
        quantity=order.quantity,
        price=format_money(order.price),
        strategy=order.strategy,
        status=STATUS_TO_PROTO[status or order.status],
        correlation_id=order.correlation_id,
        created_at=timestamp_from_us(order.created_us),
        updated_at=timestamp_from_us(at_us or order.updated_us),
        message=order.message,
        violations=order.violations,
        filled_quantity=order.filled_quantity,
        average_fill_price=format_money(order.average_fill_price) if order.average_fill_price is not None else "",
        execution_attempts=order.execution_attempts,
        last_sequence=sequence or order.last_sequence,
    )


def order_update(event: StoredEvent, order: Order) -> order_pb2.OrderUpdate:
    """The order as of `event`: the status that event put it in, with that event's sequence and
    time. Fields the event did not change come from the order."""
    status = _STATUS_AFTER.get(event.event_type, order.status)
    proto = order_to_proto(order, status=status, sequence=event.sequence, at_us=event.timestamp_us)
    if event.sequence < order.last_sequence:
        # later events have changed the order since; this update describes the earlier moment
        proto.message = _STATUS_MESSAGE.get(status, "")
        if status is not OrderStatus.EXECUTED:
            proto.filled_quantity = 0
            proto.average_fill_price = ""
    return order_pb2.OrderUpdate(sequence=event.sequence, order=proto, timestamp=timestamp_from_us(event.timestamp_us))


def limits_to_proto(core: TradingCore) -> risk_pb2.RiskLimits:
    return limits_proto(core.risk.limits, core.limits_updated_us, core.limits_updated_by)


def metrics_to_proto(core: TradingCore, now_us: int) -> risk_pb2.RiskMetrics:
    m = core.risk.metrics()
    return risk_pb2.RiskMetrics(
        net_exposure=format_money(m.net_exposure),
        gross_exposure=format_money(m.gross_exposure),
        daily_volume=format_money(m.daily_volume),
        total_positions=m.total_positions,
        largest_position=format_money(m.largest_position),
        kill_switch_active=m.kill_switch_active,
        working_exposure=format_money(m.working_exposure),
        trading_day=core.trading_day,
        timestamp=timestamp_from_us(now_us),
    )


