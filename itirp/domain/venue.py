"""What an order is at an external venue and what the venue says about it: the value types the
core records and the venue adapters in `itirp.execution` speak.

A venue knows an order by our order id (FIX `ClOrdID`): sending the same id twice never makes
two orders. Every answer is an `ExecutionReport` of the order's whole state at the venue - its
fills so far, each with the venue's execution id - so the core applies only what it has not
recorded yet, and the same report can be applied twice (an acknowledgement, an unsolicited fill,
a status query after a timeout, a reconciliation after a restart) without counting anything twice.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["ExecutionReport", "Fill", "VenueOrder", "VenueOrderState"]


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """An approved order as sent to the venue."""

    order_id: str
    symbol: str
    side: str  # "BUY" / "SELL"
    quantity: int
    price: Decimal
    """The limit price (external venues take only limit orders)."""
    attempt: int
    time_in_force: str = "GTC"  # GTC / DAY rest; IOC cancels what does not fill at once; FOK all or nothing


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution at the venue."""

    quantity: int
    price: Decimal
    execution_id: str
    aggressor: bool = True
    """True when the order took liquidity (it crossed the market on arrival)."""


class VenueOrderState(enum.Enum):
    WORKING = "WORKING"
    """At the venue and open (possibly partly filled)."""
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    """Closed with something unfilled: cancelled on request, an IOC's rest, a FOK that could not fill."""
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """The order's whole state at the venue."""

    order_id: str
    state: VenueOrderState
    fills: tuple[Fill, ...] = ()
    reason: str = ""
    """Why it was rejected or cancelled, in the venue's words."""
    accepted: bool = True
    """Whether the venue ever took the order (False for a cancel that came before its order: the
    venue refuses the order when it comes)."""

    @property
    def filled_quantity(self) -> int:
        return sum(f.quantity for f in self.fills)
