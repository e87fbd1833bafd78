"""Errors the application raises for a caller's mistake or a refused request.

Each carries the message a trader reads and, for programs, a stable `reason` (one of `Reason`),
string `metadata`, the bad fields (`violations`, for INVALID_ARGUMENT) and, where waiting helps,
`retry_after_seconds`. They say nothing about transport: `itirp.server.status` maps each class to
one gRPC status code and the details to `google.rpc.ErrorInfo`, `BadRequest` and `RetryInfo`.
Anything else that escapes a handler is a programming error and becomes INTERNAL.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "DOMAIN",
    "AlreadyExists",
    "FailedPrecondition",
    "FieldViolation",
    "InvalidArgument",
    "ItirpError",
    "NotFound",
    "PermissionDenied",
    "Reason",
    "ResourceExhausted",
    "Unauthenticated",
    "Unavailable",
]

#: `google.rpc.ErrorInfo.domain` of every error this server raises.
DOMAIN = "itirp.v1"


class Reason(enum.StrEnum):
    """The stable, machine-readable reasons (`google.rpc.ErrorInfo.reason`); `docs/api.md` lists
    them with their status code and metadata. Values never change once published."""

    # INVALID_ARGUMENT
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    RESUME_POINT_BEYOND_HEAD = "RESUME_POINT_BEYOND_HEAD"
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    VALUE_TOO_LONG = "VALUE_TOO_LONG"
    PAGE_TOKEN_INVALID = "PAGE_TOKEN_INVALID"
    REQUEST_UNDECODABLE = "REQUEST_UNDECODABLE"
    # UNAUTHENTICATED
    CREDENTIALS_MISSING = "CREDENTIALS_MISSING"
    TOKEN_INVALID = "TOKEN_INVALID"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    USER_DISABLED = "USER_DISABLED"
    CREDENTIALS_CHANGED = "CREDENTIALS_CHANGED"
    ROLE_CHANGED = "ROLE_CHANGED"
    BAD_CREDENTIALS = "BAD_CREDENTIALS"
    # PERMISSION_DENIED
    ROLE_REQUIRED = "ROLE_REQUIRED"
    METHOD_NOT_OPEN = "METHOD_NOT_OPEN"
    ACCOUNT_NOT_ENTITLED = "ACCOUNT_NOT_ENTITLED"
    # NOT_FOUND
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    NOT_FOUND = "NOT_FOUND"
    INSTRUMENT_NOT_FOUND = "INSTRUMENT_NOT_FOUND"
    ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
    DESK_NOT_FOUND = "DESK_NOT_FOUND"
    # ALREADY_EXISTS
    DUPLICATE_CLIENT_ORDER_ID = "DUPLICATE_CLIENT_ORDER_ID"
    # FAILED_PRECONDITION
    ORDER_NOT_CANCELLABLE = "ORDER_NOT_CANCELLABLE"
    ORDER_NOT_AMENDABLE = "ORDER_NOT_AMENDABLE"
    AMENDMENT_REFUSED_BY_RISK = "AMENDMENT_REFUSED_BY_RISK"
    KILL_SWITCH_ACTIVE = "KILL_SWITCH_ACTIVE"
    MARKET_ORDER_NEEDS_BOOK = "MARKET_ORDER_NEEDS_BOOK"
    NO_LIQUIDITY = "NO_LIQUIDITY"
    READ_ONLY = "READ_ONLY"
    INSTRUMENT_NOT_ACTIVE = "INSTRUMENT_NOT_ACTIVE"
    VENUE_NOT_INTERNAL = "VENUE_NOT_INTERNAL"
    ORDER_NOT_RELEASABLE = "ORDER_NOT_RELEASABLE"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    # RESOURCE_EXHAUSTED
    LOCKED_OUT = "LOCKED_OUT"
    SUBSCRIBER_TOO_SLOW = "SUBSCRIBER_TOO_SLOW"
    THROTTLED = "THROTTLED"
    # UNAVAILABLE
    SHUTTING_DOWN = "SHUTTING_DOWN"
    STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
    NOT_LEADER = "NOT_LEADER"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad request field (`google.rpc.BadRequest.FieldViolation`)."""

    field: str
    description: str


class ItirpError(Exception):
    """Base class: `str(error)` is the message sent to the caller."""

    #: The reason when the raiser names none (each subclass sets its own).
    default_reason: Reason = Reason.FAILED_PRECONDITION

    def __init__(
        self,
        message: str,
        *,
        reason: Reason | None = None,
        metadata: Mapping[str, str] | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason: Reason = reason or self.default_reason
        self.metadata: dict[str, str] = dict(metadata or {})
        self.retry_after_seconds = retry_after_seconds
        self.violations: tuple[FieldViolation, ...] = ()


class InvalidArgument(ItirpError):
    """A request field is malformed; the message names the field (one violation per bad field)."""

    default_reason = Reason.INVALID_ARGUMENT

    def __init__(
        self,
        field: str,
        problem: str,
        *,
        reason: Reason | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{field}: {problem}", reason=reason, metadata=metadata)
        self.field = field
        self.violations = (FieldViolation(field, problem),)

    @classmethod
    def whole_request(cls, message: str, *, reason: Reason) -> InvalidArgument:
        """The request as a whole is wrong (its bytes do not decode): no field to name."""
        error = cls("request", message, reason=reason)
        error.message = message
        error.args = (message,)
        error.field = ""
        error.violations = ()
        return error

    @classmethod
    def of(cls, violations: Sequence[FieldViolation]) -> InvalidArgument:
        """Several bad fields at once: the message lists them all, in order."""
        first, *rest = violations
        error = cls(first.field, first.description)
        if rest:
            error.message = "; ".join(f"{v.field}: {v.description}" for v in violations)
            error.args = (error.message,)
            error.violations = tuple(violations)
        return error


class Unauthenticated(ItirpError):
    """No usable credentials: missing, garbled, expired, forged or revoked token; bad login."""

    default_reason = Reason.TOKEN_INVALID


class PermissionDenied(ItirpError):
    """The caller is authenticated but their role is too low."""

    default_reason = Reason.ROLE_REQUIRED


class NotFound(ItirpError):
    """The thing asked for does not exist (or is not the caller's to see)."""

    default_reason = Reason.NOT_FOUND


class AlreadyExists(ItirpError):
    """A uniqueness rule was hit (e.g. a repeated client_order_id)."""

    default_reason = Reason.DUPLICATE_CLIENT_ORDER_ID


class FailedPrecondition(ItirpError):
    """The request is well formed but the system is not in a state that allows it."""

    default_reason = Reason.FAILED_PRECONDITION


class ResourceExhausted(ItirpError):
    """A quota or rate limit was hit (e.g. a user locked out after failed logins)."""

    default_reason = Reason.LOCKED_OUT


class Unavailable(ItirpError):
    """The server cannot serve the request right now (e.g. the event store failed)."""

    default_reason = Reason.SHUTTING_DOWN
