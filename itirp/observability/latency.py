"""A small fixed-memory latency histogram (log-spaced buckets, ~4% resolution) for p50/p99 since
start, without keeping every sample."""

from __future__ import annotations

import math

__all__ = ["LatencyHistogram"]

_MIN = 1e-6  # 1 µs
_GROWTH = 1.04
_BUCKETS = 600  # 1 µs * 1.04^600 ≈ 16,000 s


class LatencyHistogram:
    def __init__(self) -> None:
        self._counts = [0] * (_BUCKETS + 1)
        self.count = 0
        self.total = 0.0

    def record(self, seconds: float) -> None:
        index = 0 if seconds <= _MIN else min(_BUCKETS, int(math.log(seconds / _MIN, _GROWTH)) + 1)
        self._counts[index] += 1
        self.count += 1
        self.total += seconds

    def quantile(self, q: float) -> float:
        """Upper edge of the bucket holding the q-quantile (0 when empty)."""
        if not self.count:
            return 0.0
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for index, n in enumerate(self._counts):
            seen += n
            if seen >= rank:
                return _MIN * _GROWTH**index
        return _MIN * _GROWTH**_BUCKETS
