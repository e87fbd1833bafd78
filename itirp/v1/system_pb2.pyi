import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from itirp.v1 import common_pb2 as _common_pb2
from itirp.v1 import risk_pb2 as _risk_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NodeRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NODE_ROLE_UNSPECIFIED: _ClassVar[NodeRole]
    NODE_ROLE_SINGLE: _ClassVar[NodeRole]
    NODE_ROLE_LEADER: _ClassVar[NodeRole]
    NODE_ROLE_STANDBY: _ClassVar[NodeRole]
    NODE_ROLE_STEPPED_DOWN: _ClassVar[NodeRole]

class CircuitBreakerState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CIRCUIT_BREAKER_STATE_UNSPECIFIED: _ClassVar[CircuitBreakerState]
    CIRCUIT_BREAKER_STATE_CLOSED: _ClassVar[CircuitBreakerState]
    CIRCUIT_BREAKER_STATE_OPEN: _ClassVar[CircuitBreakerState]
    CIRCUIT_BREAKER_STATE_HALF_OPEN: _ClassVar[CircuitBreakerState]
NODE_ROLE_UNSPECIFIED: NodeRole
NODE_ROLE_SINGLE: NodeRole
NODE_ROLE_LEADER: NodeRole
NODE_ROLE_STANDBY: NodeRole
NODE_ROLE_STEPPED_DOWN: NodeRole
CIRCUIT_BREAKER_STATE_UNSPECIFIED: CircuitBreakerState
CIRCUIT_BREAKER_STATE_CLOSED: CircuitBreakerState
CIRCUIT_BREAKER_STATE_OPEN: CircuitBreakerState
CIRCUIT_BREAKER_STATE_HALF_OPEN: CircuitBreakerState

class GetSystemInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSystemInfoResponse(_message.Message):
    __slots__ = ("name", "version", "start_time", "uptime", "event_loop", "python_version", "grpc_version", "demo_users", "read_only", "node_id", "role", "term", "leader_address", "store")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    UPTIME_FIELD_NUMBER: _ClassVar[int]
    EVENT_LOOP_FIELD_NUMBER: _ClassVar[int]
    PYTHON_VERSION_FIELD_NUMBER: _ClassVar[int]
    GRPC_VERSION_FIELD_NUMBER: _ClassVar[int]
    DEMO_USERS_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TERM_FIELD_NUMBER: _ClassVar[int]
    LEADER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    start_time: _timestamp_pb2.Timestamp
    uptime: _duration_pb2.Duration
    event_loop: str
    python_version: str
    grpc_version: str
    demo_users: bool
    read_only: bool
    node_id: str
    role: NodeRole
    term: int
    leader_address: str
    store: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uptime: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., event_loop: _Optional[str] = ..., python_version: _Optional[str] = ..., grpc_version: _Optional[str] = ..., demo_users: _Optional[bool] = ..., read_only: _Optional[bool] = ..., node_id: _Optional[str] = ..., role: _Optional[_Union[NodeRole, str]] = ..., term: _Optional[int] = ..., leader_address: _Optional[str] = ..., store: _Optional[str] = ...) -> None: ...

class CircuitBreakerStatus(_message.Message):
    __slots__ = ("state", "consecutive_failures", "open_until")
    STATE_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    OPEN_UNTIL_FIELD_NUMBER: _ClassVar[int]
    state: CircuitBreakerState
    consecutive_failures: int
    open_until: _timestamp_pb2.Timestamp
    def __init__(self, state: _Optional[_Union[CircuitBreakerState, str]] = ..., consecutive_failures: _Optional[int] = ..., open_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OrderStatusCount(_message.Message):
    __slots__ = ("status", "count")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    status: _common_pb2.OrderStatus
    count: int
    def __init__(self, status: _Optional[_Union[_common_pb2.OrderStatus, str]] = ..., count: _Optional[int] = ...) -> None: ...

class LatencySummary(_message.Message):
    __slots__ = ("p50", "p99", "count")
    P50_FIELD_NUMBER: _ClassVar[int]
    P99_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    p50: _duration_pb2.Duration
    p99: _duration_pb2.Duration
    count: int
    def __init__(self, p50: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., p99: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., count: _Optional[int] = ...) -> None: ...

class GetSystemMetricsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSystemMetricsResponse(_message.Message):
    __slots__ = ("total_orders", "total_events", "orders_by_status", "circuit_breaker", "risk_metrics", "submit_latency", "timestamp")
    TOTAL_ORDERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_EVENTS_FIELD_NUMBER: _ClassVar[int]
    ORDERS_BY_STATUS_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_BREAKER_FIELD_NUMBER: _ClassVar[int]
    RISK_METRICS_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_LATENCY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    total_orders: int
    total_events: int
    orders_by_status: _containers.RepeatedCompositeFieldContainer[OrderStatusCount]
    circuit_breaker: CircuitBreakerStatus
    risk_metrics: _risk_pb2.RiskMetrics
    submit_latency: LatencySummary
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, total_orders: _Optional[int] = ..., total_events: _Optional[int] = ..., orders_by_status: _Optional[_Iterable[_Union[OrderStatusCount, _Mapping]]] = ..., circuit_breaker: _Optional[_Union[CircuitBreakerStatus, _Mapping]] = ..., risk_metrics: _Optional[_Union[_risk_pb2.RiskMetrics, _Mapping]] = ..., submit_latency: _Optional[_Union[LatencySummary, _Mapping]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
