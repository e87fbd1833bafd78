from itirp.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListInstrumentsRequest(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: _common_pb2.InstrumentStatus
    def __init__(self, status: _Optional[_Union[_common_pb2.InstrumentStatus, str]] = ...) -> None: ...

class ListInstrumentsResponse(_message.Message):
    __slots__ = ("instruments",)
    INSTRUMENTS_FIELD_NUMBER: _ClassVar[int]
    instruments: _containers.RepeatedCompositeFieldContainer[_common_pb2.Instrument]
    def __init__(self, instruments: _Optional[_Iterable[_Union[_common_pb2.Instrument, _Mapping]]] = ...) -> None: ...

class GetInstrumentRequest(_message.Message):
    __slots__ = ("symbol",)
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    def __init__(self, symbol: _Optional[str] = ...) -> None: ...

class GetInstrumentResponse(_message.Message):
    __slots__ = ("instrument", "mark")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    MARK_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.Instrument
    mark: _common_pb2.Mark
    def __init__(self, instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ..., mark: _Optional[_Union[_common_pb2.Mark, _Mapping]] = ...) -> None: ...

class UpsertInstrumentRequest(_message.Message):
    __slots__ = ("instrument", "reason")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.Instrument
    reason: str
    def __init__(self, instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class UpsertInstrumentResponse(_message.Message):
    __slots__ = ("instrument", "created")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.Instrument
    created: bool
    def __init__(self, instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class SetInstrumentStatusRequest(_message.Message):
    __slots__ = ("symbol", "status", "reason")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    status: _common_pb2.InstrumentStatus
    reason: str
    def __init__(self, symbol: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.InstrumentStatus, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class SetInstrumentStatusResponse(_message.Message):
    __slots__ = ("instrument", "changed")
    INSTRUMENT_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    instrument: _common_pb2.Instrument
    changed: bool
    def __init__(self, instrument: _Optional[_Union[_common_pb2.Instrument, _Mapping]] = ..., changed: _Optional[bool] = ...) -> None: ...
