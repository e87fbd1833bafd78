import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from itirp.v1 import common_pb2 as _common_pb2
from itirp.v1 import order_pb2 as _order_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Restriction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESTRICTION_UNSPECIFIED: _ClassVar[Restriction]
    RESTRICTION_NONE: _ClassVar[Restriction]
    RESTRICTION_NO_TRADING: _ClassVar[Restriction]
    RESTRICTION_SELL_ONLY: _ClassVar[Restriction]
RESTRICTION_UNSPECIFIED: Restriction
RESTRICTION_NONE: Restriction
RESTRICTION_NO_TRADING: Restriction
RESTRICTION_SELL_ONLY: Restriction

class RiskLimits(_message.Message):
    __slots__ = ("max_position_size", "max_daily_volume", "max_net_exposure", "max_gross_exposure", "kill_switch_enabled", "updated_at", "updated_by", "max_order_value", "max_order_quantity", "credit_limit", "daily_loss_limit", "scope", "symbol")
    MAX_POSITION_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_DAILY_VOLUME_FIELD_NUMBER: _ClassVar[int]
    MAX_NET_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    MAX_GROSS_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    KILL_SWITCH_ENABLED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    MAX_ORDER_VALUE_FIELD_NUMBER: _ClassVar[int]
    MAX_ORDER_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    DAILY_LOSS_LIMIT_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    max_position_size: str
    max_daily_volume: str
    max_net_exposure: str
    max_gross_exposure: str
    kill_switch_enabled: bool
    updated_at: _timestamp_pb2.Timestamp
    updated_by: str
    max_order_value: str
    max_order_quantity: str
    credit_limit: str
    daily_loss_limit: str
    scope: _common_pb2.RiskScope
    symbol: str
    def __init__(self, max_position_size: _Optional[str] = ..., max_daily_volume: _Optional[str] = ..., max_net_exposure: _Optional[str] = ..., max_gross_exposure: _Optional[str] = ..., kill_switch_enabled: _Optional[bool] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ..., max_order_value: _Optional[str] = ..., max_order_quantity: _Optional[str] = ..., credit_limit: _Optional[str] = ..., daily_loss_limit: _Optional[str] = ..., scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., symbol: _Optional[str] = ...) -> None: ...

class RiskMetrics(_message.Message):
    __slots__ = ("net_exposure", "gross_exposure", "daily_volume", "total_positions", "largest_position", "kill_switch_active", "working_exposure", "trading_day", "timestamp", "marks", "scope", "credit_used", "daily_pnl", "trading_state")
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
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    CREDIT_USED_FIELD_NUMBER: _ClassVar[int]
    DAILY_PNL_FIELD_NUMBER: _ClassVar[int]
    TRADING_STATE_FIELD_NUMBER: _ClassVar[int]
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
    scope: _common_pb2.RiskScope
    credit_used: str
    daily_pnl: str
    trading_state: _common_pb2.TradingState
    def __init__(self, net_exposure: _Optional[str] = ..., gross_exposure: _Optional[str] = ..., daily_volume: _Optional[str] = ..., total_positions: _Optional[int] = ..., largest_position: _Optional[str] = ..., kill_switch_active: _Optional[bool] = ..., working_exposure: _Optional[str] = ..., trading_day: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., marks: _Optional[_Iterable[_Union[_common_pb2.Mark, _Mapping]]] = ..., scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., credit_used: _Optional[str] = ..., daily_pnl: _Optional[str] = ..., trading_state: _Optional[_Union[_common_pb2.TradingState, str]] = ...) -> None: ...

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
    __slots__ = ("scope",)
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    scope: _common_pb2.RiskScope
    def __init__(self, scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ...) -> None: ...

class GetRiskMetricsResponse(_message.Message):
    __slots__ = ("metrics",)
    METRICS_FIELD_NUMBER: _ClassVar[int]
    metrics: RiskMetrics
    def __init__(self, metrics: _Optional[_Union[RiskMetrics, _Mapping]] = ...) -> None: ...

class GetRiskLimitsRequest(_message.Message):
    __slots__ = ("scope", "symbol")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    scope: _common_pb2.RiskScope
    symbol: str
    def __init__(self, scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., symbol: _Optional[str] = ...) -> None: ...

class GetRiskLimitsResponse(_message.Message):
    __slots__ = ("limits",)
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    limits: RiskLimits
    def __init__(self, limits: _Optional[_Union[RiskLimits, _Mapping]] = ...) -> None: ...

class UpdateRiskLimitsRequest(_message.Message):
    __slots__ = ("max_position_size", "max_daily_volume", "max_net_exposure", "max_gross_exposure", "reason", "max_order_value", "max_order_quantity", "credit_limit", "daily_loss_limit", "scope", "symbol", "clear")
    MAX_POSITION_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_DAILY_VOLUME_FIELD_NUMBER: _ClassVar[int]
    MAX_NET_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    MAX_GROSS_EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MAX_ORDER_VALUE_FIELD_NUMBER: _ClassVar[int]
    MAX_ORDER_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    CREDIT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    DAILY_LOSS_LIMIT_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    CLEAR_FIELD_NUMBER: _ClassVar[int]
    max_position_size: str
    max_daily_volume: str
    max_net_exposure: str
    max_gross_exposure: str
    reason: str
    max_order_value: str
    max_order_quantity: str
    credit_limit: str
    daily_loss_limit: str
    scope: _common_pb2.RiskScope
    symbol: str
    clear: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, max_position_size: _Optional[str] = ..., max_daily_volume: _Optional[str] = ..., max_net_exposure: _Optional[str] = ..., max_gross_exposure: _Optional[str] = ..., reason: _Optional[str] = ..., max_order_value: _Optional[str] = ..., max_order_quantity: _Optional[str] = ..., credit_limit: _Optional[str] = ..., daily_loss_limit: _Optional[str] = ..., scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., symbol: _Optional[str] = ..., clear: _Optional[_Iterable[str]] = ...) -> None: ...

class UpdateRiskLimitsResponse(_message.Message):
    __slots__ = ("limits", "previous_limits")
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_LIMITS_FIELD_NUMBER: _ClassVar[int]
    limits: RiskLimits
    previous_limits: RiskLimits
    def __init__(self, limits: _Optional[_Union[RiskLimits, _Mapping]] = ..., previous_limits: _Optional[_Union[RiskLimits, _Mapping]] = ...) -> None: ...

class SetKillSwitchRequest(_message.Message):
    __slots__ = ("enabled", "reason", "scope", "cancel_working")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_WORKING_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    reason: str
    scope: _common_pb2.RiskScope
    cancel_working: bool
    def __init__(self, enabled: _Optional[bool] = ..., reason: _Optional[str] = ..., scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., cancel_working: _Optional[bool] = ...) -> None: ...

class SetKillSwitchResponse(_message.Message):
    __slots__ = ("kill_switch_active", "changed", "reason", "set_by", "timestamp", "scope", "cancelled_order_ids")
    KILL_SWITCH_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SET_BY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    kill_switch_active: bool
    changed: bool
    reason: str
    set_by: str
    timestamp: _timestamp_pb2.Timestamp
    scope: _common_pb2.RiskScope
    cancelled_order_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, kill_switch_active: _Optional[bool] = ..., changed: _Optional[bool] = ..., reason: _Optional[str] = ..., set_by: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., cancelled_order_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListPositionsRequest(_message.Message):
    __slots__ = ("symbol", "scope")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    scope: _common_pb2.RiskScope
    def __init__(self, symbol: _Optional[str] = ..., scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ...) -> None: ...

class ListPositionsResponse(_message.Message):
    __slots__ = ("positions", "total_realized_pnl", "total_unrealized_pnl", "scope")
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_REALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    TOTAL_UNREALIZED_PNL_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[Position]
    total_realized_pnl: str
    total_unrealized_pnl: str
    scope: _common_pb2.RiskScope
    def __init__(self, positions: _Optional[_Iterable[_Union[Position, _Mapping]]] = ..., total_realized_pnl: _Optional[str] = ..., total_unrealized_pnl: _Optional[str] = ..., scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ...) -> None: ...

class SetTradingStateRequest(_message.Message):
    __slots__ = ("scope", "state", "reason")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    scope: _common_pb2.RiskScope
    state: _common_pb2.TradingState
    reason: str
    def __init__(self, scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., state: _Optional[_Union[_common_pb2.TradingState, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class SetTradingStateResponse(_message.Message):
    __slots__ = ("scope", "state", "previous_state", "changed")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATE_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    scope: _common_pb2.RiskScope
    state: _common_pb2.TradingState
    previous_state: _common_pb2.TradingState
    changed: bool
    def __init__(self, scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., state: _Optional[_Union[_common_pb2.TradingState, str]] = ..., previous_state: _Optional[_Union[_common_pb2.TradingState, str]] = ..., changed: _Optional[bool] = ...) -> None: ...

class SetRestrictionRequest(_message.Message):
    __slots__ = ("scope", "symbol", "restriction", "reason")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    RESTRICTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    scope: _common_pb2.RiskScope
    symbol: str
    restriction: Restriction
    reason: str
    def __init__(self, scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., symbol: _Optional[str] = ..., restriction: _Optional[_Union[Restriction, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class SetRestrictionResponse(_message.Message):
    __slots__ = ("scope", "symbol", "restriction", "previous_restriction", "changed")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    RESTRICTION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_RESTRICTION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    scope: _common_pb2.RiskScope
    symbol: str
    restriction: Restriction
    previous_restriction: Restriction
    changed: bool
    def __init__(self, scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., symbol: _Optional[str] = ..., restriction: _Optional[_Union[Restriction, str]] = ..., previous_restriction: _Optional[_Union[Restriction, str]] = ..., changed: _Optional[bool] = ...) -> None: ...

class RestrictedInstrument(_message.Message):
    __slots__ = ("scope", "symbol", "restriction", "reason", "set_by", "set_at")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    RESTRICTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SET_BY_FIELD_NUMBER: _ClassVar[int]
    SET_AT_FIELD_NUMBER: _ClassVar[int]
    scope: _common_pb2.RiskScope
    symbol: str
    restriction: Restriction
    reason: str
    set_by: str
    set_at: _timestamp_pb2.Timestamp
    def __init__(self, scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., symbol: _Optional[str] = ..., restriction: _Optional[_Union[Restriction, str]] = ..., reason: _Optional[str] = ..., set_by: _Optional[str] = ..., set_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ScopeControl(_message.Message):
    __slots__ = ("scope", "trading_state", "kill_switch_active", "reason", "set_by", "set_at")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    TRADING_STATE_FIELD_NUMBER: _ClassVar[int]
    KILL_SWITCH_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SET_BY_FIELD_NUMBER: _ClassVar[int]
    SET_AT_FIELD_NUMBER: _ClassVar[int]
    scope: _common_pb2.RiskScope
    trading_state: _common_pb2.TradingState
    kill_switch_active: bool
    reason: str
    set_by: str
    set_at: _timestamp_pb2.Timestamp
    def __init__(self, scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., trading_state: _Optional[_Union[_common_pb2.TradingState, str]] = ..., kill_switch_active: _Optional[bool] = ..., reason: _Optional[str] = ..., set_by: _Optional[str] = ..., set_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListControlsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListControlsResponse(_message.Message):
    __slots__ = ("controls", "restrictions", "limits")
    CONTROLS_FIELD_NUMBER: _ClassVar[int]
    RESTRICTIONS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    controls: _containers.RepeatedCompositeFieldContainer[ScopeControl]
    restrictions: _containers.RepeatedCompositeFieldContainer[RestrictedInstrument]
    limits: _containers.RepeatedCompositeFieldContainer[RiskLimits]
    def __init__(self, controls: _Optional[_Iterable[_Union[ScopeControl, _Mapping]]] = ..., restrictions: _Optional[_Iterable[_Union[RestrictedInstrument, _Mapping]]] = ..., limits: _Optional[_Iterable[_Union[RiskLimits, _Mapping]]] = ...) -> None: ...

class ReleaseOrderRequest(_message.Message):
    __slots__ = ("order_id", "reason")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    reason: str
    def __init__(self, order_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ReleaseOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ...) -> None: ...
