"""Money on the wire and in memory: exact decimals, one strict text form in, one text form out.

Prices and limits arrive as strings and are kept as `Decimal`; a float would turn "0.1" into
0.1000000000000000055511151231257827 and make the risk totals drift, so none is accepted anywhere.
Parsing is strict on purpose: anything a trader might mean two ways ("1,000", "1e3", " 5") is
refused with a message that says what is expected, rather than guessed at.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Context, Decimal

__all__ = [
    "MAX_AMOUNT_INTEGER_DIGITS",
    "MAX_DECIMALS",
    "MAX_PRICE_INTEGER_DIGITS",
    "format_money",
    "notional",
    "parse_amount",
    "parse_price",
]

MAX_DECIMALS = 4
"""Decimal places a price or limit may carry (a tick of 0.0001)."""

MAX_PRICE_INTEGER_DIGITS = 12
MAX_AMOUNT_INTEGER_DIGITS = 15

_WIRE_DECIMALS = 8
_WIRE_QUANTUM = Decimal(1).scaleb(-_WIRE_DECIMALS)

# ASCII digits only: `\d` would also accept Arabic-Indic and other Unicode digits, which
# `Decimal` happily parses but no trader typed on purpose.
_SHAPE = re.compile(r"([0-9]+)(?:\.([0-9]+))?")


def parse_price(text: str) -> Decimal:
    """Parse an order price such as "150.50": positive, at most 4 decimals and 12 integer digits.

    Returns the decimal exactly as written (trailing zeros kept), so it can be echoed back as sent.
    Raises `ValueError` with a message meant for the trader (it reads after a field name).
    """
    return _parse_positive(text, MAX_PRICE_INTEGER_DIGITS, 'e.g. "150.50"')


def parse_amount(text: str) -> Decimal:
    """Parse a money amount such as a risk limit ("1000000"): as a price, with 15 integer digits."""
    return _parse_positive(text, MAX_AMOUNT_INTEGER_DIGITS, 'e.g. "1000000"')


def _parse_positive(text: str, max_integer_digits: int, example: str) -> Decimal:
    if not isinstance(text, str):
        raise TypeError(f"expected a string, got {type(text).__name__}")
    shape = _SHAPE.fullmatch(text)
    if shape is None:
        raise ValueError(
            f"must be a positive decimal with at most {MAX_DECIMALS} decimals, {example}"
            f" (got {_shown(text)})"
        )
    whole, fraction = shape.group(1), shape.group(2) or ""
    if len(fraction) > MAX_DECIMALS:
        raise ValueError(f"must have at most {MAX_DECIMALS} decimals, {example} (got {_shown(text)})")
    if len(whole) > max_integer_digits:
        raise ValueError(
            f"must have at most {max_integer_digits} digits before the decimal point"
            f" (got {_shown(text)})"
        )
    value = Decimal(text)
    if not value:
        raise ValueError(f"must be greater than zero, {example} (got {_shown(text)})")
    return value


def _shown(text: str) -> str:
    """The offending input, quoted and cut short so a huge field cannot bloat the error."""
    return repr(text if len(text) <= 32 else text[:32] + "...")


def format_money(value: Decimal) -> str:
    """The wire form of an amount: plain digits, 2 to 8 decimals, never an exponent.

    At least 2 decimals because that is how people read money; more only when they carry
    information (a 0.0001 tick, an average price of 1/3); at most 8, rounded half-even, so a
    28-digit quotient does not leak onto the wire. Zero of any sign or exponent is "0.00".
    """
    if not isinstance(value, Decimal):
        raise TypeError(f"expected a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"cannot format {value} as money")
    exponent = value.as_tuple().exponent  # an int: "n", "N" and "F" are for NaN and infinity
    if isinstance(exponent, int) and exponent < -_WIRE_DECIMALS:
        # A private context wide enough for any finite input: the default 28 digits would
        # raise InvalidOperation on a 21-digit whole part quantized to 8 decimals.
        wide = Context(prec=max(28, value.adjusted() + _WIRE_DECIMALS + 2), rounding=ROUND_HALF_EVEN)
        value = value.quantize(_WIRE_QUANTUM, context=wide)
    if not value:
        return "0.00"
    whole, _, fraction = format(value, "f").partition(".")
    fraction = fraction.rstrip("0").ljust(2, "0")
    return f"{whole}.{fraction}"


def notional(quantity: int, price: Decimal) -> Decimal:
    """The traded value of `quantity` at `price`, always positive whatever the side."""
    return abs(quantity) * price
