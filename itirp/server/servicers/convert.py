"""Small protobuf <-> plain value conversions shared by the servicers."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from itirp.auth.roles import Role
from itirp.v1 import common_pb2

__all__ = ["role_to_proto", "timestamp_from_seconds", "timestamp_from_us"]


def role_to_proto(role: Role) -> int:
    return common_pb2.Role.Value(f"ROLE_{role.name}")


def timestamp_from_seconds(seconds: float) -> Timestamp:
    ts = Timestamp()
    whole = int(seconds)
    ts.seconds = whole
    ts.nanos = int(round((seconds - whole) * 1_000_000)) * 1000
    return ts


def timestamp_from_us(micros: int) -> Timestamp:
    ts = Timestamp()
    ts.seconds, rest = divmod(micros, 1_000_000)
    ts.nanos = rest * 1000
    return ts
