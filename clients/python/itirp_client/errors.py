"""Typed errors: one class per way a call can go wrong, mapped from gRPC status codes."""

from __future__ import annotations

import re

import grpc

__all__ = [
    "DuplicateOrder",
    "InvalidRequest",
    "ItirpError",
    "NotAuthenticated",
    "NotFound",
    "OrderStateConflict",
    "PermissionDenied",
    "RiskRejected",
    "ServerUnavailable",
    "TooManyRequests",
    "from_rpc_error",
]


class ItirpError(Exception):
    """Base class. `code` is the gRPC status code name, `message` the server's words."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class NotAuthenticated(ItirpError):
    """No usable token: log in again (bad credentials, expired, revoked, disabled user)."""


class PermissionDenied(ItirpError):
    """Your role is too low for this call."""


class InvalidRequest(ItirpError):
    """A field is wrong; `field` names it."""

    @property
    def field(self) -> str:
        return self.message.split(":", 1)[0] if ":" in self.message else ""


class NotFound(ItirpError):
    pass


class DuplicateOrder(ItirpError):
    """The client_order_id was used before; `order_id` is the order it belongs to."""

    _ID = re.compile(r"for order ([0-9a-f-]{36})")

    @property
    def order_id(self) -> str:
        match = self._ID.search(self.message)
        return match.group(1) if match else ""


class OrderStateConflict(ItirpError):
    """The order (or server) is not in a state that allows this, e.g. cancelling an executed order."""


class TooManyRequests(ItirpError):
    """A limit was hit: a locked-out login, or a stream that fell too far behind."""


class ServerUnavailable(ItirpError):
    """The server could not be reached (after retries), or could not record the request."""


class RiskRejected(ItirpError):
    """Pre-trade risk rejected the order. `order` is the rejected order, `violations` why."""

    def __init__(self, message: str, *, order: object, violations: list[object]) -> None:
        super().__init__(message, code="OK")
        self.order = order
        self.violations = violations

    @property
    def violation_names(self) -> list[str]:
        from itirp.v1 import common_pb2

        return [common_pb2.ViolationType.Name(v.type).removeprefix("VIOLATION_TYPE_") for v in self.violations]  # type: ignore[attr-defined]


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


def from_rpc_error(error: grpc.aio.AioRpcError | grpc.RpcError) -> ItirpError:
    code = error.code()  # type: ignore[union-attr]
    cls = _BY_CODE.get(code, ItirpError)
    return cls(error.details() or code.name, code=code.name)  # type: ignore[union-attr]
