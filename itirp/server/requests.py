"""The edge's checks of a request before any handler sees it: its bytes decode, and every input is
within the bounds of `itirp.limits`.

grpc deserializes a request before the handler runs, and a deserializer that raises becomes
UNKNOWN "Unexpected DecodeError" with nothing a program can read. So the interceptor wraps each
handler's deserializer with `tolerant()`: bytes that do not decode become an `Undecodable` value,
and `check_request()` (called by the interceptor before the handler) turns that into
INVALID_ARGUMENT "the request could not be decoded", and a value out of bounds into
INVALID_ARGUMENT naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from itirp.errors import FieldViolation, InvalidArgument, Reason
from itirp.limits import (
    MAX_INT64,
    MAX_REPEATED,
    MAX_TIMESTAMP_SECONDS,
    METADATA_LIMITS,
    MIN_TIMESTAMP_SECONDS,
    max_length,
    prefix,
    too_long,
)

__all__ = ["Undecodable", "check_metadata", "check_request", "tolerant"]

_TIMESTAMP = "google.protobuf.Timestamp"
_UNSIGNED = (FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64)
_FLOATING = (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT)
_TEXT = (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES)
#: Bounded by their own readers, which refuse them with a better reason (`itirp.page_tokens`).
_OWN_CHECKS = frozenset({"page_token"})


@dataclass(frozen=True, slots=True)
class Undecodable:
    """What `tolerant()` hands on in place of a request whose bytes do not decode."""

    problem: str


def tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """`deserializer`, returning `Undecodable` instead of raising on bytes that do not decode."""
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the caller's bytes, answered by check_request
            return Undecodable(str(exc))

    return deserialize


def check_request(request: object, bad_metadata: InvalidArgument | None = None) -> None:
    """Raise INVALID_ARGUMENT for a request that did not decode or holds a value out of bounds, or
    `bad_metadata` (what `check_metadata` refused) for one whose metadata did not pass."""
    if bad_metadata is not None:
        raise bad_metadata
    if isinstance(request, Undecodable):
        problem = request.problem.rpartition(": ")[2] or "malformed"
        raise InvalidArgument.whole_request(
            f"the request could not be decoded ({prefix(problem, 80)}); "
            "check that the client uses this server's itirp.v1 protos",
            reason=Reason.REQUEST_UNDECODABLE,
        )
    if isinstance(request, Message):
        violations = _violations(request, "")
        if violations:
            _raise(violations)


def check_metadata(metadata: Iterable[tuple[str, str | bytes]]) -> None:
    """Raise INVALID_ARGUMENT for a metadata value the server reads that is longer than its maximum."""
    for key, value in metadata:
        limit = METADATA_LIMITS.get(key)
        if limit is not None and len(value) > limit:
            _raise([_too_long(key, limit, value)])


def _raise(violations: Sequence[tuple[FieldViolation, dict[str, str]]]) -> None:
    error = InvalidArgument.of([v for v, _ in violations])
    first_meta = violations[0][1]
    if first_meta:
        error.reason = Reason.VALUE_TOO_LONG
        error.metadata = first_meta
    raise error


def _too_long(field: str, limit: int, value: str | bytes) -> tuple[FieldViolation, dict[str, str]]:
    return FieldViolation(field, too_long(limit, value)), {"field": field, "max_length": str(limit)}


#: What is checked of a field: its kind (below) and, for text, its longest value.
_SKIP, _CHARS, _MESSAGE, _UNSIGNED_MAX, _FINITE = range(5)
_RULES: dict[FieldDescriptor, tuple[int, int]] = {}


def _rule(field: FieldDescriptor) -> tuple[int, int]:
    """The check of `field`, worked out on its first sight (per field, not per request)."""
    if field.type in _TEXT:
        rule = (_SKIP, 0) if field.name in _OWN_CHECKS else (_CHARS, max_length(field.name))
    elif field.type == FieldDescriptor.TYPE_MESSAGE:
        rule = (_MESSAGE, 0)
    elif field.type in _UNSIGNED:
        rule = (_UNSIGNED_MAX, 0)
    elif field.type in _FLOATING:
        rule = (_FINITE, 0)
    else:
        rule = (_SKIP, 0)
    _RULES[field] = rule
    return rule


def _violations(message: Message, path: str) -> list[tuple[FieldViolation, dict[str, str]]]:
    """Every value of `message` out of bounds, in field order (a list: empty for nearly every request)."""
    if message.DESCRIPTOR.full_name == _TIMESTAMP:
        return list(_timestamp(message, path.rstrip(".")))
    found: list[tuple[FieldViolation, dict[str, str]]] = []
    for field, value in message.ListFields():
        kind, limit = _RULES.get(field) or _rule(field)
        if field.is_repeated:
            name = path + field.name
            if len(value) > MAX_REPEATED:
                problem = f"at most {MAX_REPEATED} entries (got {len(value):,})"
                found.append((FieldViolation(name, problem), {"field": name, "max_length": str(MAX_REPEATED)}))
            elif kind != _SKIP:
                for index, item in enumerate(value):
                    _value(kind, limit, item, f"{name}[{index}]", found)
        elif kind == _SKIP:
            continue
        elif kind == _CHARS:
            if len(value) > limit:
                found.append(_too_long(path + field.name, limit, value))
        else:
            _value(kind, limit, value, path + field.name, found)
    return found


def _value(kind: int, limit: int, value: Any, name: str, found: list[tuple[FieldViolation, dict[str, str]]]) -> None:
    if kind == _CHARS:
        if len(value) > limit:
            found.append(_too_long(name, limit, value))
    elif kind == _MESSAGE:
        found.extend(_violations(value, name + "."))
    elif kind == _UNSIGNED_MAX:
        if value > MAX_INT64:
            found.append((FieldViolation(name, f"at most {MAX_INT64} (got {value})"), {}))
    elif kind == _FINITE and not math.isfinite(value):
        found.append((FieldViolation(name, f"must be a finite number (got {value})"), {}))


def _timestamp(message: Any, name: str) -> Iterable[tuple[FieldViolation, dict[str, str]]]:
    seconds, nanos = message.seconds, message.nanos
    if not MIN_TIMESTAMP_SECONDS <= seconds <= MAX_TIMESTAMP_SECONDS or not 0 <= nanos < 1_000_000_000:
        problem = f"must be a time from 0001-01-01 to 9999-12-31 (got {seconds} s, {nanos} ns)"
        yield FieldViolation(name, problem), {}
