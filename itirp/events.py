"""Event types and their payloads: one registry, one stable encoding.

A payload is the protobuf message of its type (`itirp.v1.OrderCreated`, ...). In storage it is the
message's deterministic binary encoding plus a schema version: protobuf's wire format keeps old
bytes readable when fields are added, and the version lets a future incompatible change pick the
right decoder. Pure: no I/O, no gRPC.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from itirp.v1 import events_pb2

__all__ = [
    "EVENT_TYPES",
    "SCHEMA_VERSION",
    "EventKind",
    "UnknownEventType",
    "decode_payload",
    "encode_payload",
    "event_type_name",
    "kind_of",
    "timestamp_from_seconds",
    "timestamp_from_us",
    "timestamp_to_us",
]

#: Version of the payload encoding written today.
SCHEMA_VERSION = 1


class UnknownEventType(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class EventKind:
    name: str  # "ORDER_CREATED"
    number: int  # EventType enum value
    payload_class: type[Message]
    field: str  # name of the payload in the Event oneof


def _build() -> dict[str, EventKind]:
    oneof = events_pb2.Event.DESCRIPTOR.oneofs_by_name["payload"]
    by_message = {f.message_type.name: f.name for f in oneof.fields if f.message_type is not None}
    kinds: dict[str, EventKind] = {}
    for value in events_pb2.EventType.DESCRIPTOR.values:
        if value.number == 0:
            continue
        name = value.name.removeprefix("EVENT_TYPE_")
        message_name = "".join(part.capitalize() for part in name.split("_"))
        field = by_message[message_name]
        kinds[name] = EventKind(name, value.number, getattr(events_pb2, message_name), field)
    return kinds


#: Every event type by name, e.g. EVENT_TYPES["ORDER_CREATED"].payload_class is OrderCreated.
EVENT_TYPES: dict[str, EventKind] = _build()
_BY_CLASS: dict[type[Message], EventKind] = {k.payload_class: k for k in EVENT_TYPES.values()}
_BY_NUMBER: dict[int, EventKind] = {k.number: k for k in EVENT_TYPES.values()}


def kind_of(payload: Message) -> EventKind:
    try:
        return _BY_CLASS[type(payload)]
    except KeyError:
        raise UnknownEventType(f"{type(payload).__name__} is not an event payload") from None


def event_type_name(number: int) -> str:
    try:
        return _BY_NUMBER[number].name
    except KeyError:
        raise UnknownEventType(f"unknown event type number {number}") from None


def encode_payload(payload: Message) -> bytes:
    data: bytes = payload.SerializeToString(deterministic=True)
    return data


def decode_payload(event_type: str, schema_version: int, data: bytes) -> Message:
    kind = EVENT_TYPES.get(event_type)
    if kind is None:
        raise UnknownEventType(f"unknown event type {event_type!r}")
    if schema_version != SCHEMA_VERSION:
        raise UnknownEventType(f"{event_type}: payload schema version {schema_version} is not readable")
    return kind.payload_class.FromString(data)


def timestamp_from_us(micros: int) -> Timestamp:
    """Microseconds since the epoch (the events' time unit) as a protobuf Timestamp."""
    seconds, rest = divmod(micros, 1_000_000)
    return Timestamp(seconds=seconds, nanos=rest * 1000)


def timestamp_from_seconds(seconds: float) -> Timestamp:
    return timestamp_from_us(round(seconds * 1_000_000))


def timestamp_to_us(ts: Timestamp) -> int:
    micros: int = ts.seconds * 1_000_000 + ts.nanos // 1000
    return micros
