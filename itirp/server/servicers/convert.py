"""Small protobuf <-> plain value conversions shared by the servicers."""

from __future__ import annotations

from typing import cast

from itirp.auth.roles import Role
from itirp.auth.service import Principal
from itirp.core.commands import Actor
from itirp.domain.viewer import Viewer
from itirp.events import EVENT_TYPES, timestamp_from_seconds, timestamp_from_us, timestamp_to_us
from itirp.ids import new_uuid
from itirp.observability.context import correlation_id_var, current_principal, request_id_var
from itirp.store import StoredEvent
from itirp.v1 import common_pb2, events_pb2

__all__ = [
    "current_actor",
    "current_viewer",
    "event_to_proto",
    "role_to_proto",
    "timestamp_from_seconds",
    "timestamp_from_us",
    "timestamp_to_us",
    "viewer_of",
]


def viewer_of(principal: Principal) -> Viewer:
    return Viewer(principal.user_id, principal.role)


def current_viewer() -> Viewer:
    """The caller of the current call, as the core's queries see them."""
    return viewer_of(current_principal())


def current_actor(*, new_correlation: bool = False) -> Actor:
    """The caller of the current call as the actor of a command: the call's correlation id (a new
    one when the caller sent none and `new_correlation`), caused by the call's request id."""
    principal = current_principal()
    correlation_id = correlation_id_var.get() or (new_uuid() if new_correlation else "")
    return Actor(
        viewer=viewer_of(principal),
        username=principal.username,
        correlation_id=correlation_id,
        causation_id=request_id_var.get(),
    )


def role_to_proto(role: Role) -> common_pb2.Role:
    return cast("common_pb2.Role", common_pb2.Role.Value(f"ROLE_{role.name}"))


def event_to_proto(event: StoredEvent) -> events_pb2.Event:
    """A stored event as the API's `Event`, its payload decoded into the oneof."""
    kind = EVENT_TYPES[event.event_type]
    message = events_pb2.Event(
        sequence=event.sequence,
        event_id=event.event_id,
        event_type=cast("events_pb2.EventType", kind.number),
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
