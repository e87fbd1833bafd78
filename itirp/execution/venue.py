"""The venue interface, and a simulated venue for the desk's tests and demos.

A venue fills an order or raises: `TransientVenueError` (worth retrying: a timeout, a dropped
connection, a busy venue) or `PermanentVenueError` (a rejection that retrying cannot change).
"""

from __future__ import annotations

import asyncio
import random
from typing import Protocol

from itirp.domain.venue import Fill, VenueOrder
from itirp.ids import random_hex

__all__ = ["Fill", "PermanentVenueError", "SimulatedVenue", "TransientVenueError", "Venue", "VenueOrder"]


class TransientVenueError(Exception):
    """The attempt failed; another attempt may succeed."""


class PermanentVenueError(Exception):
    """The venue rejected the order; never retried."""


class Venue(Protocol):
    name: str

    async def execute(self, order: VenueOrder) -> Fill: ...


class SimulatedVenue:
    """Fills at the order's price after `latency_seconds`; fails transiently with probability
    `failure_rate` (seeded, so a test can force failures); rejects permanently symbols listed in
    `reject_symbols`."""

    name = "simulated"

    def __init__(
        self,
        *,
        latency_seconds: float = 0.0,
        failure_rate: float = 0.0,
        seed: int | None = None,
        reject_symbols: frozenset[str] = frozenset(),
    ) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure rate must be between 0 and 1")
        self.latency_seconds = latency_seconds
        self.failure_rate = failure_rate
        self.reject_symbols = reject_symbols
        self._rng = random.Random(seed)
        self.calls = 0

    async def execute(self, order: VenueOrder) -> Fill:
        self.calls += 1
        failing = self.failure_rate > 0 and self._rng.random() < self.failure_rate
        if self.latency_seconds > 0:
            await asyncio.sleep(self.latency_seconds)
        if order.symbol in self.reject_symbols:
            raise PermanentVenueError(f"venue rejected {order.symbol}: symbol not tradable")
        if failing:
            raise TransientVenueError("simulated venue: transient failure (connection reset)")
        return Fill(order.quantity, order.price, f"sim-{random_hex(8)}")
