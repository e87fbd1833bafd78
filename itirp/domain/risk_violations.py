"""What pre-trade risk refuses, and the sentence that explains each refusal.

A refusal names the limit, the figure compared with it and the price that figure was valued at,
so a trader (or a program reading `ViolationDetail`) can redo the arithmetic. The price band is a
pure function here because it needs no book: only the order's price, the reference and the band.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Final, Protocol

from itirp.domain.money import format_money

__all__ = [
    "KILL_SWITCH",
    "Figures",
    "Violation",
    "ViolationDetail",
    "breach",
    "limit_violations",
    "price_band_violation",
]

_HUNDRED: Final = Decimal(100)
_UNMARKED: Final = " (no mark yet: the highest price known for it)"


class Violation(StrEnum):
    """Why an order was refused; the value is the stable name sent to clients."""

    KILL_SWITCH_ACTIVE = "KILL_SWITCH_ACTIVE"
    POSITION_LIMIT = "POSITION_LIMIT"
    DAILY_VOLUME_LIMIT = "DAILY_VOLUME_LIMIT"
    NET_EXPOSURE_LIMIT = "NET_EXPOSURE_LIMIT"
    GROSS_EXPOSURE_LIMIT = "GROSS_EXPOSURE_LIMIT"
    PRICE_BAND = "PRICE_BAND"
    ORDER_VALUE_LIMIT = "ORDER_VALUE_LIMIT"
    ORDER_QUANTITY_LIMIT = "ORDER_QUANTITY_LIMIT"
    CREDIT_LIMIT = "CREDIT_LIMIT"
    DAILY_LOSS_LIMIT = "DAILY_LOSS_LIMIT"
    RESTRICTED_INSTRUMENT = "RESTRICTED_INSTRUMENT"
    TRADING_HALTED = "TRADING_HALTED"
    REDUCE_ONLY = "REDUCE_ONLY"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"


@dataclass(frozen=True, slots=True)
class ViolationDetail:
    """One breached limit: what, by how much, at which price, and a sentence for the trader."""

    violation: Violation
    limit: Decimal | None
    """The limit breached (for the price band: its edge on the side breached); None for the kill switch."""
    projected: Decimal | None
    """The figure compared with the limit (an absolute value; for the price band: the order's
    price); None for the kill switch."""
    message: str
    reference_price: Decimal | None = None
    """The price the figure was valued at: for a position, net or gross figure the ordered
    symbol's price, for the daily volume this order's; for the price band the reference it is
    measured from. None for the kill switch."""
    scope: str = ""
    """The level whose limit or control refused the order, "ACCOUNT:EQ-PROP" (set by
    `itirp.domain.risk_levels`; "" for a check of one engine on its own)."""
    limit_name: str = ""
    """The limit's name ("max_position_size"), or the control's ("price_collar", "kill_switch")."""


KILL_SWITCH: Final = ViolationDetail(
    Violation.KILL_SWITCH_ACTIVE,
    None,
    None,
    "kill switch is active: no new orders are accepted",
    limit_name="kill_switch",
)


def breach(
    violation: Violation,
    what: str,
    projected: Decimal,
    name: str,
    limit: Decimal,
    valued: str,
    price: Decimal,
    mark: Decimal | None,
    *,
    own: bool = False,
) -> ViolationDetail:
    """A limit breached: "<what> <figure> above <name> <limit>, <valued> at the reference price <price>",
    or, when the price is this order's own (more conservative than the mark), "<valued> at
    <price>, this order's price (the reference price is <mark>)".

    With no mark yet a note says the price is the highest one known.
    """
    if own:
        at = f"{_grouped(price)}, this order's price"
    elif mark is None:
        at = f"at the reference price {_grouped(price)}{_UNMARKED}"
    elif price == mark:
        at = f"at the reference price {_grouped(price)}"
    else:
        at = f"at {_grouped(price)}, this order's price (the reference price is {_grouped(mark)})"
    message = f"{what} {_grouped(projected)} above {name} {_grouped_limit(limit)}, {valued} {at}"
    return ViolationDetail(violation, limit, projected, message, price, limit_name=name)


def price_band_violation(
    price: Decimal,
    reference: Decimal | None,
    band_percent: Decimal | None,
    *,
    ticks: int = 0,
    tick_size: Decimal | None = None,
) -> ViolationDetail | None:
    """PRICE_BAND (the price collar) if `price` is more than `band_percent` % or more than `ticks`
    ticks of `tick_size` away from `reference`, either side; with both, the tighter edge applies.

    An order exactly on an edge passes. No reference (no mark yet) or no band: no check. The
    detail's `limit` is the edge on the side breached, `projected` the order's price.
    """
    if reference is None or (band_percent is None and not ticks):
        return None
    if band_percent is not None and (not band_percent.is_finite() or band_percent < 0):
        raise ValueError(f"band_percent must be a non-negative Decimal (got {band_percent!r})")
    if not reference.is_finite() or reference <= 0:
        raise ValueError(f"reference must be a positive Decimal (got {reference!r})")
    above = price > reference
    sign = 1 if above else -1
    edges: list[tuple[Decimal, str, str]] = []
    if band_percent is not None:
        edges.append(
            (reference * (_HUNDRED + sign * band_percent) / _HUNDRED, f"{band_percent:f}%", "price_band_percent")
        )
    if ticks:
        if tick_size is None or tick_size <= 0:
            raise ValueError(f"a collar in ticks needs a positive tick_size (got {tick_size!r})")
        edges.append((reference + sign * ticks * tick_size, f"{ticks:,} ticks of {tick_size:f}", "price_band_ticks"))
    edge, width, name = min(edges) if above else max(edges)
    if (price <= edge) if above else (price >= edge):
        return None
    side = "above" if above else "below"
    message = (
        f"limit price {_grouped(price)} is more than {width} {side} the reference price"
        f" {_grouped(reference)}: the price band's {'upper' if above else 'lower'} edge is"
        f" {_grouped(edge)}"
    )
    return ViolationDetail(Violation.PRICE_BAND, edge, price, message, reference, limit_name=name)


def _grouped(value: Decimal) -> str:
    """Money for people: the wire form with thousands separators (1,505,000.00).

    Built on Decimal's own grouping (`,f`, exact digits, no exponent) because rejections are
    on the order path too; only a value with more than 8 decimals takes the rounding detour.
    """
    whole, _, fraction = f"{value:,f}".partition(".")
    if len(fraction) > 8:
        text = format_money(value)
        sign = "-" if text.startswith("-") else ""
        whole, _, fraction = text.removeprefix("-").partition(".")
        return f"{sign}{int(whole):,}.{fraction}"
    fraction = fraction.rstrip("0").ljust(2, "0")
    if fraction == "00" and whole in ("0", "-0"):
        return "0.00"
    return f"{whole}.{fraction}"


@lru_cache(maxsize=64)
def _grouped_limit(limit: Decimal) -> str:
    """Limits change rarely and recur in every rejection: format each once."""
    return _grouped(limit)


V: Final = Violation


@dataclass(frozen=True, slots=True)
class Figures:
    """The projected figures of one check (`RiskEngine.check`), compared with the limits."""

    size: Decimal
    short_side: bool
    volume: Decimal
    net: Decimal
    net_price: Decimal
    gross: Decimal
    value: Decimal
    """The order's own value: quantity x its price."""
    quantity: int
    credit: Decimal


class _Caps(Protocol):
    @property
    def max_position_size(self) -> Decimal: ...
    @property
    def max_order_value(self) -> Decimal: ...
    @property
    def max_order_quantity(self) -> Decimal: ...


class _Limits(Protocol):
    @property
    def max_daily_volume(self) -> Decimal: ...
    @property
    def max_net_exposure(self) -> Decimal: ...
    @property
    def max_gross_exposure(self) -> Decimal: ...
    @property
    def credit_limit(self) -> Decimal: ...


def limit_violations(
    limits: _Limits, caps: _Caps, symbol: str, mark: Decimal | None, p: Decimal, price: Decimal, f: Figures
) -> list[ViolationDetail]:
    """The breached limits, in a fixed order, each explained. `caps` are the position and order
    caps that apply to `symbol` (its overrides, else the level's); `p` the price the figures are
    valued at, `price` the order's own."""
    found: list[ViolationDetail] = []
    if f.value > caps.max_order_value:
        found.append(
            breach(V.ORDER_VALUE_LIMIT, "order value", f.value, "max_order_value", caps.max_order_value, "at", price,
                   None, own=True)
        )  # fmt: skip
    if f.quantity > caps.max_order_quantity:
        message = f"order quantity {f.quantity:,} above max_order_quantity {int(caps.max_order_quantity):,}"
        limit = caps.max_order_quantity
        found.append(ViolationDetail(V.ORDER_QUANTITY_LIMIT, limit, Decimal(f.quantity), message,
                                     limit_name="max_order_quantity"))  # fmt: skip
    short = " short" if f.short_side else ""
    net_short = " short" if f.net < 0 else ""
    valued = f"{symbol} valued"
    checks = (
        (f.size, caps.max_position_size, V.POSITION_LIMIT, f"projected {symbol}{short} position",
         "max_position_size", "valued", p),
        (f.volume, limits.max_daily_volume, V.DAILY_VOLUME_LIMIT, "projected daily volume", "max_daily_volume",
         "this order valued", p),
        (abs(f.net), limits.max_net_exposure, V.NET_EXPOSURE_LIMIT, f"projected net{net_short} exposure",
         "max_net_exposure", valued, f.net_price),
        (f.gross, limits.max_gross_exposure, V.GROSS_EXPOSURE_LIMIT, "projected gross exposure", "max_gross_exposure",
         valued, p),
        (f.credit, limits.credit_limit, V.CREDIT_LIMIT, "projected credit used", "credit_limit", valued, p),
    )  # fmt: skip
    for figure, limit, violation, what, name, how, at in checks:
        if figure > limit:
            found.append(breach(violation, what, figure, name, limit, how, at, mark))
    return found

