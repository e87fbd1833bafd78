"""Typed errors: one class per way a call can go wrong, mapped from gRPC status codes and filled
from the error details the server sends (`google.rpc.Status` in the `grpc-status-details-bin`
trailer): `ErrorInfo` (a stable `reason` and `metadata`), `BadRequest` (`field_violations`) and
`RetryInfo` (`retry_after`). Programs branch on `reason`, never on the English `message`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

# The server's stable reasons, from the one table (itirp.errors ships in the itirp distribution
# this client depends on, and imports nothing but the standard library). A newer server may send
# a reason this version does not know: `ItirpError.reason` is then that string.
from itirp.errors import DOMAIN, Reason

__all__ = [
    "DOMAIN",
    "DuplicateOrder",
    "FieldViolation",
    "InvalidRequest",
    "ItirpError",
    "NotAuthenticated",
    "NotFound",
    "OrderStateConflict",
    "PermissionDenied",
    "Reason",
    "RiskRejected",
    "ServerUnavailable",
    "TooManyRequests",
    "from_rpc_error",
]



class FieldViolation(NamedTuple):
    """One bad request field (`google.rpc.BadRequest.FieldViolation`)."""

    field: str
    description: str


class ItirpError(Exception):
    """Base class. `code` is the gRPC status code name, `message` the server's words (for people);
    `reason`, `metadata`, `field_violations` and `retry_after` come from the error details (for
    programs: empty, or None, when the server sent none)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        reason: str = "",
        domain: str = "",
        metadata: Mapping[str, str] | None = None,
        field_violations: Sequence[FieldViolation] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason
        self.domain = domain
        self.metadata: dict[str, str] = dict(metadata or {})
        self.field_violations: tuple[FieldViolation, ...] = tuple(field_violations)
        self.retry_after = retry_after
        """Seconds the server asks to wait before trying again (`RetryInfo`), else None."""

    @property
    def resume_from_sequence(self) -> int | None:
        """Where a cut-off stream can resume (`from_sequence`), when the server said so."""
        value = self.metadata.get("resume_from_sequence", "")
        return int(value) if value.isdigit() else None


class NotAuthenticated(ItirpError):
    """No usable token: log in again (bad credentials, expired, revoked, disabled user)."""


class PermissionDenied(ItirpError):
    """Your role is too low for this call."""


class InvalidRequest(ItirpError):
    """A field is wrong; `field` names the first one (`field_violations` has them all)."""

    @property
    def field(self) -> str:
        return self.field_violations[0].field if self.field_violations else ""


class NotFound(ItirpError):
    pass


class DuplicateOrder(ItirpError):
    """The client_order_id was used before; `order_id` is the order it belongs to."""

    @property
    def order_id(self) -> str:
        return self.metadata.get("existing_order_id", "")


class OrderStateConflict(ItirpError):
    """The order (or server) is not in a state that allows this, e.g. cancelling an executed order."""


class TooManyRequests(ItirpError):
    """A limit was hit: a locked-out login, or a stream that fell too far behind (`retry_after`)."""


class ServerUnavailable(ItirpError):
    """The server could not be reached (after retries), or could not record the request."""


class RiskRejected(ItirpError):
    """Pre-trade risk rejected the order. `order` is the rejected order, `violations` why."""

    def __init__(self, message: str, *, order: Any, violations: list[Any]) -> None:
        super().__init__(message, code="OK")
        self.order = order
        self.violations = violations

    @property
    def violation_names(self) -> list[str]:
        from itirp.v1 import common_pb2

        return [common_pb2.ViolationType.Name(v.type).removeprefix("VIOLATION_TYPE_") for v in self.violations]


_BY_CODE: dict[grpc.StatusCode, type[ItirpError]] = {
    grpc.StatusCode.UNAUTHENTICATED: NotAuthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidRequest,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: DuplicateOrder,
    grpc.StatusCode.FAILED_PRECONDITION: OrderStateConflict,
    grpc.StatusCode.RESOURCE_EXHAUSTED: TooManyRequests,
    grpc.StatusCode.UNAVAILABLE: ServerUnavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: ServerUnavailable,
}


def _details(error: grpc.RpcError) -> dict[str, Any]:
    """The keyword arguments the `google.rpc.Status` trailer gives (none when there is none, or it
    does not belong to this call)."""
    try:
        status = rpc_status.from_call(error)
    except (ValueError, AttributeError, TypeError):  # a Status of another code or message, or no call
        return {}
    if status is None:
        return {}
    found: dict[str, Any] = {}
    info, bad, retry = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest(), error_details_pb2.RetryInfo()
    for detail in status.details:
        if detail.Unpack(info):
            found.update(reason=info.reason, domain=info.domain, metadata=dict(info.metadata))
        elif detail.Unpack(bad):
            found["field_violations"] = [FieldViolation(v.field, v.description) for v in bad.field_violations]
        elif detail.Unpack(retry):
            found["retry_after"] = retry.retry_delay.seconds + retry.retry_delay.nanos / 1e9
    return found


def from_rpc_error(error: grpc.RpcError) -> ItirpError:
    """The typed error for a failed call (`grpc.aio.AioRpcError`, or anything with `code()`,
    `details()` and `trailing_metadata()`)."""
    code: grpc.StatusCode = error.code()
    cls = _BY_CODE.get(code, ItirpError)
    return cls(error.details() or code.name, code=code.name, **_details(error))
