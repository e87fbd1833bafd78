"""Retry policy: exponential backoff with full jitter, a fixed number of attempts, a per-attempt
timeout. Pure: the random source is passed in."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["RetryPolicy"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 30.0
    attempt_timeout: float = 5.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based): uniformly in
        [base*2^(attempt-1) / 2, base*2^(attempt-1)], capped. Half-jitter keeps the exponential
        shape (1 s, 2 s, 4 s ceilings by default) while spreading retries of many orders apart."""
        ceiling: float = min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 64))
        return ceiling / 2 + rng.random() * ceiling / 2
