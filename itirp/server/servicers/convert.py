"""Small protobuf <-> plain value conversions shared by the servicers."""

from __future__ import annotations

from itirp.auth.roles import Role
from itirp.events import EVENT_TYPES, timestamp_from_seconds, timestamp_from_us, timestamp_to_us
from itirp.store import StoredEvent
from itirp.v1 import common_pb2, events_pb2

__all__ = ["event_to_proto", "role_to_proto", "timestamp_from_seconds", "timestamp_from_us", "timestamp_to_us"]


def role_to_proto(role: Role) -> int:
    return common_pb2.Role.Value(f"ROLE_{role.name}")


def event_to_proto(event: StoredEvent) -> events_pb2.Event:
    """A stored event as the API's `Event`, its payload decoded into the oneof."""
    kind = EVENT_TYPES[event.event_type]
    message = events_pb2.Event(
        sequence=event.sequence,
        event_id=event.event_id,
        event_type=kind.number,
        correlation_id=event.correlation_id,
        causation_id=event.causation_id,
        order_id=event.order_id,
        user_id=event.user_id,
        timestamp=timestamp_from_us(event.timestamp_us),
        symbol=event.symbol,
        schema_version=event.schema_version,
        prev_hash=event.prev_hash,
        hash=event.hash,
    )
    getattr(message, kind.field).MergeFromString(event.payload)
    return message
