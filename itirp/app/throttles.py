"""Message throttles: token buckets (`itirp.domain.throttle`) per trader, shared by the unary
calls and the order-entry sessions, and per session, one of each for new orders, amendments and
cancels (`config.throttle`). A message over its rate is refused before anything is recorded:
RESOURCE_EXHAUSTED, reason THROTTLED, with the wait until a token is free (`RetryInfo`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from itirp.config import ThrottleConfig
from itirp.domain.throttle import TokenBucket
from itirp.errors import Reason, ResourceExhausted

__all__ = ["MessageKind", "Throttles"]

MessageKind = Literal["new", "amend", "cancel"]

_WHAT: dict[str, str] = {"new": "new orders", "amend": "amendments", "cancel": "cancels"}


class Throttles:
    def __init__(self, config: ThrottleConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rates: dict[str, float] = {
            "new": config.new_per_second,
            "amend": config.amend_per_second,
            "cancel": config.cancel_per_second,
        }
        self._clock = clock
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    def _bucket(self, scope: str, kind: str, rate: float, now: float) -> TokenBucket:
        bucket = self._buckets.get((scope, kind))
        if bucket is None:
            bucket = self._buckets[(scope, kind)] = TokenBucket(rate, now=now)
        return bucket

    def check(self, kind: MessageKind, username: str, session_id: str = "") -> None:
        """Take a token of `kind` for the trader (and the session, if any), or raise THROTTLED
        taking none."""
        rate = self._rates[kind]
        if not rate:
            return
        now = self._clock()
        scopes = [f"TRADER:{username}"]
        if session_id:
            scopes.insert(0, f"SESSION:{session_id}")
        buckets = [self._bucket(scope, kind, rate, now) for scope in scopes]
        for scope, bucket in zip(scopes, buckets, strict=True):
            wait = bucket.wait(now)
            if wait > 0:
                raise ResourceExhausted(
                    f"too many {_WHAT[kind]}: at most {rate:g} per second for {scope}; retry in {wait * 1000:.0f} ms",
                    reason=Reason.THROTTLED,
                    retry_after_seconds=wait,
                    metadata={"message": kind, "scope": scope, "rate_per_second": f"{rate:g}"},
                )
        for bucket in buckets:
            bucket.take(now)

    def forget_session(self, session_id: str) -> None:
        for kind in self._rates:
            self._buckets.pop((f"SESSION:{session_id}", kind), None)
