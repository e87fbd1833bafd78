import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_TRADER: _ClassVar[Role]
    ROLE_RISK_MANAGER: _ClassVar[Role]
    ROLE_COMPLIANCE: _ClassVar[Role]
    ROLE_ADMIN: _ClassVar[Role]

class Side(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIDE_UNSPECIFIED: _ClassVar[Side]
    SIDE_BUY: _ClassVar[Side]
    SIDE_SELL: _ClassVar[Side]

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING: _ClassVar[OrderStatus]
    ORDER_STATUS_RISK_CHECK: _ClassVar[OrderStatus]
    ORDER_STATUS_APPROVED: _ClassVar[OrderStatus]
    ORDER_STATUS_EXECUTING: _ClassVar[OrderStatus]
    ORDER_STATUS_EXECUTED: _ClassVar[OrderStatus]
    ORDER_STATUS_REJECTED: _ClassVar[OrderStatus]
    ORDER_STATUS_FAILED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELLED: _ClassVar[OrderStatus]
    ORDER_STATUS_WORKING: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_FILLED: _ClassVar[OrderStatus]
    ORDER_STATUS_EXPIRED: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING_CANCEL: _ClassVar[OrderStatus]
    ORDER_STATUS_UNKNOWN: _ClassVar[OrderStatus]

class OrderType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_TYPE_UNSPECIFIED: _ClassVar[OrderType]
    ORDER_TYPE_LIMIT: _ClassVar[OrderType]
    ORDER_TYPE_MARKET: _ClassVar[OrderType]

class TimeInForce(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIME_IN_FORCE_UNSPECIFIED: _ClassVar[TimeInForce]
    TIME_IN_FORCE_GTC: _ClassVar[TimeInForce]
    TIME_IN_FORCE_IOC: _ClassVar[TimeInForce]
    TIME_IN_FORCE_FOK: _ClassVar[TimeInForce]
    TIME_IN_FORCE_DAY: _ClassVar[TimeInForce]

class SelfTradePrevention(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SELF_TRADE_PREVENTION_UNSPECIFIED: _ClassVar[SelfTradePrevention]
    SELF_TRADE_PREVENTION_CANCEL_RESTING: _ClassVar[SelfTradePrevention]
    SELF_TRADE_PREVENTION_CANCEL_INCOMING: _ClassVar[SelfTradePrevention]
    SELF_TRADE_PREVENTION_CANCEL_BOTH: _ClassVar[SelfTradePrevention]

class ViolationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VIOLATION_TYPE_UNSPECIFIED: _ClassVar[ViolationType]
    VIOLATION_TYPE_KILL_SWITCH_ACTIVE: _ClassVar[ViolationType]
    VIOLATION_TYPE_POSITION_LIMIT: _ClassVar[ViolationType]
    VIOLATION_TYPE_DAILY_VOLUME_LIMIT: _ClassVar[ViolationType]
    VIOLATION_TYPE_NET_EXPOSURE_LIMIT: _ClassVar[ViolationType]
    VIOLATION_TYPE_GROSS_EXPOSURE_LIMIT: _ClassVar[ViolationType]
    VIOLATION_TYPE_PRICE_BAND: _ClassVar[ViolationType]
    VIOLATION_TYPE_ORDER_VALUE_LIMIT: _ClassVar[ViolationType]
    VIOLATION_TYPE_ORDER_QUANTITY_LIMIT: _ClassVar[ViolationType]
    VIOLATION_TYPE_CREDIT_LIMIT: _ClassVar[ViolationType]
    VIOLATION_TYPE_DAILY_LOSS_LIMIT: _ClassVar[ViolationType]
    VIOLATION_TYPE_RESTRICTED_INSTRUMENT: _ClassVar[ViolationType]
    VIOLATION_TYPE_TRADING_HALTED: _ClassVar[ViolationType]
    VIOLATION_TYPE_REDUCE_ONLY: _ClassVar[ViolationType]
    VIOLATION_TYPE_DUPLICATE_ORDER: _ClassVar[ViolationType]

class ScopeLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCOPE_LEVEL_UNSPECIFIED: _ClassVar[ScopeLevel]
    SCOPE_LEVEL_FIRM: _ClassVar[ScopeLevel]
    SCOPE_LEVEL_DESK: _ClassVar[ScopeLevel]
    SCOPE_LEVEL_ACCOUNT: _ClassVar[ScopeLevel]
    SCOPE_LEVEL_TRADER: _ClassVar[ScopeLevel]
    SCOPE_LEVEL_INSTRUMENT: _ClassVar[ScopeLevel]

class TradingState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRADING_STATE_UNSPECIFIED: _ClassVar[TradingState]
    TRADING_STATE_ACTIVE: _ClassVar[TradingState]
    TRADING_STATE_REDUCING: _ClassVar[TradingState]
    TRADING_STATE_HALTED: _ClassVar[TradingState]

class InstrumentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INSTRUMENT_STATUS_UNSPECIFIED: _ClassVar[InstrumentStatus]
    INSTRUMENT_STATUS_ACTIVE: _ClassVar[InstrumentStatus]
    INSTRUMENT_STATUS_HALTED: _ClassVar[InstrumentStatus]
    INSTRUMENT_STATUS_CLOSED: _ClassVar[InstrumentStatus]
ROLE_UNSPECIFIED: Role
ROLE_TRADER: Role
ROLE_RISK_MANAGER: Role
ROLE_COMPLIANCE: Role
ROLE_ADMIN: Role
SIDE_UNSPECIFIED: Side
SIDE_BUY: Side
SIDE_SELL: Side
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_PENDING: OrderStatus
ORDER_STATUS_RISK_CHECK: OrderStatus
ORDER_STATUS_APPROVED: OrderStatus
ORDER_STATUS_EXECUTING: OrderStatus
ORDER_STATUS_EXECUTED: OrderStatus
ORDER_STATUS_REJECTED: OrderStatus
ORDER_STATUS_FAILED: OrderStatus
ORDER_STATUS_CANCELLED: OrderStatus
ORDER_STATUS_WORKING: OrderStatus
ORDER_STATUS_PARTIALLY_FILLED: OrderStatus
ORDER_STATUS_EXPIRED: OrderStatus
ORDER_STATUS_PENDING_CANCEL: OrderStatus
ORDER_STATUS_UNKNOWN: OrderStatus
ORDER_TYPE_UNSPECIFIED: OrderType
ORDER_TYPE_LIMIT: OrderType
ORDER_TYPE_MARKET: OrderType
TIME_IN_FORCE_UNSPECIFIED: TimeInForce
TIME_IN_FORCE_GTC: TimeInForce
TIME_IN_FORCE_IOC: TimeInForce
TIME_IN_FORCE_FOK: TimeInForce
TIME_IN_FORCE_DAY: TimeInForce
SELF_TRADE_PREVENTION_UNSPECIFIED: SelfTradePrevention
SELF_TRADE_PREVENTION_CANCEL_RESTING: SelfTradePrevention
SELF_TRADE_PREVENTION_CANCEL_INCOMING: SelfTradePrevention
SELF_TRADE_PREVENTION_CANCEL_BOTH: SelfTradePrevention
VIOLATION_TYPE_UNSPECIFIED: ViolationType
VIOLATION_TYPE_KILL_SWITCH_ACTIVE: ViolationType
VIOLATION_TYPE_POSITION_LIMIT: ViolationType
VIOLATION_TYPE_DAILY_VOLUME_LIMIT: ViolationType
VIOLATION_TYPE_NET_EXPOSURE_LIMIT: ViolationType
VIOLATION_TYPE_GROSS_EXPOSURE_LIMIT: ViolationType
VIOLATION_TYPE_PRICE_BAND: ViolationType
VIOLATION_TYPE_ORDER_VALUE_LIMIT: ViolationType
VIOLATION_TYPE_ORDER_QUANTITY_LIMIT: ViolationType
VIOLATION_TYPE_CREDIT_LIMIT: ViolationType
VIOLATION_TYPE_DAILY_LOSS_LIMIT: ViolationType
VIOLATION_TYPE_RESTRICTED_INSTRUMENT: ViolationType
VIOLATION_TYPE_TRADING_HALTED: ViolationType
VIOLATION_TYPE_REDUCE_ONLY: ViolationType
VIOLATION_TYPE_DUPLICATE_ORDER: ViolationType
SCOPE_LEVEL_UNSPECIFIED: ScopeLevel
SCOPE_LEVEL_FIRM: ScopeLevel
SCOPE_LEVEL_DESK: ScopeLevel
SCOPE_LEVEL_ACCOUNT: ScopeLevel
SCOPE_LEVEL_TRADER: ScopeLevel
SCOPE_LEVEL_INSTRUMENT: ScopeLevel
TRADING_STATE_UNSPECIFIED: TradingState
TRADING_STATE_ACTIVE: TradingState
TRADING_STATE_REDUCING: TradingState
TRADING_STATE_HALTED: TradingState
INSTRUMENT_STATUS_UNSPECIFIED: InstrumentStatus
INSTRUMENT_STATUS_ACTIVE: InstrumentStatus
INSTRUMENT_STATUS_HALTED: InstrumentStatus
INSTRUMENT_STATUS_CLOSED: InstrumentStatus

class RiskViolation(_message.Message):
    __slots__ = ("type", "limit", "projected", "message", "reference_price", "scope", "limit_name")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PROJECTED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_PRICE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_NAME_FIELD_NUMBER: _ClassVar[int]
    type: ViolationType
    limit: str
    projected: str
    message: str
    reference_price: str
    scope: str
    limit_name: str
    def __init__(self, type: _Optional[_Union[ViolationType, str]] = ..., limit: _Optional[str] = ..., projected: _Optional[str] = ..., message: _Optional[str] = ..., reference_price: _Optional[str] = ..., scope: _Optional[str] = ..., limit_name: _Optional[str] = ...) -> None: ...

class RiskScope(_message.Message):
    __slots__ = ("level", "id")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    level: ScopeLevel
    id: str
    def __init__(self, level: _Optional[_Union[ScopeLevel, str]] = ..., id: _Optional[str] = ...) -> None: ...

class Instrument(_message.Message):
    __slots__ = ("symbol", "name", "currency", "tick_size", "lot_size", "min_quantity", "max_quantity", "status", "price_band_percent", "reference_price", "updated_at", "updated_by", "price_band_ticks")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TICK_SIZE_FIELD_NUMBER: _ClassVar[int]
    LOT_SIZE_FIELD_NUMBER: _ClassVar[int]
    MIN_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    MAX_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PRICE_BAND_PERCENT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_PRICE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    PRICE_BAND_TICKS_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    name: str
    currency: str
    tick_size: str
    lot_size: int
    min_quantity: int
    max_quantity: int
    status: InstrumentStatus
    price_band_percent: str
    reference_price: str
    updated_at: _timestamp_pb2.Timestamp
    updated_by: str
    price_band_ticks: int
    def __init__(self, symbol: _Optional[str] = ..., name: _Optional[str] = ..., currency: _Optional[str] = ..., tick_size: _Optional[str] = ..., lot_size: _Optional[int] = ..., min_quantity: _Optional[int] = ..., max_quantity: _Optional[int] = ..., status: _Optional[_Union[InstrumentStatus, str]] = ..., price_band_percent: _Optional[str] = ..., reference_price: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ..., price_band_ticks: _Optional[int] = ...) -> None: ...

class Mark(_message.Message):
    __slots__ = ("symbol", "price", "bid", "ask", "source", "timestamp", "sequence")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    BID_FIELD_NUMBER: _ClassVar[int]
    ASK_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    price: str
    bid: str
    ask: str
    source: str
    timestamp: _timestamp_pb2.Timestamp
    sequence: int
    def __init__(self, symbol: _Optional[str] = ..., price: _Optional[str] = ..., bid: _Optional[str] = ..., ask: _Optional[str] = ..., source: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...

class StreamHeartbeat(_message.Message):
    __slots__ = ("timestamp", "head_sequence")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    HEAD_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    head_sequence: int
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., head_sequence: _Optional[int] = ...) -> None: ...

class StreamCaughtUp(_message.Message):
    __slots__ = ("sequence",)
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    def __init__(self, sequence: _Optional[int] = ...) -> None: ...
