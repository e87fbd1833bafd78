"""The trading domain: money, positions and pre-trade risk, as pure synchronous code.

Nothing here does I/O, reads a clock or knows about gRPC, so it is tested directly and reused
by the server, replay and tools alike. Money is `Decimal` throughout, never float.
"""

from itirp.domain.money import format_money, notional, parse_amount, parse_price
from itirp.domain.positions import BUY, SELL, Position, side_sign, validate_order
from itirp.domain.risk import RiskEngine, RiskLimits, RiskMetrics, Violation, ViolationDetail

__all__ = [
    "BUY",
    "SELL",
    "Position",
    "RiskEngine",
    "RiskLimits",
    "RiskMetrics",
    "Violation",
    "ViolationDetail",
    "format_money",
    "notional",
    "parse_amount",
    "parse_price",
    "side_sign",
    "validate_order",
]
