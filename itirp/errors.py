"""Errors the application raises for a caller's mistake or a refused request.

They carry a message a trader understands and say nothing about transport; the server maps each
class to one gRPC status code in `itirp.server.status` (one table, one place). Anything else that
escapes a handler is a programming error and becomes INTERNAL.
"""

from __future__ import annotations

__all__ = [
    "AlreadyExists",
    "FailedPrecondition",
    "InvalidArgument",
    "ItirpError",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
    "Unauthenticated",
    "Unavailable",
]


class ItirpError(Exception):
    """Base class: `str(error)` is the message sent to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(ItirpError):
    """A request field is malformed; the message names the field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class Unauthenticated(ItirpError):
    """No usable credentials: missing, garbled, expired, forged or revoked token; bad login."""


class PermissionDenied(ItirpError):
    """The caller is authenticated but their role is too low."""


class NotFound(ItirpError):
    """The thing asked for does not exist (or is not the caller's to see)."""


class AlreadyExists(ItirpError):
    """A uniqueness rule was hit (e.g. a repeated client_order_id)."""


class FailedPrecondition(ItirpError):
    """The request is well formed but the system is not in a state that allows it."""


class ResourceExhausted(ItirpError):
    """A quota or rate limit was hit (e.g. a user locked out after failed logins)."""


class Unavailable(ItirpError):
    """The server cannot serve the request right now (e.g. the event store failed)."""
