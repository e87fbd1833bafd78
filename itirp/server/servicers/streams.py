"""What the streaming RPCs share: page cursors and the stream markers. (A stream ends when its
access is taken away through `itirp.auth.access`, for every stream alike.)"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from itirp.app.fanout import CaughtUp, Heartbeat
from itirp.errors import InvalidArgument
from itirp.server.servicers.convert import timestamp_from_seconds
from itirp.v1 import common_pb2

__all__ = ["DEFAULT_PAGE", "MAX_PAGE", "decode_cursor", "encode_cursor", "marker", "page_size"]

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument("page_size", "must not be negative")
    return min(requested or DEFAULT_PAGE, MAX_PAGE)


def encode_cursor(key: str, value: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({key: value}).encode()).decode().rstrip("=")


def decode_cursor(token: str, keys: tuple[str, ...]) -> tuple[str, int]:
    """(key, value) of a page token this server issued, or INVALID_ARGUMENT."""
    try:
        cursor = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if isinstance(cursor, dict) and len(cursor) == 1:
            ((key, value),) = cursor.items()
            if key in keys and isinstance(value, int) and value >= 0:
                return key, value
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise InvalidArgument("page_token", "not a token this server issued; start again without one")


def marker(item: CaughtUp | Heartbeat, clock: Callable[[], float]) -> dict[str, Any]:
    """The keyword argument of a stream response for a caught-up marker or a heartbeat (`Any`: each
    stream's response type takes it)."""
    if isinstance(item, CaughtUp):
        return {"caught_up": common_pb2.StreamCaughtUp(sequence=item.sequence)}
    heartbeat = common_pb2.StreamHeartbeat(timestamp=timestamp_from_seconds(clock()), head_sequence=item.head_sequence)
    return {"heartbeat": heartbeat}
