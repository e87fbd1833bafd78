import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from itirp.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RiskLimits(_message.Message):
    __slots__ = ("max_position_size", "max_daily_volume", "max_net_exposure", "max_gross_exposure", "kill_switch_enabled", "updated_at", "updated_by")
    MAX_POSITION_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_DAILY_VOLUME_FIELD_NUMBER: _ClassVar[int]
    MAX_NET_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    MAX_GROSS_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    KILL_SWITCH_ENABLED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    max_position_size: str
    max_daily_volume: str
    max_net_exposure: str
    max_gross_exposure: str
    kill_switch_enabled: bool
    updated_at: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, max_position_size: _Optional[str] = ..., max_daily_volume: _Optional[str] = ..., max_net_exposure: _Optional[str] = ..., max_gross_exposure: _Optional[str] = ..., kill_switch_enabled: _Optional[bool] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class RiskMetrics(_message.Message):
    __slots__ = ("net_exposure", "gross_exposure", "daily_volume", "total_positions", "largest_position", "kill_switch_active", "working_exposure", "trading_day", "timestamp", "marks")
    NET_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    GROSS_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    DAILY_VOLUME_FIELD_NUMBER: _ClassVar[int]
    TOTAL_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    LARGEST_POSITION_FIELD_NUMBER: _ClassVar[int]
    KILL_SWITCH_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    WORKING_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    TRADING_DAY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    MARKS_FIELD_NUMBER: _ClassVar[int]
    net_exposure: str
    gross_exposure: str
    daily_volume: str
    total_positions: int
    largest_position: str
    kill_switch_active: bool
    working_exposure: str
    trading_day: str
    timestamp: _timestamp_pb2.Timestamp
    marks: _containers.RepeatedCompositeFieldContainer[_common_pb2.Mark]
    def __init__(self, net_exposure: _Optional[str] = ..., gross_exposure: _Optional[str] = ..., daily_volume: _Optional[str] = ..., total_positions: _Optional[int] = ..., largest_position: _Optional[str] = ..., kill_switch_active: _Optional[bool] = ..., working_exposure: _Optional[str] = ..., trading_day: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., marks: _Optional[_Iterable[_Union[_common_pb2.Mark, _Mapping]]] = ...) -> None: ...

class Position(_message.Message):
    __slots__ = ("symbol", "quantity", "average_price", "last_price", "market_value", "realized_pnl", "unrealized_pnl", "updated_at", "mark")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_PRICE_FIELD_NUMBER: _ClassVar[int]
    LAST_PRICE_FIELD_NUMBER: _ClassVar[int]
    MARKET_VALUE_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    MARK_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    quantity: int
    average_price: str
    last_price: str
    market_value: str
    realized_pnl: str
    unrealized_pnl: str
    updated_at: _timestamp_pb2.Timestamp
    mark: _common_pb2.Mark
    def __init__(self, symbol: _Optional[str] = ..., quantity: _Optional[int] = ..., average_price: _Optional[str] = ..., last_price: _Optional[str] = ..., market_value: _Optional[str] = ..., realized_pnl: _Optional[str] = ..., unrealized_pnl: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., mark: _Optional[_Union[_common_pb2.Mark, _Mapping]] = ...) -> None: ...

class GetRiskMetricsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetRiskMetricsResponse(_message.Message):
    __slots__ = ("metrics",)
    METRICS_FIELD_NUMBER: _ClassVar[int]
    metrics: RiskMetrics
    def __init__(self, metrics: _Optional[_Union[RiskMetrics, _Mapping]] = ...) -> None: ...

class GetRiskLimitsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetRiskLimitsResponse(_message.Message):
    __slots__ = ("limits",)
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    limits: RiskLimits
    def __init__(self, limits: _Optional[_Union[RiskLimits, _Mapping]] = ...) -> None: ...

class UpdateRiskLimitsRequest(_message.Message):
    __slots__ = ("max_position_size", "max_daily_volume", "max_net_exposure", "max_gross_exposure", "reason")
    MAX_POSITION_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_DAILY_VOLUME_FIELD_NUMBER: _ClassVar[int]
    MAX_NET_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    MAX_GROSS_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    max_position_size: str
    max_daily_volume: str
    max_net_exposure: str
    max_gross_exposure: str
    reason: str
    def __init__(self, max_position_size: _Optional[str] = ..., max_daily_volume: _Optional[str] = ..., max_net_exposure: _Optional[str] = ..., max_gross_exposure: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class UpdateRiskLimitsResponse(_message.Message):
    __slots__ = ("limits", "previous_limits")
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_LIMITS_FIELD_NUMBER: _ClassVar[int]
    limits: RiskLimits
    previous_limits: RiskLimits
    def __init__(self, limits: _Optional[_Union[RiskLimits, _Mapping]] = ..., previous_limits: _Optional[_Union[RiskLimits, _Mapping]] = ...) -> None: ...

class SetKillSwitchRequest(_message.Message):
    __slots__ = ("enabled", "reason")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    reason: str
    def __init__(self, enabled: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class SetKillSwitchResponse(_message.Message):
    __slots__ = ("kill_switch_active", "changed", "reason", "set_by", "timestamp")
    KILL_SWITCH_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SET_BY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    kill_switch_active: bool
    changed: bool
    reason: str
    set_by: str
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, kill_switch_active: _Optional[bool] = ..., changed: _Optional[bool] = ..., reason: _Optional[str] = ..., set_by: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListPositionsRequest(_message.Message):
    __slots__ = ("symbol",)
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    def __init__(self, symbol: _Optional[str] = ...) -> None: ...

class ListPositionsResponse(_message.Message):
    __slots__ = ("positions", "total_realized_pnl", "total_unrealized_pnl")
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[Position]
    total_realized_pnl: str
    total_unrealized_pnl: str
    def __init__(self, positions: _Optional[_Iterable[_Union[Position, _Mapping]]] = ..., total_realized_pnl: _Optional[str] = ..., total_unrealized_pnl: _Optional[str] = ...) -> None: ...
