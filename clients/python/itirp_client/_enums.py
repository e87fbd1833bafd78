"""Enum arguments as callers write them ("BUY", "ioc", "cancel-both", "TIME_IN_FORCE_FOK", or the
numbers) turned into the protobuf enum values; anything else is a `ValueError` before a call."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from itirp.v1 import account_pb2, common_pb2, events_pb2

__all__ = [
    "account_kind",
    "event_types",
    "instrument_status",
    "order_statuses",
    "order_type",
    "self_trade_prevention",
    "side",
    "time_in_force",
]

_SIDES = {"BUY": common_pb2.SIDE_BUY, "SELL": common_pb2.SIDE_SELL}


def side(value: str | int) -> common_pb2.Side:
    if isinstance(value, int):
        return cast(common_pb2.Side, value)
    try:
        return _SIDES[value.upper().removeprefix("SIDE_")]
    except KeyError:
        raise ValueError(f"side must be BUY or SELL, got {value!r}") from None


def _enum(value: str | int | None, enum: Any, prefix: str, what: str) -> int:
    """An enum value from its number, or its name in any case, with or without the prefix, with
    dashes or underscores: "MARKET", "ioc", "cancel-both", "TIME_IN_FORCE_FOK". None: unset (0)."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    name = value.strip().upper().replace("-", "_").replace(" ", "_").removeprefix(prefix)
    names = [v.name for v in enum.DESCRIPTOR.values]
    if name and name != "UNSPECIFIED" and prefix + name in names:
        return int(enum.Value(prefix + name))
    choices = ", ".join(k.removeprefix(prefix) for k in names if not k.endswith("_UNSPECIFIED"))
    raise ValueError(f"{what} must be one of {choices}, got {value!r}")


def order_type(value: str | int | None) -> common_pb2.OrderType:
    return cast(common_pb2.OrderType, _enum(value, common_pb2.OrderType, "ORDER_TYPE_", "order_type"))


def time_in_force(value: str | int | None) -> common_pb2.TimeInForce:
    return cast(common_pb2.TimeInForce, _enum(value, common_pb2.TimeInForce, "TIME_IN_FORCE_", "time_in_force"))


def self_trade_prevention(value: str | int | None) -> common_pb2.SelfTradePrevention:
    kind = _enum(value, common_pb2.SelfTradePrevention, "SELF_TRADE_PREVENTION_", "self_trade_prevention")
    return cast(common_pb2.SelfTradePrevention, kind)


def instrument_status(value: str | int | None) -> common_pb2.InstrumentStatus:
    """ACTIVE, HALTED or CLOSED (any case), or the number; None: unset."""
    kind = _enum(value, common_pb2.InstrumentStatus, "INSTRUMENT_STATUS_", "status")
    return cast(common_pb2.InstrumentStatus, kind)


def account_kind(value: str | int | None) -> account_pb2.AccountKind:
    """BOOK or CLIENT (any case), or the number; None: unset."""
    return cast(account_pb2.AccountKind, _enum(value, account_pb2.AccountKind, "ACCOUNT_KIND_", "kind"))


def order_statuses(statuses: Iterable[str | int]) -> list[common_pb2.OrderStatus]:
    return [
        cast(
            common_pb2.OrderStatus,
            s
            if isinstance(s, int)
            else common_pb2.OrderStatus.Value("ORDER_STATUS_" + s.upper().removeprefix("ORDER_STATUS_")),
        )
        for s in statuses
    ]


def event_types(types: Iterable[str | int]) -> list[events_pb2.EventType]:
    return [
        cast(
            events_pb2.EventType,
            t
            if isinstance(t, int)
            else events_pb2.EventType.Value("EVENT_TYPE_" + t.upper().removeprefix("EVENT_TYPE_")),
        )
        for t in types
    ]
