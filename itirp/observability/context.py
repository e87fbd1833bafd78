"""Per-call context carried in context variables: who is calling, under which ids.

The interceptor sets these for the duration of a call; handlers read the principal from here, and
every log line written during the call carries the ids.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from itirp.auth.service import Principal

__all__ = ["correlation_id_var", "current_principal", "principal_var", "request_id_var"]

principal_var: ContextVar[Principal | None] = ContextVar("itirp_principal", default=None)
request_id_var: ContextVar[str] = ContextVar("itirp_request_id", default="")
correlation_id_var: ContextVar[str] = ContextVar("itirp_correlation_id", default="")


def current_principal() -> Principal:
    """The authenticated caller of the current call. Only open methods run without one."""
    principal = principal_var.get()
    if principal is None:
        raise LookupError("no authenticated principal in this context")
    return principal
