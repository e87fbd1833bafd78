import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from itirp.v1 import account_pb2 as _account_pb2
from itirp.v1 import common_pb2 as _common_pb2
from itirp.v1 import risk_pb2 as _risk_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_ORDER_CREATED: _ClassVar[EventType]
    EVENT_TYPE_RISK_CHECK_STARTED: _ClassVar[EventType]
    EVENT_TYPE_RISK_CHECK_PASSED: _ClassVar[EventType]
    EVENT_TYPE_RISK_CHECK_FAILED: _ClassVar[EventType]
    EVENT_TYPE_EXECUTION_STARTED: _ClassVar[EventType]
    EVENT_TYPE_EXECUTION_COMPLETED: _ClassVar[EventType]
    EVENT_TYPE_EXECUTION_FAILED: _ClassVar[EventType]
    EVENT_TYPE_EXECUTION_RETRIED: _ClassVar[EventType]
    EVENT_TYPE_ORDER_CANCELLED: _ClassVar[EventType]
    EVENT_TYPE_CIRCUIT_BREAKER_OPENED: _ClassVar[EventType]
    EVENT_TYPE_CIRCUIT_BREAKER_HALF_OPENED: _ClassVar[EventType]
    EVENT_TYPE_CIRCUIT_BREAKER_CLOSED: _ClassVar[EventType]
    EVENT_TYPE_RISK_LIMITS_UPDATED: _ClassVar[EventType]
    EVENT_TYPE_KILL_SWITCH_ACTIVATED: _ClassVar[EventType]
    EVENT_TYPE_KILL_SWITCH_DEACTIVATED: _ClassVar[EventType]
    EVENT_TYPE_DAILY_VOLUME_RESET: _ClassVar[EventType]
    EVENT_TYPE_USER_LOGGED_IN: _ClassVar[EventType]
    EVENT_TYPE_LOGIN_FAILED: _ClassVar[EventType]
    EVENT_TYPE_TOKEN_REVOKED: _ClassVar[EventType]
    EVENT_TYPE_USER_CREATED: _ClassVar[EventType]
    EVENT_TYPE_USER_DISABLED: _ClassVar[EventType]
    EVENT_TYPE_ORDER_ACCEPTED: _ClassVar[EventType]
    EVENT_TYPE_ORDER_FILLED: _ClassVar[EventType]
    EVENT_TYPE_ORDER_AMENDED: _ClassVar[EventType]
    EVENT_TYPE_ORDER_EXPIRED: _ClassVar[EventType]
    EVENT_TYPE_INSTRUMENT_UPSERTED: _ClassVar[EventType]
    EVENT_TYPE_INSTRUMENT_STATUS_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_MARK_RECORDED: _ClassVar[EventType]
    EVENT_TYPE_ORDER_CANCEL_REQUESTED: _ClassVar[EventType]
    EVENT_TYPE_ORDER_STATUS_UNKNOWN: _ClassVar[EventType]
    EVENT_TYPE_AUDIT_CHECKPOINT_SIGNED: _ClassVar[EventType]
    EVENT_TYPE_USER_ENABLED: _ClassVar[EventType]
    EVENT_TYPE_USER_ROLE_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_PASSWORD_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_USER_UNLOCKED: _ClassVar[EventType]
    EVENT_TYPE_DESK_UPSERTED: _ClassVar[EventType]
    EVENT_TYPE_ACCOUNT_UPSERTED: _ClassVar[EventType]
    EVENT_TYPE_TRADER_ENTITLED: _ClassVar[EventType]
    EVENT_TYPE_TRADING_STATE_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_RESTRICTION_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_ORDER_RELEASED: _ClassVar[EventType]
    EVENT_TYPE_SESSION_OPENED: _ClassVar[EventType]
    EVENT_TYPE_SESSION_CLOSED: _ClassVar[EventType]
    EVENT_TYPE_MASS_CANCEL_REQUESTED: _ClassVar[EventType]
    EVENT_TYPE_LEADER_ELECTED: _ClassVar[EventType]
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_ORDER_CREATED: EventType
EVENT_TYPE_RISK_CHECK_STARTED: EventType
EVENT_TYPE_RISK_CHECK_PASSED: EventType
EVENT_TYPE_RISK_CHECK_FAILED: EventType
EVENT_TYPE_EXECUTION_STARTED: EventType
EVENT_TYPE_EXECUTION_COMPLETED: EventType
EVENT_TYPE_EXECUTION_FAILED: EventType
EVENT_TYPE_EXECUTION_RETRIED: EventType
EVENT_TYPE_ORDER_CANCELLED: EventType
EVENT_TYPE_CIRCUIT_BREAKER_OPENED: EventType
EVENT_TYPE_CIRCUIT_BREAKER_HALF_OPENED: EventType
EVENT_TYPE_CIRCUIT_BREAKER_CLOSED: EventType
EVENT_TYPE_RISK_LIMITS_UPDATED: EventType
EVENT_TYPE_KILL_SWITCH_ACTIVATED: EventType
EVENT_TYPE_KILL_SWITCH_DEACTIVATED: EventType
EVENT_TYPE_DAILY_VOLUME_RESET: EventType
EVENT_TYPE_USER_LOGGED_IN: EventType
EVENT_TYPE_LOGIN_FAILED: EventType
EVENT_TYPE_TOKEN_REVOKED: EventType
EVENT_TYPE_USER_CREATED: EventType
EVENT_TYPE_USER_DISABLED: EventType
EVENT_TYPE_ORDER_ACCEPTED: EventType
EVENT_TYPE_ORDER_FILLED: EventType
EVENT_TYPE_ORDER_AMENDED: EventType
EVENT_TYPE_ORDER_EXPIRED: EventType
EVENT_TYPE_INSTRUMENT_UPSERTED: EventType
EVENT_TYPE_INSTRUMENT_STATUS_CHANGED: EventType
EVENT_TYPE_MARK_RECORDED: EventType
EVENT_TYPE_ORDER_CANCEL_REQUESTED: EventType
EVENT_TYPE_ORDER_STATUS_UNKNOWN: EventType
EVENT_TYPE_AUDIT_CHECKPOINT_SIGNED: EventType
EVENT_TYPE_USER_ENABLED: EventType
EVENT_TYPE_USER_ROLE_CHANGED: EventType
EVENT_TYPE_PASSWORD_CHANGED: EventType
EVENT_TYPE_USER_UNLOCKED: EventType
EVENT_TYPE_DESK_UPSERTED: EventType
EVENT_TYPE_ACCOUNT_UPSERTED: EventType
EVENT_TYPE_TRADER_ENTITLED: EventType
EVENT_TYPE_TRADING_STATE_CHANGED: EventType
EVENT_TYPE_RESTRICTION_CHANGED: EventType
EVENT_TYPE_ORDER_RELEASED: EventType
EVENT_TYPE_SESSION_OPENED: EventType
EVENT_TYPE_SESSION_CLOSED: EventType
EVENT_TYPE_MASS_CANCEL_REQUESTED: EventType
EVENT_TYPE_LEADER_ELECTED: EventType

class Event(_message.Message):
    __slots__ = ("sequence", "event_id", "event_type", "correlation_id", "causation_id", "order_id", "user_id", "timestamp", "symbol", "schema_version", "prev_hash", "hash", "order_created", "risk_check_started", "risk_check_passed", "risk_check_failed", "execution_started", "execution_completed", "execution_failed", "execution_retried", "order_cancelled", "circuit_breaker_opened", "circuit_breaker_half_opened", "circuit_breaker_closed", "risk_limits_updated", "kill_switch_activated", "kill_switch_deactivated", "daily_volume_reset", "user_logged_in", "login_failed", "token_revoked", "user_created", "user_disabled", "order_accepted", "order_filled", "order_amended", "order_expired", "instrument_upserted", "instrument_status_changed", "mark_recorded", "order_cancel_requested", "order_status_unknown", "audit_checkpoint_signed", "user_enabled", "user_role_changed", "password_changed", "user_unlocked", "desk_upserted", "account_upserted", "trader_entitled", "trading_state_changed", "restriction_changed", "order_released", "session_opened", "session_closed", "mass_cancel_requested", "leader_elected")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    CAUSATION_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    ORDER_CREATED_FIELD_NUMBER: _ClassVar[int]
    RISK_CHECK_STARTED_FIELD_NUMBER: _ClassVar[int]
    RISK_CHECK_PASSED_FIELD_NUMBER: _ClassVar[int]
    RISK_CHECK_FAILED_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_STARTED_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_FAILED_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_RETRIED_FIELD_NUMBER: _ClassVar[int]
    ORDER_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_BREAKER_OPENED_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_BREAKER_HALF_OPENED_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_BREAKER_CLOSED_FIELD_NUMBER: _ClassVar[int]
    RISK_LIMITS_UPDATED_FIELD_NUMBER: _ClassVar[int]
    KILL_SWITCH_ACTIVATED_FIELD_NUMBER: _ClassVar[int]
    KILL_SWITCH_DEACTIVATED_FIELD_NUMBER: _ClassVar[int]
    DAILY_VOLUME_RESET_FIELD_NUMBER: _ClassVar[int]
    USER_LOGGED_IN_FIELD_NUMBER: _ClassVar[int]
    LOGIN_FAILED_FIELD_NUMBER: _ClassVar[int]
    TOKEN_REVOKED_FIELD_NUMBER: _ClassVar[int]
    USER_CREATED_FIELD_NUMBER: _ClassVar[int]
    USER_DISABLED_FIELD_NUMBER: _ClassVar[int]
    ORDER_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    ORDER_FILLED_FIELD_NUMBER: _ClassVar[int]
    ORDER_AMENDED_FIELD_NUMBER: _ClassVar[int]
    ORDER_EXPIRED_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_UPSERTED_FIELD_NUMBER: _ClassVar[int]
    INSTRUMENT_STATUS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    MARK_RECORDED_FIELD_NUMBER: _ClassVar[int]
    ORDER_CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    ORDER_STATUS_UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    AUDIT_CHECKPOINT_SIGNED_FIELD_NUMBER: _ClassVar[int]
    USER_ENABLED_FIELD_NUMBER: _ClassVar[int]
    USER_ROLE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_CHANGED_FIELD_NUMBER: _ClassVar[int]
    USER_UNLOCKED_FIELD_NUMBER: _ClassVar[int]
    DESK_UPSERTED_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_UPSERTED_FIELD_NUMBER: _ClassVar[int]
    TRADER_ENTITLED_FIELD_NUMBER: _ClassVar[int]
    TRADING_STATE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    RESTRICTION_CHANGED_FIELD_NUMBER: _ClassVar[int]
    ORDER_RELEASED_FIELD_NUMBER: _ClassVar[int]
    SESSION_OPENED_FIELD_NUMBER: _ClassVar[int]
    SESSION_CLOSED_FIELD_NUMBER: _ClassVar[int]
    MASS_CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    LEADER_ELECTED_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    event_id: str
    event_type: EventType
    correlation_id: str
    causation_id: str
    order_id: str
    user_id: str
    timestamp: _timestamp_pb2.Timestamp
    symbol: str
    schema_version: int
    prev_hash: str
    hash: str
    order_created: OrderCreated
    risk_check_started: RiskCheckStarted
    risk_check_passed: RiskCheckPassed
    risk_check_failed: RiskCheckFailed
    execution_started: ExecutionStarted
    execution_completed: ExecutionCompleted
    execution_failed: ExecutionFailed
    execution_retried: ExecutionRetried
    order_cancelled: OrderCancelled
    circuit_breaker_opened: CircuitBreakerOpened
    circuit_breaker_half_opened: CircuitBreakerHalfOpened
    circuit_breaker_closed: CircuitBreakerClosed
    risk_limits_updated: RiskLimitsUpdated
    kill_switch_activated: KillSwitchActivated
    kill_switch_deactivated: KillSwitchDeactivated
    daily_volume_reset: DailyVolumeReset
    user_logged_in: UserLoggedIn
    login_failed: LoginFailed
    token_revoked: TokenRevoked
    user_created: UserCreated
    user_disabled: UserDisabled
    order_accepted: OrderAccepted
    order_filled: OrderFilled
    order_amended: OrderAmended
    order_expired: OrderExpired
    instrument_upserted: InstrumentUpserted
    instrument_status_changed: InstrumentStatusChanged
    mark_recorded: MarkRecorded
    order_cancel_requested: OrderCancelRequested
    order_status_unknown: OrderStatusUnknown
    audit_checkpoint_signed: AuditCheckpointSigned
    user_enabled: UserEnabled
    user_role_changed: UserRoleChanged
    password_changed: PasswordChanged
    user_unlocked: UserUnlocked
    desk_upserted: DeskUpserted
    account_upserted: AccountUpserted
    trader_entitled: TraderEntitled
    trading_state_changed: TradingStateChanged
    restriction_changed: RestrictionChanged
    order_released: OrderReleased
    session_opened: SessionOpened
    session_closed: SessionClosed
    mass_cancel_requested: MassCancelRequested
    leader_elected: LeaderElected
    def __init__(self, sequence: _Optional[int] = ..., event_id: _Optional[str] = ..., event_type: _Optional[_Union[EventType, str]] = ..., correlation_id: _Optional[str] = ..., causation_id: _Optional[str] = ..., order_id: _Optional[str] = ..., user_id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., symbol: _Optional[str] = ..., schema_version: _Optional[int] = ..., prev_hash: _Optional[str] = ..., hash: _Optional[str] = ..., order_created: _Optional[_Union[OrderCreated, _Mapping]] = ..., risk_check_started: _Optional[_Union[RiskCheckStarted, _Mapping]] = ..., risk_check_passed: _Optional[_Union[RiskCheckPassed, _Mapping]] = ..., risk_check_failed: _Optional[_Union[RiskCheckFailed, _Mapping]] = ..., execution_started: _Optional[_Union[ExecutionStarted, _Mapping]] = ..., execution_completed: _Optional[_Union[ExecutionCompleted, _Mapping]] = ..., execution_failed: _Optional[_Union[ExecutionFailed, _Mapping]] = ..., execution_retried: _Optional[_Union[ExecutionRetried, _Mapping]] = ..., order_cancelled: _Optional[_Union[OrderCancelled, _Mapping]] = ..., circuit_breaker_opened: _Optional[_Union[CircuitBreakerOpened, _Mapping]] = ..., circuit_breaker_half_opened: _Optional[_Union[CircuitBreakerHalfOpened, _Mapping]] = ..., circuit_breaker_closed: _Optional[_Union[CircuitBreakerClosed, _Mapping]] = ..., risk_limits_updated: _Optional[_Union[RiskLimitsUpdated, _Mapping]] = ..., kill_switch_activated: _Optional[_Union[KillSwitchActivated, _Mapping]] = ..., kill_switch_deactivated: _Optional[_Union[KillSwitchDeactivated, _Mapping]] = ..., daily_volume_reset: _Optional[_Union[DailyVolumeReset, _Mapping]] = ..., user_logged_in: _Optional[_Union[UserLoggedIn, _Mapping]] = ..., login_failed: _Optional[_Union[LoginFailed, _Mapping]] = ..., token_revoked: _Optional[_Union[TokenRevoked, _Mapping]] = ..., user_created: _Optional[_Union[UserCreated, _Mapping]] = ..., user_disabled: _Optional[_Union[UserDisabled, _Mapping]] = ..., order_accepted: _Optional[_Union[OrderAccepted, _Mapping]] = ..., order_filled: _Optional[_Union[OrderFilled, _Mapping]] = ..., order_amended: _Optional[_Union[OrderAmended, _Mapping]] = ..., order_expired: _Optional[_Union[OrderExpired, _Mapping]] = ..., instrument_upserted: _Optional[_Union[InstrumentUpserted, _Mapping]] = ..., instrument_status_changed: _Optional[_Union[InstrumentStatusChanged, _Mapping]] = ..., mark_recorded: _Optional[_Union[MarkRecorded, _Mapping]] = ..., order_cancel_requested: _Optional[_Union[OrderCancelRequested, _Mapping]] = ..., order_status_unknown: _Optional[_Union[OrderStatusUnknown, _Mapping]] = ..., audit_checkpoint_signed: _Optional[_Union[AuditCheckpointSigned, _Mapping]] = ..., user_enabled: _Optional[_Union[UserEnabled, _Mapping]] = ..., user_role_changed: _Optional[_Union[UserRoleChanged, _Mapping]] = ..., password_changed: _Optional[_Union[PasswordChanged, _Mapping]] = ..., user_unlocked: _Optional[_Union[UserUnlocked, _Mapping]] = ..., desk_upserted: _Optional[_Union[DeskUpserted, _Mapping]] = ..., account_upserted: _Optional[_Union[AccountUpserted, _Mapping]] = ..., trader_entitled: _Optional[_Union[TraderEntitled, _Mapping]] = ..., trading_state_changed: _Optional[_Union[TradingStateChanged, _Mapping]] = ..., restriction_changed: _Optional[_Union[RestrictionChanged, _Mapping]] = ..., order_released: _Optional[_Union[OrderReleased, _Mapping]] = ..., session_opened: _Optional[_Union[SessionOpened, _Mapping]] = ..., session_closed: _Optional[_Union[SessionClosed, _Mapping]] = ..., mass_cancel_requested: _Optional[_Union[MassCancelRequested, _Mapping]] = ..., leader_elected: _Optional[_Union[LeaderElected, _Mapping]] = ...) -> None: ...

class OrderCreated(_message.Message):
    __slots__ = ("client_order_id", "username", "symbol", "side", "quantity", "price", "strategy", "order_type", "time_in_force", "self_trade_prevention", "account", "desk", "intended_duplicate", "session_id")
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    SELF_TRADE_PREVENTION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    DESK_FIELD_NUMBER: _ClassVar[int]
    INTENDED_DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    client_order_id: str
    username: str
    symbol: str
    side: _common_pb2.Side
    quantity: int
    price: str
    strategy: str
    order_type: _common_pb2.OrderType
    time_in_force: _common_pb2.TimeInForce
    self_trade_prevention: _common_pb2.SelfTradePrevention
    account: str
    desk: str
    intended_duplicate: bool
    session_id: str
    def __init__(self, client_order_id: _Optional[str] = ..., username: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., quantity: _Optional[int] = ..., price: _Optional[str] = ..., strategy: _Optional[str] = ..., order_type: _Optional[_Union[_common_pb2.OrderType, str]] = ..., time_in_force: _Optional[_Union[_common_pb2.TimeInForce, str]] = ..., self_trade_prevention: _Optional[_Union[_common_pb2.SelfTradePrevention, str]] = ..., account: _Optional[str] = ..., desk: _Optional[str] = ..., intended_duplicate: _Optional[bool] = ..., session_id: _Optional[str] = ...) -> None: ...

class RiskCheckStarted(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RiskCheckPassed(_message.Message):
    __slots__ = ("reserved_notional", "reserved_price")
    RESERVED_NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    RESERVED_PRICE_FIELD_NUMBER: _ClassVar[int]
    reserved_notional: str
    reserved_price: str
    def __init__(self, reserved_notional: _Optional[str] = ..., reserved_price: _Optional[str] = ...) -> None: ...

class OrderAccepted(_message.Message):
    __slots__ = ("venue",)
    VENUE_FIELD_NUMBER: _ClassVar[int]
    venue: str
    def __init__(self, venue: _Optional[str] = ...) -> None: ...

class OrderFilled(_message.Message):
    __slots__ = ("trade_id", "quantity", "price", "contra_order_id", "aggressor", "remaining_quantity", "venue")
    TRADE_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    CONTRA_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    AGGRESSOR_FIELD_NUMBER: _ClassVar[int]
    REMAINING_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    trade_id: str
    quantity: int
    price: str
    contra_order_id: str
    aggressor: bool
    remaining_quantity: int
    venue: str
    def __init__(self, trade_id: _Optional[str] = ..., quantity: _Optional[int] = ..., price: _Optional[str] = ..., contra_order_id: _Optional[str] = ..., aggressor: _Optional[bool] = ..., remaining_quantity: _Optional[int] = ..., venue: _Optional[str] = ...) -> None: ...

class OrderAmended(_message.Message):
    __slots__ = ("open_quantity", "price", "quantity", "priority_kept", "reserved_price")
    OPEN_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_KEPT_FIELD_NUMBER: _ClassVar[int]
    RESERVED_PRICE_FIELD_NUMBER: _ClassVar[int]
    open_quantity: int
    price: str
    quantity: int
    priority_kept: bool
    reserved_price: str
    def __init__(self, open_quantity: _Optional[int] = ..., price: _Optional[str] = ..., quantity: _Optional[int] = ..., priority_kept: _Optional[bool] = ..., reserved_price: _Optional[str] = ...) -> None: ...

class OrderExpired(_message.Message):
    __slots__ = ("trading_day", "quantity")
    TRADING_DAY_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    trading_day: str
    quantity: int
    def __init__(self, trading_day: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class RiskCheckFailed(_message.Message):
    __slots__ = ("violations",)
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    violations: _containers.RepeatedCompositeFieldContainer[_common_pb2.RiskViolation]
    def __init__(self, violations: _Optional[_Iterable[_Union[_common_pb2.RiskViolation, _Mapping]]] = ...) -> None: ...

class ExecutionStarted(_message.Message):
    __slots__ = ("attempt", "venue")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    venue: str
    def __init__(self, attempt: _Optional[int] = ..., venue: _Optional[str] = ...) -> None: ...

class ExecutionCompleted(_message.Message):
    __slots__ = ("filled_quantity", "fill_price", "venue", "execution_id", "attempt")
    FILLED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    FILL_PRICE_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    filled_quantity: int
    fill_price: str
    venue: str
    execution_id: str
    attempt: int
    def __init__(self, filled_quantity: _Optional[int] = ..., fill_price: _Optional[str] = ..., venue: _Optional[str] = ..., execution_id: _Optional[str] = ..., attempt: _Optional[int] = ...) -> None: ...

class ExecutionFailed(_message.Message):
    __slots__ = ("reason", "attempts", "permanent", "circuit_open")
    REASON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    PERMANENT_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_OPEN_FIELD_NUMBER: _ClassVar[int]
    reason: str
    attempts: int
    permanent: bool
    circuit_open: bool
    def __init__(self, reason: _Optional[str] = ..., attempts: _Optional[int] = ..., permanent: _Optional[bool] = ..., circuit_open: _Optional[bool] = ...) -> None: ...

class ExecutionRetried(_message.Message):
    __slots__ = ("attempt", "reason", "delay_ms")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    reason: str
    delay_ms: int
    def __init__(self, attempt: _Optional[int] = ..., reason: _Optional[str] = ..., delay_ms: _Optional[int] = ...) -> None: ...

class OrderCancelled(_message.Message):
    __slots__ = ("reason", "quantity")
    REASON_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    reason: str
    quantity: int
    def __init__(self, reason: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class CircuitBreakerOpened(_message.Message):
    __slots__ = ("consecutive_failures", "open_until")
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    OPEN_UNTIL_FIELD_NUMBER: _ClassVar[int]
    consecutive_failures: int
    open_until: _timestamp_pb2.Timestamp
    def __init__(self, consecutive_failures: _Optional[int] = ..., open_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CircuitBreakerHalfOpened(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CircuitBreakerClosed(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RiskLimitsUpdated(_message.Message):
    __slots__ = ("old_limits", "new_limits", "reason")
    OLD_LIMITS_FIELD_NUMBER: _ClassVar[int]
    NEW_LIMITS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    old_limits: _risk_pb2.RiskLimits
    new_limits: _risk_pb2.RiskLimits
    reason: str
    def __init__(self, old_limits: _Optional[_Union[_risk_pb2.RiskLimits, _Mapping]] = ..., new_limits: _Optional[_Union[_risk_pb2.RiskLimits, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class KillSwitchActivated(_message.Message):
    __slots__ = ("reason", "username", "scope", "cancel_working")
    REASON_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_WORKING_FIELD_NUMBER: _ClassVar[int]
    reason: str
    username: str
    scope: _common_pb2.RiskScope
    cancel_working: bool
    def __init__(self, reason: _Optional[str] = ..., username: _Optional[str] = ..., scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., cancel_working: _Optional[bool] = ...) -> None: ...

class KillSwitchDeactivated(_message.Message):
    __slots__ = ("reason", "username", "scope")
    REASON_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    reason: str
    username: str
    scope: _common_pb2.RiskScope
    def __init__(self, reason: _Optional[str] = ..., username: _Optional[str] = ..., scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ...) -> None: ...

class DailyVolumeReset(_message.Message):
    __slots__ = ("previous_trading_day", "previous_volume", "trading_day")
    PREVIOUS_TRADING_DAY_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VOLUME_FIELD_NUMBER: _ClassVar[int]
    TRADING_DAY_FIELD_NUMBER: _ClassVar[int]
    previous_trading_day: str
    previous_volume: str
    trading_day: str
    def __init__(self, previous_trading_day: _Optional[str] = ..., previous_volume: _Optional[str] = ..., trading_day: _Optional[str] = ...) -> None: ...

class UserLoggedIn(_message.Message):
    __slots__ = ("username", "role", "token_id", "expires_at", "client_address")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    username: str
    role: _common_pb2.Role
    token_id: str
    expires_at: _timestamp_pb2.Timestamp
    client_address: str
    def __init__(self, username: _Optional[str] = ..., role: _Optional[_Union[_common_pb2.Role, str]] = ..., token_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., client_address: _Optional[str] = ...) -> None: ...

class LoginFailed(_message.Message):
    __slots__ = ("username", "reason", "consecutive_failures", "locked", "client_address")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    LOCKED_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    username: str
    reason: str
    consecutive_failures: int
    locked: bool
    client_address: str
    def __init__(self, username: _Optional[str] = ..., reason: _Optional[str] = ..., consecutive_failures: _Optional[int] = ..., locked: _Optional[bool] = ..., client_address: _Optional[str] = ...) -> None: ...

class TokenRevoked(_message.Message):
    __slots__ = ("token_id", "expires_at", "username")
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    expires_at: _timestamp_pb2.Timestamp
    username: str
    def __init__(self, token_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., username: _Optional[str] = ...) -> None: ...

class UserCreated(_message.Message):
    __slots__ = ("username", "role", "user_id")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    username: str
    role: _common_pb2.Role
    user_id: str
    def __init__(self, username: _Optional[str] = ..., role: _Optional[_Union[_common_pb2.Role, str]] = ..., user_id: _Optional[str] = ...) -> None: ...

class UserDisabled(_message.Message):
    __slots__ = ("username", "user_id", "actor", "reason", "change")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    username: str
    user_id: str
    actor: str
    reason: str
    change: int
    def __init__(self, username: _Optional[str] = ..., user_id: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., change: _Optional[int] = ...) -> None: ...

class UserEnabled(_message.Message):
    __slots__ = ("username", "user_id", "actor", "reason", "change")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    username: str
    user_id: str
    actor: str
    reason: str
    change: int
    def __init__(self, username: _Optional[str] = ..., user_id: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., change: _Optional[int] = ...) -> None: ...

class UserRoleChanged(_message.Message):
    __slots__ = ("username", "user_id", "old_role", "new_role", "actor", "reason", "change")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    OLD_ROLE_FIELD_NUMBER: _ClassVar[int]
    NEW_ROLE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    username: str
    user_id: str
    old_role: _common_pb2.Role
    new_role: _common_pb2.Role
    actor: str
    reason: str
    change: int
    def __init__(self, username: _Optional[str] = ..., user_id: _Optional[str] = ..., old_role: _Optional[_Union[_common_pb2.Role, str]] = ..., new_role: _Optional[_Union[_common_pb2.Role, str]] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., change: _Optional[int] = ...) -> None: ...

class PasswordChanged(_message.Message):
    __slots__ = ("username", "user_id", "actor", "reason", "change")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    username: str
    user_id: str
    actor: str
    reason: str
    change: int
    def __init__(self, username: _Optional[str] = ..., user_id: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., change: _Optional[int] = ...) -> None: ...

class UserUnlocked(_message.Message):
    __slots__ = ("username", "actor", "reason", "change")
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    username: str
    actor: str
    reason: str
    change: int
    def __init__(self, username: _Optional[str] = ..., actor: _Optional[str] = ..., reason: _Optional[str] = ..., change: _Optional[int] = ...) -> None: ...

class InstrumentUpserted(_message.Message):
    __slots__ = ("instrument", "created", "reason", "username")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.Instrument
    created: bool
    reason: str
    username: str
    def __init__(self, instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ..., created: _Optional[bool] = ..., reason: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class InstrumentStatusChanged(_message.Message):
    __slots__ = ("old_status", "new_status", "reason", "username")
    OLD_STATUS_FIELD_NUMBER: _ClassVar[int]
    NEW_STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    old_status: _common_pb2.InstrumentStatus
    new_status: _common_pb2.InstrumentStatus
    reason: str
    username: str
    def __init__(self, old_status: _Optional[_Union[_common_pb2.InstrumentStatus, str]] = ..., new_status: _Optional[_Union[_common_pb2.InstrumentStatus, str]] = ..., reason: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class MarkRecorded(_message.Message):
    __slots__ = ("mark",)
    MARK_FIELD_NUMBER: _ClassVar[int]
    mark: _common_pb2.Mark
    def __init__(self, mark: _Optional[_Union[_common_pb2.Mark, _Mapping]] = ...) -> None: ...

class OrderCancelRequested(_message.Message):
    __slots__ = ("reason", "previous_status")
    REASON_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATUS_FIELD_NUMBER: _ClassVar[int]
    reason: str
    previous_status: _common_pb2.OrderStatus
    def __init__(self, reason: _Optional[str] = ..., previous_status: _Optional[_Union[_common_pb2.OrderStatus, str]] = ...) -> None: ...

class OrderStatusUnknown(_message.Message):
    __slots__ = ("reason", "attempts", "attempt_failed")
    REASON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FAILED_FIELD_NUMBER: _ClassVar[int]
    reason: str
    attempts: int
    attempt_failed: bool
    def __init__(self, reason: _Optional[str] = ..., attempts: _Optional[int] = ..., attempt_failed: _Optional[bool] = ...) -> None: ...

class AuditCheckpointSigned(_message.Message):
    __slots__ = ("sequence", "head_hash", "signed_at", "key_id", "signature")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    SIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    head_hash: str
    signed_at: _timestamp_pb2.Timestamp
    key_id: str
    signature: bytes
    def __init__(self, sequence: _Optional[int] = ..., head_hash: _Optional[str] = ..., signed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., key_id: _Optional[str] = ..., signature: _Optional[bytes] = ...) -> None: ...

class DeskUpserted(_message.Message):
    __slots__ = ("desk", "created", "reason")
    DESK_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    desk: _account_pb2.Desk
    created: bool
    reason: str
    def __init__(self, desk: _Optional[_Union[_account_pb2.Desk, _Mapping]] = ..., created: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class AccountUpserted(_message.Message):
    __slots__ = ("account", "created", "reason")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    account: _account_pb2.Account
    created: bool
    reason: str
    def __init__(self, account: _Optional[_Union[_account_pb2.Account, _Mapping]] = ..., created: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class TraderEntitled(_message.Message):
    __slots__ = ("entitlement", "reason", "username")
    ENTITLEMENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    entitlement: _account_pb2.Entitlement
    reason: str
    username: str
    def __init__(self, entitlement: _Optional[_Union[_account_pb2.Entitlement, _Mapping]] = ..., reason: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class TradingStateChanged(_message.Message):
    __slots__ = ("scope", "old_state", "new_state", "reason", "username", "control")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    OLD_STATE_FIELD_NUMBER: _ClassVar[int]
    NEW_STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    scope: _common_pb2.RiskScope
    old_state: _common_pb2.TradingState
    new_state: _common_pb2.TradingState
    reason: str
    username: str
    control: str
    def __init__(self, scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., old_state: _Optional[_Union[_common_pb2.TradingState, str]] = ..., new_state: _Optional[_Union[_common_pb2.TradingState, str]] = ..., reason: _Optional[str] = ..., username: _Optional[str] = ..., control: _Optional[str] = ...) -> None: ...

class RestrictionChanged(_message.Message):
    __slots__ = ("scope", "symbol", "old_restriction", "new_restriction", "reason", "username")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    OLD_RESTRICTION_FIELD_NUMBER: _ClassVar[int]
    NEW_RESTRICTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    scope: _common_pb2.RiskScope
    symbol: str
    old_restriction: _risk_pb2.Restriction
    new_restriction: _risk_pb2.Restriction
    reason: str
    username: str
    def __init__(self, scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., symbol: _Optional[str] = ..., old_restriction: _Optional[_Union[_risk_pb2.Restriction, str]] = ..., new_restriction: _Optional[_Union[_risk_pb2.Restriction, str]] = ..., reason: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class OrderReleased(_message.Message):
    __slots__ = ("reason", "username", "overridden")
    REASON_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    OVERRIDDEN_FIELD_NUMBER: _ClassVar[int]
    reason: str
    username: str
    overridden: _containers.RepeatedScalarFieldContainer[_common_pb2.ViolationType]
    def __init__(self, reason: _Optional[str] = ..., username: _Optional[str] = ..., overridden: _Optional[_Iterable[_Union[_common_pb2.ViolationType, str]]] = ...) -> None: ...

class SessionOpened(_message.Message):
    __slots__ = ("session_id", "name", "cancel_on_disconnect", "heartbeat_seconds", "username", "client_address")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_ON_DISCONNECT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    name: str
    cancel_on_disconnect: bool
    heartbeat_seconds: int
    username: str
    client_address: str
    def __init__(self, session_id: _Optional[str] = ..., name: _Optional[str] = ..., cancel_on_disconnect: _Optional[bool] = ..., heartbeat_seconds: _Optional[int] = ..., username: _Optional[str] = ..., client_address: _Optional[str] = ...) -> None: ...

class SessionClosed(_message.Message):
    __slots__ = ("session_id", "clean", "reason", "orders_cancelled")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CLEAN_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ORDERS_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    clean: bool
    reason: str
    orders_cancelled: int
    def __init__(self, session_id: _Optional[str] = ..., clean: _Optional[bool] = ..., reason: _Optional[str] = ..., orders_cancelled: _Optional[int] = ...) -> None: ...

class MassCancelRequested(_message.Message):
    __slots__ = ("scope", "symbol", "reason", "username", "trigger", "orders", "session_id")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    scope: _common_pb2.RiskScope
    symbol: str
    reason: str
    username: str
    trigger: str
    orders: int
    session_id: str
    def __init__(self, scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., symbol: _Optional[str] = ..., reason: _Optional[str] = ..., username: _Optional[str] = ..., trigger: _Optional[str] = ..., orders: _Optional[int] = ..., session_id: _Optional[str] = ...) -> None: ...

class LeaderElected(_message.Message):
    __slots__ = ("node_id", "address", "term", "previous_node_id", "previous_term", "reason")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TERM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    address: str
    term: int
    previous_node_id: str
    previous_term: int
    reason: str
    def __init__(self, node_id: _Optional[str] = ..., address: _Optional[str] = ..., term: _Optional[int] = ..., previous_node_id: _Optional[str] = ..., previous_term: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...
