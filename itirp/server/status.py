"""The one mapping of application errors to gRPC status codes and messages."""

from __future__ import annotations

import grpc

from itirp import errors
from itirp.store import StoreError

__all__ = ["MAPPED", "STATUS_FOR", "status_for"]

STATUS_FOR: dict[type[Exception], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    # The event store could not make the request durable: nothing was acknowledged.
    StoreError: grpc.StatusCode.UNAVAILABLE,
}

#: The exceptions the interceptor turns into a status; anything else is INTERNAL.
MAPPED: tuple[type[Exception], ...] = tuple(STATUS_FOR)


def status_for(error: Exception) -> tuple[grpc.StatusCode, str]:
    """The status code and the caller-facing message for a mapped error."""
    for cls in type(error).__mro__:
        code = STATUS_FOR.get(cls)  # type: ignore[arg-type]
        if code is not None:
            break
    else:
        code = grpc.StatusCode.UNKNOWN
    if isinstance(error, StoreError):
        return code, f"the event log could not record this request, so it was not carried out ({error})"
    return code, str(error)
