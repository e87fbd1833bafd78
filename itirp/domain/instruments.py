"""The instrument master: what may be traded, on which price and quantity grid, within which
price band. Pure values and checks; the core keeps the instruments as a fold of events."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from decimal import Decimal

from itirp.domain.orders import SYMBOL_RULE, valid_symbol

__all__ = ["Instrument", "InstrumentStatus", "Mark", "instrument_problems", "order_problems"]

_CURRENCY = re.compile(r"[A-Z]{3}")


class InstrumentStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    """Open for orders."""
    HALTED = "HALTED"
    """Trading suspended for now: new orders are refused."""
    CLOSED = "CLOSED"
    """No longer traded: new orders are refused."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    symbol: str
    name: str
    currency: str
    tick_size: Decimal
    """Every order price is a whole multiple of it."""
    lot_size: int = 1
    """Every order quantity is a whole multiple of it."""
    min_quantity: int = 1
    max_quantity: int = 1_000_000
    status: InstrumentStatus = InstrumentStatus.ACTIVE
    price_band_percent: Decimal | None = None
    """A limit price further than this percentage from the reference price is refused; None: no band."""
    price_band_ticks: int = 0
    """A limit price further than this many ticks from the reference price is refused; 0: none
    (with a percentage too, the tighter edge applies)."""
    reference_price: Decimal | None = None
    """The listing price: the reference until the feed records a mark."""
    updated_us: int = 0
    updated_by: str = ""

    @property
    def tradable(self) -> bool:
        return self.status is InstrumentStatus.ACTIVE


@dataclass(frozen=True, slots=True, kw_only=True)
class Mark:
    """A reference price: what risk values positions at, P&L is marked at, and price bands are
    measured from. From the market data feed (recorded as an event), or the listing price."""

    symbol: str
    price: Decimal
    bid: Decimal | None = None
    ask: Decimal | None = None
    source: str = "listing"
    """Where it came from: "simulated", "replay", "listing"."""
    priced_us: int = 0
    """When the feed priced it (the listing time for a listing price)."""
    sequence: int = 0
    """The event that recorded it."""


def instrument_problems(instrument: Instrument) -> list[tuple[str, str]]:
    """Every field of a definition that cannot be used, as (field, problem); empty when sound."""
    problems: list[tuple[str, str]] = []
    if not valid_symbol(instrument.symbol):
        problems.append(("symbol", SYMBOL_RULE))
    if not instrument.name.strip() or len(instrument.name) > 120 or not instrument.name.isprintable():
        problems.append(("name", "required, at most 120 printable characters"))
    if not _CURRENCY.fullmatch(instrument.currency):
        problems.append(("currency", 'an ISO 4217 code: three upper-case letters, e.g. "USD"'))
    tick = instrument.tick_size
    if not tick.is_finite() or tick <= 0 or tick != tick.quantize(Decimal("0.0001")):
        problems.append(("tick_size", "must be positive, at most 4 decimal places (the price grid of orders)"))
    if instrument.lot_size < 1:
        problems.append(("lot_size", "must be at least 1"))
    if instrument.min_quantity < 1:
        problems.append(("min_quantity", "must be at least 1"))
    if instrument.max_quantity < instrument.min_quantity:
        problems.append(("max_quantity", "must be at least min_quantity"))
    band = instrument.price_band_percent
    if band is not None and (not band.is_finite() or band <= 0 or band >= 100):
        problems.append(("price_band_percent", "must be above 0 and below 100 (or empty: no band)"))
    if instrument.price_band_ticks < 0:
        problems.append(("price_band_ticks", "must be 0 (no collar in ticks) or more"))
    reference = instrument.reference_price
    if reference is not None and (not reference.is_finite() or reference <= 0):
        problems.append(("reference_price", "must be positive (or empty)"))
    return problems


def order_problems(instrument: Instrument, quantity: int, price: Decimal | None) -> list[tuple[str, str]]:
    """Where an order is off the instrument's grid or bounds, as (field, problem) naming the rule."""
    problems: list[tuple[str, str]] = []
    symbol = instrument.symbol
    if price is not None and price % instrument.tick_size:
        problems.append(("price", f"{price} is not on {symbol}'s tick of {instrument.tick_size}"))
    if quantity % instrument.lot_size:
        problems.append(("quantity", f"{quantity} is not a whole number of {symbol}'s lots of {instrument.lot_size}"))
    elif not instrument.min_quantity <= quantity <= instrument.max_quantity:
        problems.append((
            "quantity",
            f"{quantity} is outside {symbol}'s bounds of {instrument.min_quantity:,} to {instrument.max_quantity:,}",
        ))
    return problems
