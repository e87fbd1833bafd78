import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from itirp.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Order(_message.Message):
    __slots__ = ("order_id", "client_order_id", "user_id", "username", "symbol", "side", "quantity", "price", "strategy", "status", "correlation_id", "created_at", "updated_at", "message", "violations", "filled_quantity", "average_fill_price", "execution_attempts", "last_sequence", "order_type", "time_in_force", "self_trade_prevention", "remaining_quantity", "fills", "account", "desk", "session_id", "released")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    FILLED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_FILL_PRICE_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    SELF_TRADE_PREVENTION_FIELD_NUMBER: _ClassVar[int]
    REMAINING_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    FILLS_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    DESK_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    client_order_id: str
    user_id: str
    username: str
    symbol: str
    side: _common_pb2.Side
    quantity: int
    price: str
    strategy: str
    status: _common_pb2.OrderStatus
    correlation_id: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    message: str
    violations: _containers.RepeatedCompositeFieldContainer[_common_pb2.RiskViolation]
    filled_quantity: int
    average_fill_price: str
    execution_attempts: int
    last_sequence: int
    order_type: _common_pb2.OrderType
    time_in_force: _common_pb2.TimeInForce
    self_trade_prevention: _common_pb2.SelfTradePrevention
    remaining_quantity: int
    fills: _containers.RepeatedCompositeFieldContainer[OrderFill]
    account: str
    desk: str
    session_id: str
    released: bool
    def __init__(self, order_id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., user_id: _Optional[str] = ..., username: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., quantity: _Optional[int] = ..., price: _Optional[str] = ..., strategy: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.OrderStatus, str]] = ..., correlation_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[str] = ..., violations: _Optional[_Iterable[_Union[_common_pb2.RiskViolation, _Mapping]]] = ..., filled_quantity: _Optional[int] = ..., average_fill_price: _Optional[str] = ..., execution_attempts: _Optional[int] = ..., last_sequence: _Optional[int] = ..., order_type: _Optional[_Union[_common_pb2.OrderType, str]] = ..., time_in_force: _Optional[_Union[_common_pb2.TimeInForce, str]] = ..., self_trade_prevention: _Optional[_Union[_common_pb2.SelfTradePrevention, str]] = ..., remaining_quantity: _Optional[int] = ..., fills: _Optional[_Iterable[_Union[OrderFill, _Mapping]]] = ..., account: _Optional[str] = ..., desk: _Optional[str] = ..., session_id: _Optional[str] = ..., released: _Optional[bool] = ...) -> None: ...

class OrderFill(_message.Message):
    __slots__ = ("trade_id", "quantity", "price", "aggressor", "timestamp", "sequence")
    TRADE_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    AGGRESSOR_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    trade_id: str
    quantity: int
    price: str
    aggressor: bool
    timestamp: _timestamp_pb2.Timestamp
    sequence: int
    def __init__(self, trade_id: _Optional[str] = ..., quantity: _Optional[int] = ..., price: _Optional[str] = ..., aggressor: _Optional[bool] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...

class SubmitOrderRequest(_message.Message):
    __slots__ = ("symbol", "side", "quantity", "price", "strategy", "client_order_id", "order_type", "time_in_force", "self_trade_prevention", "account", "intended_duplicate")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    SELF_TRADE_PREVENTION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    INTENDED_DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    side: _common_pb2.Side
    quantity: int
    price: str
    strategy: str
    client_order_id: str
    order_type: _common_pb2.OrderType
    time_in_force: _common_pb2.TimeInForce
    self_trade_prevention: _common_pb2.SelfTradePrevention
    account: str
    intended_duplicate: bool
    def __init__(self, symbol: _Optional[str] = ..., side: _Optional[_Union[_common_pb2.Side, str]] = ..., quantity: _Optional[int] = ..., price: _Optional[str] = ..., strategy: _Optional[str] = ..., client_order_id: _Optional[str] = ..., order_type: _Optional[_Union[_common_pb2.OrderType, str]] = ..., time_in_force: _Optional[_Union[_common_pb2.TimeInForce, str]] = ..., self_trade_prevention: _Optional[_Union[_common_pb2.SelfTradePrevention, str]] = ..., account: _Optional[str] = ..., intended_duplicate: _Optional[bool] = ...) -> None: ...

class SubmitOrderResponse(_message.Message):
    __slots__ = ("order_id", "status", "correlation_id", "timestamp", "message", "violations", "order")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    status: _common_pb2.OrderStatus
    correlation_id: str
    timestamp: _timestamp_pb2.Timestamp
    message: str
    violations: _containers.RepeatedCompositeFieldContainer[_common_pb2.RiskViolation]
    order: Order
    def __init__(self, order_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.OrderStatus, str]] = ..., correlation_id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[str] = ..., violations: _Optional[_Iterable[_Union[_common_pb2.RiskViolation, _Mapping]]] = ..., order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "statuses", "symbol", "user_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    statuses: _containers.RepeatedScalarFieldContainer[_common_pb2.OrderStatus]
    symbol: str
    user_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_common_pb2.OrderStatus, str]]] = ..., symbol: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("order_id", "reason")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    reason: str
    def __init__(self, order_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class AmendOrderRequest(_message.Message):
    __slots__ = ("order_id", "quantity", "price")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    quantity: int
    price: str
    def __init__(self, order_id: _Optional[str] = ..., quantity: _Optional[int] = ..., price: _Optional[str] = ...) -> None: ...

class AmendOrderResponse(_message.Message):
    __slots__ = ("order", "priority_kept")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_KEPT_FIELD_NUMBER: _ClassVar[int]
    order: Order
    priority_kept: bool
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ..., priority_kept: _Optional[bool] = ...) -> None: ...

class StreamOrderUpdatesRequest(_message.Message):
    __slots__ = ("order_id", "from_sequence")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    from_sequence: int
    def __init__(self, order_id: _Optional[str] = ..., from_sequence: _Optional[int] = ...) -> None: ...

class OrderUpdate(_message.Message):
    __slots__ = ("sequence", "order", "snapshot", "timestamp")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    order: Order
    snapshot: bool
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, sequence: _Optional[int] = ..., order: _Optional[_Union[Order, _Mapping]] = ..., snapshot: _Optional[bool] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamOrderUpdatesResponse(_message.Message):
    __slots__ = ("update", "heartbeat", "caught_up")
    UPDATE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    CAUGHT_UP_FIELD_NUMBER: _ClassVar[int]
    update: OrderUpdate
    heartbeat: _common_pb2.StreamHeartbeat
    caught_up: _common_pb2.StreamCaughtUp
    def __init__(self, update: _Optional[_Union[OrderUpdate, _Mapping]] = ..., heartbeat: _Optional[_Union[_common_pb2.StreamHeartbeat, _Mapping]] = ..., caught_up: _Optional[_Union[_common_pb2.StreamCaughtUp, _Mapping]] = ...) -> None: ...

class CancelAllOrdersRequest(_message.Message):
    __slots__ = ("scope", "symbol", "reason")
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    scope: _common_pb2.RiskScope
    symbol: str
    reason: str
    def __init__(self, scope: _Optional[_Union[_common_pb2.RiskScope, _Mapping]] = ..., symbol: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelAllOrdersResponse(_message.Message):
    __slots__ = ("cancelled_order_ids", "pending_order_ids")
    CANCELLED_ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    PENDING_ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    cancelled_order_ids: _containers.RepeatedScalarFieldContainer[str]
    pending_order_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, cancelled_order_ids: _Optional[_Iterable[str]] = ..., pending_order_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SetCancelAllAfterRequest(_message.Message):
    __slots__ = ("seconds",)
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    seconds: int
    def __init__(self, seconds: _Optional[int] = ...) -> None: ...

class SetCancelAllAfterResponse(_message.Message):
    __slots__ = ("armed", "deadline")
    ARMED_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    armed: bool
    deadline: _timestamp_pb2.Timestamp
    def __init__(self, armed: _Optional[bool] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderEntryOpen(_message.Message):
    __slots__ = ("cancel_on_disconnect", "heartbeat_seconds", "name")
    CANCEL_ON_DISCONNECT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    cancel_on_disconnect: bool
    heartbeat_seconds: int
    name: str
    def __init__(self, cancel_on_disconnect: _Optional[bool] = ..., heartbeat_seconds: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...

class OrderEntryNew(_message.Message):
    __slots__ = ("tag", "order")
    TAG_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    tag: str
    order: SubmitOrderRequest
    def __init__(self, tag: _Optional[str] = ..., order: _Optional[_Union[SubmitOrderRequest, _Mapping]] = ...) -> None: ...

class OrderEntryCancel(_message.Message):
    __slots__ = ("tag", "cancel")
    TAG_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    tag: str
    cancel: CancelOrderRequest
    def __init__(self, tag: _Optional[str] = ..., cancel: _Optional[_Union[CancelOrderRequest, _Mapping]] = ...) -> None: ...

class OrderEntryAmend(_message.Message):
    __slots__ = ("tag", "amend")
    TAG_FIELD_NUMBER: _ClassVar[int]
    AMEND_FIELD_NUMBER: _ClassVar[int]
    tag: str
    amend: AmendOrderRequest
    def __init__(self, tag: _Optional[str] = ..., amend: _Optional[_Union[AmendOrderRequest, _Mapping]] = ...) -> None: ...

class OrderEntryClose(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class OrderEntryRequest(_message.Message):
    __slots__ = ("open", "new", "cancel", "amend", "heartbeat", "close")
    OPEN_FIELD_NUMBER: _ClassVar[int]
    NEW_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    AMEND_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    open: OrderEntryOpen
    new: OrderEntryNew
    cancel: OrderEntryCancel
    amend: OrderEntryAmend
    heartbeat: _common_pb2.StreamHeartbeat
    close: OrderEntryClose
    def __init__(self, open: _Optional[_Union[OrderEntryOpen, _Mapping]] = ..., new: _Optional[_Union[OrderEntryNew, _Mapping]] = ..., cancel: _Optional[_Union[OrderEntryCancel, _Mapping]] = ..., amend: _Optional[_Union[OrderEntryAmend, _Mapping]] = ..., heartbeat: _Optional[_Union[_common_pb2.StreamHeartbeat, _Mapping]] = ..., close: _Optional[_Union[OrderEntryClose, _Mapping]] = ...) -> None: ...

class OrderEntryOpened(_message.Message):
    __slots__ = ("session_id", "cancel_on_disconnect", "heartbeat_seconds")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CANCEL_ON_DISCONNECT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    cancel_on_disconnect: bool
    heartbeat_seconds: int
    def __init__(self, session_id: _Optional[str] = ..., cancel_on_disconnect: _Optional[bool] = ..., heartbeat_seconds: _Optional[int] = ...) -> None: ...

class OrderEntryAck(_message.Message):
    __slots__ = ("tag", "order", "priority_kept")
    TAG_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_KEPT_FIELD_NUMBER: _ClassVar[int]
    tag: str
    order: Order
    priority_kept: bool
    def __init__(self, tag: _Optional[str] = ..., order: _Optional[_Union[Order, _Mapping]] = ..., priority_kept: _Optional[bool] = ...) -> None: ...

class OrderEntryError(_message.Message):
    __slots__ = ("tag", "code", "reason", "message", "metadata", "field_violations", "retry_after_ms")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TAG_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    FIELD_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_MS_FIELD_NUMBER: _ClassVar[int]
    tag: str
    code: int
    reason: str
    message: str
    metadata: _containers.ScalarMap[str, str]
    field_violations: _containers.RepeatedCompositeFieldContainer[OrderEntryFieldViolation]
    retry_after_ms: int
    def __init__(self, tag: _Optional[str] = ..., code: _Optional[int] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., field_violations: _Optional[_Iterable[_Union[OrderEntryFieldViolation, _Mapping]]] = ..., retry_after_ms: _Optional[int] = ...) -> None: ...

class OrderEntryFieldViolation(_message.Message):
    __slots__ = ("field", "description")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    field: str
    description: str
    def __init__(self, field: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class OrderEntryClosed(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class OrderEntryResponse(_message.Message):
    __slots__ = ("opened", "ack", "error", "heartbeat", "closed")
    OPENED_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    opened: OrderEntryOpened
    ack: OrderEntryAck
    error: OrderEntryError
    heartbeat: _common_pb2.StreamHeartbeat
    closed: OrderEntryClosed
    def __init__(self, opened: _Optional[_Union[OrderEntryOpened, _Mapping]] = ..., ack: _Optional[_Union[OrderEntryAck, _Mapping]] = ..., error: _Optional[_Union[OrderEntryError, _Mapping]] = ..., heartbeat: _Optional[_Union[_common_pb2.StreamHeartbeat, _Mapping]] = ..., closed: _Optional[_Union[OrderEntryClosed, _Mapping]] = ...) -> None: ...
