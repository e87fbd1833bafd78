"""Instrument lists as text: the CSV `itirp instruments import` and `reference.instruments_file`
read, and the demo desk's list. Pure: text in, `Instrument`s out."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

from itirp.domain.instruments import Instrument, InstrumentStatus, instrument_problems

__all__ = ["CSV_COLUMNS", "DEMO_INSTRUMENTS", "InstrumentListError", "parse_instruments_csv"]

#: The columns, in order; the first line of a file must name them (`symbol` and `name` first).
CSV_COLUMNS = (
    "symbol",
    "name",
    "currency",
    "tick_size",
    "lot_size",
    "min_quantity",
    "max_quantity",
    "price_band_percent",
    "reference_price",
    "status",
    "price_band_ticks",
)
_REQUIRED = frozenset({"symbol", "name", "currency", "tick_size"})


class InstrumentListError(ValueError):
    """A list that cannot be loaded; the message names the line and the field."""


def _row(line: int, row: dict[str, str]) -> Instrument:
    def text(name: str) -> str:
        return (row.get(name) or "").strip()

    def number(name: str, default: int) -> int:
        raw = text(name)
        try:
            return int(raw) if raw else default
        except ValueError:
            raise InstrumentListError(f"line {line}: {name}: not a whole number ({raw!r})") from None

    def decimal(name: str) -> Decimal | None:
        raw = text(name)
        try:
            return Decimal(raw) if raw else None
        except InvalidOperation:
            raise InstrumentListError(f"line {line}: {name}: not a decimal number ({raw!r})") from None

    status_text = text("status").upper() or "ACTIVE"
    try:
        status = InstrumentStatus(status_text)
    except ValueError:
        raise InstrumentListError(f"line {line}: status: one of ACTIVE, HALTED, CLOSED ({status_text!r})") from None
    instrument = Instrument(
        symbol=text("symbol"),
        name=text("name"),
        currency=text("currency"),
        tick_size=decimal("tick_size") or Decimal(0),
        lot_size=number("lot_size", 1),
        min_quantity=number("min_quantity", 1),
        max_quantity=number("max_quantity", 1_000_000),
        status=status,
        price_band_percent=decimal("price_band_percent"),
        price_band_ticks=number("price_band_ticks", 0),
        reference_price=decimal("reference_price"),
    )
    problems = instrument_problems(instrument)
    if problems:
        field, problem = problems[0]
        raise InstrumentListError(f"line {line}: {field}: {problem}")
    return instrument


def parse_instruments_csv(text: str) -> list[Instrument]:
    """Every instrument of a CSV list (header line first), or `InstrumentListError` naming the
    first bad line. A symbol listed twice is refused: which line would win is not obvious."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = _REQUIRED - set(header)
    if missing:
        raise InstrumentListError(f"line 1: the header lacks {', '.join(sorted(missing))} (columns: {CSV_COLUMNS})")
    unknown = set(header) - set(CSV_COLUMNS)
    if unknown:
        raise InstrumentListError(f"line 1: unknown columns {', '.join(sorted(unknown))} (columns: {CSV_COLUMNS})")
    reader.fieldnames = header
    out: list[Instrument] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        instrument = _row(line, row)
        if instrument.symbol in seen:
            raise InstrumentListError(f"line {line}: symbol {instrument.symbol} is listed twice")
        seen.add(instrument.symbol)
        out.append(instrument)
    return out


def _equity(symbol: str, name: str, currency: str, reference: str, tick: str = "0.01") -> Instrument:
    return Instrument(
        symbol=symbol,
        name=name,
        currency=currency,
        tick_size=Decimal(tick),
        lot_size=1,
        min_quantity=1,
        max_quantity=500_000,
        price_band_percent=Decimal(10),
        reference_price=Decimal(reference),
    )


#: The demo desk's instruments: liquid names with realistic prices (late 2026 levels are not
#: known; these are the order of magnitude a desk would see), a 10% price band, tick 0.01
#: (1 for the yen-quoted name, as the Tokyo exchange quotes it).
DEMO_INSTRUMENTS: tuple[Instrument, ...] = (
    _equity("AAPL", "Apple Inc.", "USD", "229.50"),
    _equity("MSFT", "Microsoft Corporation", "USD", "431.20"),
    _equity("NVDA", "NVIDIA Corporation", "USD", "138.40"),
    _equity("TSLA", "Tesla, Inc.", "USD", "251.10"),
    _equity("IBM", "International Business Machines", "USD", "221.80"),
    _equity("SPY", "SPDR S&P 500 ETF Trust", "USD", "585.30"),
    _equity("AMZN", "Amazon.com, Inc.", "USD", "197.90"),
    _equity("JPM", "JPMorgan Chase & Co.", "USD", "241.60"),
    _equity("SAP", "SAP SE", "EUR", "222.35"),
    _equity("SHEL.L", "Shell plc", "GBP", "25.62"),
    _equity("7203.T", "Toyota Motor Corporation", "JPY", "2710", tick="1"),
)
