"""What the listings and streaming RPCs share: page sizes, the stream markers, the revocation check
(page tokens: `itirp.page_tokens`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from itirp.app.fanout import CaughtUp, Heartbeat
from itirp.auth.service import AuthService
from itirp.errors import InvalidArgument, Reason, Unauthenticated
from itirp.server.servicers.convert import timestamp_from_seconds
from itirp.v1 import common_pb2

__all__ = ["DEFAULT_PAGE", "MAX_PAGE", "marker", "page_size", "revocation_check"]

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument("page_size", "must not be negative")
    return min(requested or DEFAULT_PAGE, MAX_PAGE)


def revocation_check(auth: AuthService, token_id: str) -> Callable[[], None]:
    """For long streams: a stream outlives its token's expiry, but not its revocation."""

    def check() -> None:
        if auth.is_revoked(token_id):
            raise Unauthenticated("token has been revoked (logged out); the stream ends", reason=Reason.TOKEN_REVOKED)

    return check


def marker(item: CaughtUp | Heartbeat, clock: Callable[[], float]) -> dict[str, Any]:
    """The keyword argument of a stream response for a caught-up marker or a heartbeat (`Any`: each
    stream's response type takes it)."""
    if isinstance(item, CaughtUp):
        return {"caught_up": common_pb2.StreamCaughtUp(sequence=item.sequence)}
    heartbeat = common_pb2.StreamHeartbeat(timestamp=timestamp_from_seconds(clock()), head_sequence=item.head_sequence)
    return {"heartbeat": heartbeat}
