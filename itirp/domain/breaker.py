"""The circuit breaker: CLOSED -> (threshold consecutive failures) -> OPEN -> (open period over)
-> HALF_OPEN: one probe; success -> CLOSED, failure -> OPEN again.

Pure: the caller passes the time, and every transition is returned so the caller can record it as
an event. The same state is rebuilt on restart by `apply_*` from those events.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["BreakerState", "CircuitBreaker", "Transition"]


class BreakerState(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class Transition:
    to: BreakerState
    consecutive_failures: int
    open_until_us: int = 0


class CircuitBreaker:
    def __init__(self, *, threshold: int = 5, open_seconds: float = 60.0) -> None:
        self.threshold = threshold
        self.open_us = int(open_seconds * 1_000_000)
        self.state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.open_until_us = 0
        self.probe_in_flight = False

    # -- decisions (the live path) -------------------------------------------------------------

    def admit(self, now_us: int) -> tuple[bool, Transition | None]:
        """May a venue call go out now? Returns (allowed, transition to record)."""
        if self.state is BreakerState.CLOSED:
            return True, None
        if self.state is BreakerState.OPEN:
            if now_us < self.open_until_us:
                return False, None
            return True, Transition(BreakerState.HALF_OPEN, self.consecutive_failures)
        # HALF_OPEN: exactly one probe at a time
        if self.probe_in_flight:
            return False, None
        return True, None

    def on_failure(self, now_us: int) -> Transition | None:
        """A venue attempt failed. Returns the OPENED transition when this failure opens it."""
        failures = self.consecutive_failures + 1
        if self.state is BreakerState.HALF_OPEN or (self.state is BreakerState.CLOSED and failures >= self.threshold):
            return Transition(BreakerState.OPEN, failures, now_us + self.open_us)
        return None

    def on_success(self) -> Transition | None:
        if self.state is not BreakerState.CLOSED:
            return Transition(BreakerState.CLOSED, 0)
        return None

    # -- the fold (live and replay) ------------------------------------------------------------

    def apply_transition(self, transition: Transition) -> None:
        self.state = transition.to
        if transition.to is BreakerState.OPEN:
            self.open_until_us = transition.open_until_us
            self.probe_in_flight = False
        elif transition.to is BreakerState.CLOSED:
            self.consecutive_failures = 0
            self.open_until_us = 0
            self.probe_in_flight = False
        else:  # HALF_OPEN: the admitted call is the probe
            self.probe_in_flight = True

    def apply_failure(self) -> None:
        self.consecutive_failures += 1
        if self.state is BreakerState.HALF_OPEN:
            self.probe_in_flight = False

    def apply_success(self) -> None:
        self.consecutive_failures = 0
