"""The one mapping of application errors to gRPC statuses a program can read.

An error becomes a `google.rpc.Status` (sent in the `grpc-status-details-bin` trailer by
`grpc_status.rpc_status.to_status`, as grpc's `examples/python/errors`): the status code, the
message a trader reads (unchanged), and details for programs:

- `google.rpc.ErrorInfo` always: the error's `reason`, domain `itirp.v1`, its `metadata`;
- `google.rpc.BadRequest` with one field violation per bad field (INVALID_ARGUMENT);
- `google.rpc.RetryInfo` when waiting helps (`retry_after_seconds`).

`REASONS` is the one table of reason -> status code; `docs/api.md` shows it (`reason_table()`
renders it, and a unit test fails when the two differ).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from itirp import errors
from itirp.app.fanout import RECONNECT_AFTER_SECONDS, RESUBSCRIBE_AFTER_SECONDS
from itirp.errors import DOMAIN, FieldViolation, ItirpError, Reason
from itirp.store import StoreError
from itirp.store.errors import NotLeaderError

__all__ = [
    "MAPPED",
    "NOT_LEADER_RETRY_SECONDS",
    "REASONS",
    "STATUS_FOR",
    "STORE_RETRY_SECONDS",
    "ReasonDoc",
    "reason_table",
    "rich_status",
    "status_for",
]

_C = grpc.StatusCode
_CODE_OF = {code.value[0]: code for code in grpc.StatusCode}

#: How long a caller should wait before retrying a request the event log could not record.
STORE_RETRY_SECONDS = 5.0
#: How soon a client may try again after NOT_LEADER (at the leader named, or anywhere when the
#: leader is not known yet: a takeover takes about a lease's length).
NOT_LEADER_RETRY_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class ReasonDoc:
    """What a reason means to a program: its status code, the metadata keys it may carry, what
    its retry hint (`RetryInfo`) is, and a short meaning."""

    code: grpc.StatusCode
    meaning: str
    metadata: tuple[str, ...] = ()
    retry: str = ""


#: The one table: every `Reason`, the status code it is sent with, its metadata and retry hint.
REASONS: Mapping[Reason, ReasonDoc] = {
    Reason.INVALID_ARGUMENT: ReasonDoc(
        _C.INVALID_ARGUMENT, "a request field is wrong; `BadRequest` names each bad field"
    ),
    Reason.RESUME_POINT_BEYOND_HEAD: ReasonDoc(
        _C.INVALID_ARGUMENT,
        "`from_sequence` is beyond the newest event of this server's log; resume from a sequence it sent",
        ("head_sequence",),
    ),
    Reason.UNKNOWN_SYMBOL: ReasonDoc(
        _C.INVALID_ARGUMENT, "the order's symbol is not a listed instrument (a typo?)", ("symbol",)
    ),
    Reason.VALUE_TOO_LONG: ReasonDoc(
        _C.INVALID_ARGUMENT,
        "a request string (or metadata value, or list) is longer than its documented maximum; nothing was recorded",
        ("field", "max_length"),
    ),
    Reason.PAGE_TOKEN_INVALID: ReasonDoc(
        _C.INVALID_ARGUMENT,
        "`page_token` is not a token this server issued for this listing; start again without one",
    ),
    Reason.REQUEST_UNDECODABLE: ReasonDoc(
        _C.INVALID_ARGUMENT, "the request's bytes are not a valid protobuf message of the RPC's request type"
    ),
    Reason.CREDENTIALS_MISSING: ReasonDoc(_C.UNAUTHENTICATED, "no `authorization: Bearer <token>` metadata"),
    Reason.TOKEN_INVALID: ReasonDoc(
        _C.UNAUTHENTICATED,
        "the token (or the metadata) is malformed, not HS256, badly signed or lacks a claim; log in again",
    ),
    Reason.TOKEN_EXPIRED: ReasonDoc(
        _C.UNAUTHENTICATED,
        "the token has expired (also ends a stream opened with it); refresh it before, or log in again",
    ),
    Reason.TOKEN_REVOKED: ReasonDoc(
        _C.UNAUTHENTICATED, "the token was revoked (logged out); also ends a stream opened with it"
    ),
    Reason.USER_DISABLED: ReasonDoc(
        _C.UNAUTHENTICATED,
        "the user is disabled (or no longer exists); also ends the user's open streams",
        ("username",),
    ),
    Reason.CREDENTIALS_CHANGED: ReasonDoc(
        _C.UNAUTHENTICATED,
        "the token was issued before the user's password changed or the user was disabled; log in again",
        ("username",),
    ),
    Reason.ROLE_CHANGED: ReasonDoc(
        _C.UNAUTHENTICATED,
        "the user's role changed while the stream was open; refresh the token and open the stream again",
        ("username", "role"),
    ),
    Reason.BAD_CREDENTIALS: ReasonDoc(
        _C.UNAUTHENTICATED, "wrong username or password (the same answer for an unknown user)"
    ),
    Reason.ROLE_REQUIRED: ReasonDoc(
        _C.PERMISSION_DENIED,
        "your role is too low for the RPC (roles as in `itirp.v1.Role`, e.g. `ROLE_RISK_MANAGER`)",
        ("method", "required_role", "role"),
    ),
    Reason.METHOD_NOT_OPEN: ReasonDoc(_C.PERMISSION_DENIED, "the RPC is open to no role", ("method",)),
    Reason.ACCOUNT_NOT_ENTITLED: ReasonDoc(
        _C.PERMISSION_DENIED,
        "you are not entitled to that account (see AccountService.ListEntitlements)",
        ("account_id", "username"),
    ),
    Reason.ORDER_NOT_FOUND: ReasonDoc(_C.NOT_FOUND, "no such order (or not yours)", ("order_id",)),
    Reason.INSTRUMENT_NOT_FOUND: ReasonDoc(_C.NOT_FOUND, "no instrument of that symbol is listed", ("symbol",)),
    Reason.ACCOUNT_NOT_FOUND: ReasonDoc(_C.NOT_FOUND, "no account of that id (see ListAccounts)", ("account_id",)),
    Reason.DESK_NOT_FOUND: ReasonDoc(_C.NOT_FOUND, "no desk of that id (see ListDesks)", ("desk_id",)),
    Reason.NOT_FOUND: ReasonDoc(_C.NOT_FOUND, "nothing matches what was asked for"),
    Reason.DUPLICATE_CLIENT_ORDER_ID: ReasonDoc(
        _C.ALREADY_EXISTS,
        "the `client_order_id` was already used; `existing_order_id` is the order it belongs to",
        ("client_order_id", "existing_order_id", "order_status"),
    ),
    Reason.ORDER_NOT_CANCELLABLE: ReasonDoc(
        _C.FAILED_PRECONDITION, "the order can no longer be cancelled", ("order_id", "order_status")
    ),
    Reason.ORDER_NOT_AMENDABLE: ReasonDoc(
        _C.FAILED_PRECONDITION,
        "only an order resting in the internal venue's book can be amended",
        ("order_id", "order_status"),
    ),
    Reason.AMENDMENT_REFUSED_BY_RISK: ReasonDoc(
        _C.FAILED_PRECONDITION,
        "pre-trade risk refused the amendment (the message lists why)",
        ("order_id", "violations"),
    ),
    Reason.KILL_SWITCH_ACTIVE: ReasonDoc(
        _C.FAILED_PRECONDITION,
        "the kill switch is on: an amendment that adds risk is refused",
        ("order_id", "violations"),
    ),
    Reason.MARKET_ORDER_NEEDS_BOOK: ReasonDoc(_C.FAILED_PRECONDITION, "a MARKET order needs the internal venue"),
    Reason.NO_LIQUIDITY: ReasonDoc(
        _C.FAILED_PRECONDITION, "nothing rests on the other side of the book for a MARKET order", ("symbol", "side")
    ),
    Reason.READ_ONLY: ReasonDoc(
        _C.FAILED_PRECONDITION, "the server is read-only (started for investigation): nothing can be recorded"
    ),
    Reason.INSTRUMENT_NOT_ACTIVE: ReasonDoc(
        _C.FAILED_PRECONDITION, "the instrument is halted or closed: no new orders", ("symbol", "status")
    ),
    Reason.VENUE_NOT_INTERNAL: ReasonDoc(
        _C.FAILED_PRECONDITION, "market data needs the internal venue (`--venue internal`)"
    ),
    Reason.ORDER_NOT_RELEASABLE: ReasonDoc(
        _C.FAILED_PRECONDITION,
        "only an order rejected by pre-trade controls (not by the kill switch) can be released",
        ("order_id", "order_status"),
    ),
    Reason.FAILED_PRECONDITION: ReasonDoc(
        _C.FAILED_PRECONDITION, "the system is not in a state that allows the request"
    ),
    Reason.LOCKED_OUT: ReasonDoc(
        _C.RESOURCE_EXHAUSTED,
        "too many failed logins: the user is locked out for a while",
        ("retry_after_seconds", "username"),
        "the rest of the lockout",
    ),
    Reason.SUBSCRIBER_TOO_SLOW: ReasonDoc(
        _C.RESOURCE_EXHAUSTED,
        "the stream fell too far behind and was cut off; subscribe again from `resume_from_sequence`",
        ("resume_from_sequence",),
        f"{RESUBSCRIBE_AFTER_SECONDS:g} s",
    ),
    Reason.THROTTLED: ReasonDoc(
        _C.RESOURCE_EXHAUSTED,
        "too many messages of one kind per second (per trader or per order-entry session); slow down",
        ("message", "scope", "rate_per_second"),
        "until a token is free",
    ),
    Reason.SHUTTING_DOWN: ReasonDoc(
        _C.UNAVAILABLE,
        "the server is shutting down; an event stream says where to resume (`resume_from_sequence`)",
        ("resume_from_sequence",),
        f"{RECONNECT_AFTER_SECONDS:g} s (event streams)",
    ),
    Reason.STORE_UNAVAILABLE: ReasonDoc(
        _C.UNAVAILABLE,
        "the event log could not record the request, so it was not carried out",
        (),
        f"{STORE_RETRY_SECONDS:g} s",
    ),
    Reason.NOT_LEADER: ReasonDoc(
        _C.UNAVAILABLE,
        "this node is a standby (or lost its lease): send writes to the leader the details name; "
        "nothing was recorded",
        ("leader_address", "leader_node_id", "term"),
        f"{NOT_LEADER_RETRY_SECONDS:g} s",
    ),
}

#: Status code of each error class (that of its default reason); kept for callers that map by class.
STATUS_FOR: dict[type[Exception], grpc.StatusCode] = {
    cls: REASONS[cls.default_reason].code
    for cls in (
        errors.InvalidArgument,
        errors.Unauthenticated,
        errors.PermissionDenied,
        errors.NotFound,
        errors.AlreadyExists,
        errors.FailedPrecondition,
        errors.ResourceExhausted,
        errors.Unavailable,
    )
}
# The event store could not make the request durable: nothing was acknowledged.
STATUS_FOR[StoreError] = REASONS[Reason.STORE_UNAVAILABLE].code

#: The exceptions the interceptor turns into a status; anything else is INTERNAL.
MAPPED: tuple[type[Exception], ...] = (ItirpError, StoreError)


def _pack(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def _duration(seconds: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromNanoseconds(round(seconds * 1e9))
    return duration


def rich_status(error: Exception) -> status_pb2.Status:
    """The `google.rpc.Status` of a mapped error (an `ItirpError` or a `StoreError`)."""
    violations: tuple[FieldViolation, ...] = ()
    metadata: Mapping[str, str] = {}
    if isinstance(error, ItirpError):
        reason, message, retry = error.reason, error.message, error.retry_after_seconds
        metadata, violations = error.metadata, error.violations
    elif isinstance(error, NotLeaderError):
        reason, retry = Reason.NOT_LEADER, NOT_LEADER_RETRY_SECONDS
        leader = error.leader_address or "not known yet (a takeover is under way)"
        message = f"this node does not lead the event log, so nothing was recorded: send it to the leader ({leader})"
        metadata = {
            "leader_address": error.leader_address,
            "leader_node_id": error.leader_node,
            "term": str(error.term),
        }
    elif isinstance(error, StoreError):
        reason, retry = Reason.STORE_UNAVAILABLE, STORE_RETRY_SECONDS
        message = f"the event log could not record this request, so it was not carried out ({error})"
    else:
        raise TypeError(f"not an application error: {type(error).__name__}")
    code = REASONS[reason].code
    status = status_pb2.Status(code=code.value[0], message=message)
    status.details.append(_pack(error_details_pb2.ErrorInfo(reason=reason.value, domain=DOMAIN, metadata=metadata)))
    if violations:
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in violations
            ]
        )
        status.details.append(_pack(bad_request))
    if retry is not None:
        status.details.append(_pack(error_details_pb2.RetryInfo(retry_delay=_duration(retry))))
    return status


def status_for(error: Exception) -> tuple[grpc.StatusCode, str]:
    """The status code and the caller-facing message of a mapped error."""
    status = rich_status(error)
    return _CODE_OF[status.code], status.message


def reason_table() -> list[str]:
    """`REASONS` as the markdown table `docs/api.md` shows (header, rule, one row per reason)."""
    rows = [
        "| reason | status code | metadata | retry hint | meaning |",
        "|---|---|---|---|---|",
    ]
    for reason, doc in REASONS.items():
        keys = ", ".join(f"`{key}`" for key in doc.metadata) or "—"
        rows.append(f"| `{reason.value}` | `{doc.code.name}` | {keys} | {doc.retry or '—'} | {doc.meaning} |")
    return rows
