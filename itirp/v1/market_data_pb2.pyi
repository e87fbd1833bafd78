import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from itirp.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetQuoteRequest(_message.Message):
    __slots__ = ("symbol",)
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    def __init__(self, symbol: _Optional[str] = ...) -> None: ...

class GetQuoteResponse(_message.Message):
    __slots__ = ("mark",)
    MARK_FIELD_NUMBER: _ClassVar[int]
    mark: _common_pb2.Mark
    def __init__(self, mark: _Optional[_Union[_common_pb2.Mark, _Mapping]] = ...) -> None: ...

class StreamQuotesRequest(_message.Message):
    __slots__ = ("symbols", "from_sequence")
    SYMBOLS_FIELD_NUMBER: _ClassVar[int]
    FROM_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    symbols: _containers.RepeatedScalarFieldContainer[str]
    from_sequence: int
    def __init__(self, symbols: _Optional[_Iterable[str]] = ..., from_sequence: _Optional[int] = ...) -> None: ...

class StreamQuotesResponse(_message.Message):
    __slots__ = ("mark", "heartbeat", "caught_up")
    MARK_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    CAUGHT_UP_FIELD_NUMBER: _ClassVar[int]
    mark: _common_pb2.Mark
    heartbeat: _common_pb2.StreamHeartbeat
    caught_up: _common_pb2.StreamCaughtUp
    def __init__(self, mark: _Optional[_Union[_common_pb2.Mark, _Mapping]] = ..., heartbeat: _Optional[_Union[_common_pb2.StreamHeartbeat, _Mapping]] = ..., caught_up: _Optional[_Union[_common_pb2.StreamCaughtUp, _Mapping]] = ...) -> None: ...

class PriceLevel(_message.Message):
    __slots__ = ("price", "quantity")
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    price: str
    quantity: int
    def __init__(self, price: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class OrderBookSnapshot(_message.Message):
    __slots__ = ("symbol", "bids", "asks", "sequence", "event_sequence", "timestamp", "depth")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    BIDS_FIELD_NUMBER: _ClassVar[int]
    ASKS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    bids: _containers.RepeatedCompositeFieldContainer[PriceLevel]
    asks: _containers.RepeatedCompositeFieldContainer[PriceLevel]
    sequence: int
    event_sequence: int
    timestamp: _timestamp_pb2.Timestamp
    depth: int
    def __init__(self, symbol: _Optional[str] = ..., bids: _Optional[_Iterable[_Union[PriceLevel, _Mapping]]] = ..., asks: _Optional[_Iterable[_Union[PriceLevel, _Mapping]]] = ..., sequence: _Optional[int] = ..., event_sequence: _Optional[int] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., depth: _Optional[int] = ...) -> None: ...

class GetOrderBookRequest(_message.Message):
    __slots__ = ("symbol", "depth")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    depth: int
    def __init__(self, symbol: _Optional[str] = ..., depth: _Optional[int] = ...) -> None: ...

class GetOrderBookResponse(_message.Message):
    __slots__ = ("book",)
    BOOK_FIELD_NUMBER: _ClassVar[int]
    book: OrderBookSnapshot
    def __init__(self, book: _Optional[_Union[OrderBookSnapshot, _Mapping]] = ...) -> None: ...

class StreamOrderBookRequest(_message.Message):
    __slots__ = ("symbol", "depth")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    depth: int
    def __init__(self, symbol: _Optional[str] = ..., depth: _Optional[int] = ...) -> None: ...

class LevelUpdate(_message.Message):
    __slots__ = ("side", "price", "quantity")
    SIDE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    side: _common_pb2.Side
    price: str
    quantity: int
    def __init__(self, side: _Optional[_Union[_common_pb2.Side, str]] = ..., price: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class OrderBookUpdate(_message.Message):
    __slots__ = ("symbol", "sequence", "previous_sequence", "levels", "event_sequence", "timestamp")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    sequence: int
    previous_sequence: int
    levels: _containers.RepeatedCompositeFieldContainer[LevelUpdate]
    event_sequence: int
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, symbol: _Optional[str] = ..., sequence: _Optional[int] = ..., previous_sequence: _Optional[int] = ..., levels: _Optional[_Iterable[_Union[LevelUpdate, _Mapping]]] = ..., event_sequence: _Optional[int] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamOrderBookResponse(_message.Message):
    __slots__ = ("snapshot", "update", "heartbeat")
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    snapshot: OrderBookSnapshot
    update: OrderBookUpdate
    heartbeat: _common_pb2.StreamHeartbeat
    def __init__(self, snapshot: _Optional[_Union[OrderBookSnapshot, _Mapping]] = ..., update: _Optional[_Union[OrderBookUpdate, _Mapping]] = ..., heartbeat: _Optional[_Union[_common_pb2.StreamHeartbeat, _Mapping]] = ...) -> None: ...

class StreamTradesRequest(_message.Message):
    __slots__ = ("symbol", "from_sequence")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    FROM_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    from_sequence: int
    def __init__(self, symbol: _Optional[str] = ..., from_sequence: _Optional[int] = ...) -> None: ...

class Trade(_message.Message):
    __slots__ = ("trade_id", "symbol", "price", "quantity", "aggressor_side", "sequence", "timestamp")
    TRADE_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    AGGRESSOR_SIDE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    trade_id: str
    symbol: str
    price: str
    quantity: int
    aggressor_side: _common_pb2.Side
    sequence: int
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, trade_id: _Optional[str] = ..., symbol: _Optional[str] = ..., price: _Optional[str] = ..., quantity: _Optional[int] = ..., aggressor_side: _Optional[_Union[_common_pb2.Side, str]] = ..., sequence: _Optional[int] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamTradesResponse(_message.Message):
    __slots__ = ("trade", "heartbeat", "caught_up")
    TRADE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    CAUGHT_UP_FIELD_NUMBER: _ClassVar[int]
    trade: Trade
    heartbeat: _common_pb2.StreamHeartbeat
    caught_up: _common_pb2.StreamCaughtUp
    def __init__(self, trade: _Optional[_Union[Trade, _Mapping]] = ..., heartbeat: _Optional[_Union[_common_pb2.StreamHeartbeat, _Mapping]] = ..., caught_up: _Optional[_Union[_common_pb2.StreamCaughtUp, _Mapping]] = ...) -> None: ...
