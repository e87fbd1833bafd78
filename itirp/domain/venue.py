"""What an order is at an external venue and what the venue answers: the value types the core
records (`ExecutionCompleted`) and the venue adapters in `itirp.execution` speak."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Fill", "VenueOrder"]


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """One attempt to execute an approved order at the venue."""

    order_id: str
    symbol: str
    side: str  # "BUY" / "SELL"
    quantity: int
    price: Decimal
    """The limit price (the simulated venue takes only limit orders)."""
    attempt: int


@dataclass(frozen=True, slots=True)
class Fill:
    """The venue's fill of a whole order, with its execution id."""

    quantity: int
    price: Decimal
    execution_id: str
