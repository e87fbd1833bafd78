"""The bounds of every request input, in one place (`docs/api.md` shows them; a test keeps the two
equal).

The server checks them at the edge, before a handler runs and so before anything is recorded:
a string longer than its field's maximum, a repeated field with more entries than
`MAX_REPEATED`, an integer beyond a signed 64-bit one, a time outside 0001-01-01..9999-12-31 or
a number that is not finite is INVALID_ARGUMENT naming the field. Lengths are in characters
(Unicode code points). A message that quotes a bad value quotes at most `ECHO_CHARS` of it.
"""

from __future__ import annotations

from collections.abc import Mapping

from itirp.errors import InvalidArgument, Reason

__all__ = [
    "ECHO_CHARS",
    "MAX_INT64",
    "MAX_REPEATED",
    "MAX_STRING",
    "MAX_TIMESTAMP_SECONDS",
    "METADATA_LIMITS",
    "MIN_TIMESTAMP_SECONDS",
    "STRING_LIMITS",
    "TOO_LONG_ECHO_CHARS",
    "check_length",
    "limits_table",
    "max_length",
    "prefix",
    "too_long",
]

#: The longest string a request field not named in `STRING_LIMITS` may hold.
MAX_STRING = 256
#: The most entries a repeated request field may hold.
MAX_REPEATED = 100
#: Integers are signed 64-bit in the event log: an unsigned field may not go beyond this.
MAX_INT64 = 2**63 - 1
#: `google.protobuf.Timestamp`'s own range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
MIN_TIMESTAMP_SECONDS = -62_135_596_800
MAX_TIMESTAMP_SECONDS = 253_402_300_799
#: How much of a bad value a message quotes.
ECHO_CHARS = 64
#: How much of a value that is too long the refusal quotes.
TOO_LONG_ECHO_CHARS = 24

#: The longest value of each request string field, by field name (wherever it occurs).
STRING_LIMITS: Mapping[str, int] = {
    "username": 64,
    "password": 256,
    "order_id": 64,
    "client_order_id": 64,
    "user_id": 64,
    "correlation_id": 128,
    "symbol": 32,
    "symbols": 32,
    "strategy": 64,
    "price": 32,
    "max_position_size": 32,
    "max_daily_volume": 32,
    "max_net_exposure": 32,
    "max_gross_exposure": 32,
    "tick_size": 32,
    "price_band_percent": 32,
    "reference_price": 32,
    "name": 120,
    "currency": 8,
    "updated_by": 64,
    "reason": 256,
    "page_token": 64,
    "tag": 64,
}

#: The longest value of each request metadata key the server reads (the token has its own checks).
METADATA_LIMITS: Mapping[str, int] = {
    "x-request-id": 64,
    "x-correlation-id": 128,
}


def max_length(field_name: str) -> int:
    """The longest value a request string field of this name may hold."""
    return STRING_LIMITS.get(field_name, MAX_STRING)


def prefix(value: str, chars: int = ECHO_CHARS) -> str:
    """`value` as a message may quote it: whole when short, else its start and an ellipsis."""
    return value if len(value) <= chars else value[:chars] + "…"


def too_long(limit: int, value: str | bytes) -> str:
    """What a refusal says of a value longer than `limit`: the bound, the length, a short quote."""
    quoted = f" starting {prefix(value, TOO_LONG_ECHO_CHARS)!r}" if isinstance(value, str) else ""
    return f"at most {limit} characters (got {len(value):,}{quoted})"


def check_length(field: str, value: str) -> None:
    """INVALID_ARGUMENT `VALUE_TOO_LONG` for a value longer than its field's bound (for a service
    that must refuse it before anything else, whatever the edge checked)."""
    limit = max_length(field)
    if len(value) > limit:
        raise InvalidArgument(
            field,
            too_long(limit, value),
            reason=Reason.VALUE_TOO_LONG,
            metadata={"field": field, "max_length": str(limit)},
        )


def limits_table() -> list[str]:
    """The bounds as the markdown table `docs/api.md` shows (header, rule, one row per bound)."""
    rows = ["| input | at most |", "|---|---|"]
    rows += [f"| `{name}` | {limit} characters |" for name, limit in STRING_LIMITS.items()]
    rows += [f"| metadata `{key}` | {limit} characters |" for key, limit in METADATA_LIMITS.items()]
    rows += [
        f"| any other request string | {MAX_STRING} characters |",
        f"| entries of a repeated field | {MAX_REPEATED} |",
        f"| an integer (e.g. `from_sequence`) | {MAX_INT64} |",
        "| a time (`start_time`, `end_time`) | 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z |",
        "| a floating-point number | finite |",
    ]
    return rows
