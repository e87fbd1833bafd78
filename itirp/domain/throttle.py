"""A token bucket: at most `burst` messages at once, refilled at `rate` tokens per second.

Pure: the caller passes the time (`now`, seconds on any monotonic scale).

    bucket = TokenBucket(100.0)          # 100 per second, bursts of 100
    wait = bucket.take(now)              # 0.0: taken; else the seconds until a token is free
"""

from __future__ import annotations

__all__ = ["TokenBucket"]

#: A token short by less than this is whole (the refill is floating-point arithmetic).
_EPSILON = 1e-9


class TokenBucket:
    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: float | None = None, *, now: float = 0.0) -> None:
        if rate <= 0:
            raise ValueError("a token bucket's rate must be positive")
        self.rate = rate
        self.burst = float(rate if burst is None else burst)
        if self.burst < 1:
            raise ValueError("a token bucket's burst must be at least 1")
        self._tokens = self.burst
        self._at = now

    def _refill(self, now: float) -> None:
        if now > self._at:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now

    def wait(self, now: float) -> float:
        """The seconds until a token is free (0.0: one is free now); takes nothing."""
        self._refill(now)
        missing = 1.0 - self._tokens
        return 0.0 if missing <= _EPSILON else missing / self.rate

    def take(self, now: float) -> float:
        """Take a token if one is free (returns 0.0); else take nothing and return the seconds
        until one is."""
        wait = self.wait(now)
        if wait == 0.0:
            self._tokens = max(0.0, self._tokens - 1.0)
        return wait

    def full(self, now: float) -> bool:
        """Whether the bucket has refilled completely (it may then be forgotten)."""
        self._refill(now)
        return self._tokens >= self.burst
