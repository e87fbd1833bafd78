"""Domain values <-> the protobuf messages of events and answers: one table per enumeration."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import cast

from itirp.domain.accounts import FIRM_ID, AccountKind, Level, Scope
from itirp.domain.controls import Restriction, TradingMode
from itirp.domain.instruments import Instrument, InstrumentStatus, Mark
from itirp.domain.money import format_money
from itirp.domain.orders import OrderStatus, OrderType, SelfTradePrevention, Side, TimeInForce
from itirp.domain.risk import (
    INSTRUMENT_LIMITS,
    LIMIT_AMOUNTS,
    UNLIMITED,
    InstrumentLimits,
    RiskLimits,
    Violation,
    ViolationDetail,
)
from itirp.errors import InvalidArgument
from itirp.events import timestamp_from_us, timestamp_to_us
from itirp.v1 import account_pb2, common_pb2, risk_pb2

__all__ = [
    "INSTRUMENT_STATUS_FROM_PROTO",
    "INSTRUMENT_STATUS_PROTO",
    "KIND_FROM_PROTO",
    "KIND_PROTO",
    "LEVEL_FROM_PROTO",
    "LEVEL_PROTO",
    "ORDER_TYPE_FROM_PROTO",
    "ORDER_TYPE_PROTO",
    "RESTRICTION_FROM_PROTO",
    "RESTRICTION_PROTO",
    "SIDE_FROM_PROTO",
    "SIDE_PROTO",
    "STATUS_PROTO",
    "STP_FROM_PROTO",
    "STP_PROTO",
    "TIF_FROM_PROTO",
    "TIF_PROTO",
    "TRADING_MODE_FROM_PROTO",
    "TRADING_MODE_PROTO",
    "instrument_from_proto",
    "instrument_proto",
    "limit_amount",
    "limit_text",
    "limits_proto",
    "mark_from_proto",
    "mark_proto",
    "scope_from_proto",
    "scope_proto",
    "trading_day_of",
    "violation_of",
    "violation_proto",
    "violations_message",
]

# The generated stubs type enum fields by their enum class; `Value` returns the plain int behind it.
_VIOLATION_PROTO = {
    v: cast("common_pb2.ViolationType", common_pb2.ViolationType.Value(f"VIOLATION_TYPE_{v.value}")) for v in Violation
}
#: An order status's protobuf enum value.
STATUS_PROTO = {
    s: cast("common_pb2.OrderStatus", common_pb2.OrderStatus.Value(f"ORDER_STATUS_{s.value}")) for s in OrderStatus
}
#: Side <-> its protobuf enum value.
SIDE_PROTO = {Side.BUY: common_pb2.SIDE_BUY, Side.SELL: common_pb2.SIDE_SELL}
SIDE_FROM_PROTO: dict[int, Side] = {number: side for side, number in SIDE_PROTO.items()}
#: Order type, time in force and self-trade prevention <-> protobuf; unset (0) reads as the default.
ORDER_TYPE_PROTO = {
    t: cast("common_pb2.OrderType", common_pb2.OrderType.Value(f"ORDER_TYPE_{t.value}")) for t in OrderType
}
TIF_PROTO = {
    t: cast("common_pb2.TimeInForce", common_pb2.TimeInForce.Value(f"TIME_IN_FORCE_{t.value}")) for t in TimeInForce
}
STP_PROTO = {
    m: cast("common_pb2.SelfTradePrevention", common_pb2.SelfTradePrevention.Value(f"SELF_TRADE_PREVENTION_{m.value}"))
    for m in SelfTradePrevention
}
ORDER_TYPE_FROM_PROTO: dict[int, OrderType] = {0: OrderType.LIMIT, **{n: t for t, n in ORDER_TYPE_PROTO.items()}}
TIF_FROM_PROTO: dict[int, TimeInForce] = {0: TimeInForce.GTC, **{n: t for t, n in TIF_PROTO.items()}}
STP_FROM_PROTO: dict[int, SelfTradePrevention] = {
    0: SelfTradePrevention.CANCEL_RESTING,
    **{n: m for m, n in STP_PROTO.items()},
}


INSTRUMENT_STATUS_PROTO = {
    s: cast("common_pb2.InstrumentStatus", common_pb2.InstrumentStatus.Value(f"INSTRUMENT_STATUS_{s.value}"))
    for s in InstrumentStatus
}
INSTRUMENT_STATUS_FROM_PROTO: dict[int, InstrumentStatus] = {n: s for s, n in INSTRUMENT_STATUS_PROTO.items()}


def _text(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def _decimal(text: str) -> Decimal | None:
    return Decimal(text) if text else None


def instrument_proto(instrument: Instrument) -> common_pb2.Instrument:
    msg = common_pb2.Instrument(
        symbol=instrument.symbol,
        name=instrument.name,
        currency=instrument.currency,
        tick_size=str(instrument.tick_size),
        lot_size=instrument.lot_size,
        min_quantity=instrument.min_quantity,
        max_quantity=instrument.max_quantity,
        status=INSTRUMENT_STATUS_PROTO[instrument.status],
        price_band_percent=_text(instrument.price_band_percent),
        price_band_ticks=instrument.price_band_ticks,
        reference_price=_text(instrument.reference_price),
        updated_by=instrument.updated_by,
    )
    if instrument.updated_us:
        msg.updated_at.CopyFrom(timestamp_from_us(instrument.updated_us))
    return msg


def instrument_from_proto(msg: common_pb2.Instrument, *, updated_us: int = 0) -> Instrument:
    """An instrument from its message (as recorded; the caller validates what a user sent)."""
    return Instrument(
        symbol=msg.symbol,
        name=msg.name,
        currency=msg.currency,
        tick_size=Decimal(msg.tick_size) if msg.tick_size else Decimal(0),
        lot_size=msg.lot_size,
        min_quantity=msg.min_quantity,
        max_quantity=msg.max_quantity,
        status=INSTRUMENT_STATUS_FROM_PROTO.get(msg.status, InstrumentStatus.ACTIVE),
        price_band_percent=_decimal(msg.price_band_percent),
        price_band_ticks=msg.price_band_ticks,
        reference_price=_decimal(msg.reference_price),
        updated_us=updated_us or timestamp_to_us(msg.updated_at),
        updated_by=msg.updated_by,
    )


def mark_proto(mark: Mark) -> common_pb2.Mark:
    msg = common_pb2.Mark(
        symbol=mark.symbol,
        price=str(mark.price),
        bid=_text(mark.bid),
        ask=_text(mark.ask),
        source=mark.source,
        sequence=mark.sequence,
    )
    if mark.priced_us:
        msg.timestamp.CopyFrom(timestamp_from_us(mark.priced_us))
    return msg


def mark_from_proto(msg: common_pb2.Mark, *, sequence: int = 0) -> Mark:
    return Mark(
        symbol=msg.symbol,
        price=Decimal(msg.price),
        bid=_decimal(msg.bid),
        ask=_decimal(msg.ask),
        source=msg.source,
        priced_us=timestamp_to_us(msg.timestamp),
        sequence=sequence or msg.sequence,
    )


def trading_day_of(timestamp_us: int) -> str:
    """The trading day (UTC date, ISO) of a moment."""
    return datetime.fromtimestamp(timestamp_us / 1_000_000, UTC).date().isoformat()


_VIOLATION_FROM_PROTO: dict[int, Violation] = {number: v for v, number in _VIOLATION_PROTO.items()}


def violation_of(number: int) -> Violation:
    """The violation of a recorded `ViolationType` number."""
    return _VIOLATION_FROM_PROTO[number]


def violation_proto(v: ViolationDetail) -> common_pb2.RiskViolation:
    figure = _whole if v.violation is Violation.ORDER_QUANTITY_LIMIT else format_money
    return common_pb2.RiskViolation(
        type=_VIOLATION_PROTO[v.violation],
        limit=figure(v.limit) if v.limit is not None else "",
        projected=figure(v.projected) if v.projected is not None else "",
        message=v.message,
        reference_price=format_money(v.reference_price) if v.reference_price is not None else "",
        scope=v.scope,
        limit_name=v.limit_name,
    )


def _whole(amount: Decimal) -> str:
    return str(int(amount))


def limit_text(amount: Decimal, name: str = "") -> str:
    """A limit on the wire: a decimal string ("500" for a quantity), "" when not set."""
    if not amount.is_finite():
        return ""
    return _whole(amount) if name == "max_order_quantity" else format_money(amount)


def limit_amount(text: str) -> Decimal:
    """A limit from an event: "" is not set (`UNLIMITED`)."""
    return Decimal(text) if text else UNLIMITED


def limits_proto(
    limits: RiskLimits | InstrumentLimits,
    updated_us: int,
    updated_by: str,
    *,
    scope: Scope | None = None,
    symbol: str = "",
) -> risk_pb2.RiskLimits:
    """The limits of a level (or an instrument's overrides at it): unset ones are empty."""
    names = LIMIT_AMOUNTS if isinstance(limits, RiskLimits) else INSTRUMENT_LIMITS
    msg = risk_pb2.RiskLimits(updated_by=updated_by, symbol=symbol)
    for name in names:
        setattr(msg, name, limit_text(getattr(limits, name), name))
    if isinstance(limits, RiskLimits):
        msg.kill_switch_enabled = limits.kill_switch_enabled
    if scope is not None and scope.level is not Level.FIRM:
        msg.scope.CopyFrom(scope_proto(scope))
    if updated_us:
        msg.updated_at.CopyFrom(timestamp_from_us(updated_us))
    return msg


def violations_message(violations: Sequence[common_pb2.RiskViolation]) -> str:
    names = ", ".join(common_pb2.ViolationType.Name(v.type).removeprefix("VIOLATION_TYPE_") for v in violations)
    return f"Risk violations: {names}"


#: Account kind and scope level <-> protobuf.
KIND_PROTO = {
    AccountKind.BOOK: account_pb2.ACCOUNT_KIND_BOOK,
    AccountKind.CLIENT: account_pb2.ACCOUNT_KIND_CLIENT,
}
KIND_FROM_PROTO: dict[int, AccountKind] = {v: k for k, v in KIND_PROTO.items()}
LEVEL_PROTO = {
    level: cast("common_pb2.ScopeLevel", common_pb2.ScopeLevel.Value(f"SCOPE_LEVEL_{level.value}")) for level in Level
}
LEVEL_FROM_PROTO: dict[int, Level] = {v: k for k, v in LEVEL_PROTO.items()}


def scope_proto(scope: Scope) -> common_pb2.RiskScope:
    return common_pb2.RiskScope(level=LEVEL_PROTO[scope.level], id=scope.id)


def scope_from_proto(message: common_pb2.RiskScope, *, field: str = "scope") -> Scope:
    """A scope from the wire: unset is the firm; INVALID_ARGUMENT for an unknown level or no id."""
    if message.level == common_pb2.SCOPE_LEVEL_UNSPECIFIED and not message.id:
        return Scope(Level.FIRM, FIRM_ID)
    level = LEVEL_FROM_PROTO.get(message.level)
    if level is None:
        raise InvalidArgument(f"{field}.level", "give FIRM, DESK, ACCOUNT, TRADER or INSTRUMENT")
    if level is Level.FIRM:
        return Scope(Level.FIRM, FIRM_ID)
    if not message.id:
        raise InvalidArgument(f"{field}.id", f"required for a {level.value} scope")
    return Scope(level, message.id)


#: Trading state and restriction <-> protobuf (unset reads as ACTIVE / NONE).
TRADING_MODE_PROTO = {
    m: cast("common_pb2.TradingState", common_pb2.TradingState.Value(f"TRADING_STATE_{m.value}")) for m in TradingMode
}
TRADING_MODE_FROM_PROTO: dict[int, TradingMode] = {
    **{v: k for k, v in TRADING_MODE_PROTO.items()},
    common_pb2.TRADING_STATE_UNSPECIFIED: TradingMode.ACTIVE,
}
RESTRICTION_PROTO = {
    r: cast("risk_pb2.Restriction", risk_pb2.Restriction.Value(f"RESTRICTION_{r.value}")) for r in Restriction
}
RESTRICTION_FROM_PROTO: dict[int, Restriction] = {
    **{v: k for k, v in RESTRICTION_PROTO.items()},
    risk_pb2.RESTRICTION_UNSPECIFIED: Restriction.NONE,
}
