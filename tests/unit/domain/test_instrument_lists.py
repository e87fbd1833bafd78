"""The instrument list as text: the CSV parser names the bad line, and the demo list is sound."""

from __future__ import annotations

from decimal import Decimal

import pytest

from itirp.domain.instrument_lists import CSV_COLUMNS, DEMO_INSTRUMENTS, InstrumentListError, parse_instruments_csv
from itirp.domain.instruments import InstrumentStatus, instrument_problems
from tests.conftest import TEST_INSTRUMENTS

HEADER = ",".join(CSV_COLUMNS)


def test_a_full_row_reads_every_column() -> None:
    text = f"{HEADER}\nSHEL.L,Shell plc,GBP,0.005,10,10,50000,7.5,25.62,HALTED\n"

    [shell] = parse_instruments_csv(text)

    assert shell.symbol == "SHEL.L"
    assert shell.name == "Shell plc"
    assert shell.currency == "GBP"
    assert shell.tick_size == Decimal("0.005")
    assert (shell.lot_size, shell.min_quantity, shell.max_quantity) == (10, 10, 50_000)
    assert shell.price_band_percent == Decimal("7.5")
    assert shell.reference_price == Decimal("25.62")
    assert shell.status is InstrumentStatus.HALTED


def test_only_the_required_columns_take_the_defaults() -> None:
    text = "symbol,name,currency,tick_size\nAAPL, Apple Inc. ,USD,0.01\n"

    [apple] = parse_instruments_csv(text)

    assert apple.name == "Apple Inc."
    assert (apple.lot_size, apple.min_quantity, apple.max_quantity) == (1, 1, 1_000_000)
    assert apple.price_band_percent is None
    assert apple.reference_price is None
    assert apple.status is InstrumentStatus.ACTIVE


def test_the_test_desk_list_parses() -> None:
    listed = parse_instruments_csv(TEST_INSTRUMENTS.read_text())

    assert len(listed) == len({i.symbol for i in listed}) > 30
    assert all(i.tick_size == Decimal("0.0001") for i in listed)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("symbol,name\nAAPL,Apple\n", "line 1: the header lacks currency, tick_size"),
        (f"{HEADER},isin\n", "line 1: unknown columns isin"),
        ("symbol,name,currency,tick_size\nAAPL,Apple,USD,0.01\nMSFT,Microsoft,USD,abc\n",
         "line 3: tick_size: not a decimal number ('abc')"),
        ("symbol,name,currency,tick_size,lot_size\nAAPL,Apple,USD,0.01,ten\n", "line 2: lot_size: not a whole number"),
        ("symbol,name,currency,tick_size,status\nAAPL,Apple,USD,0.01,open\n", "line 2: status: one of ACTIVE"),
        ("symbol,name,currency,tick_size\naapl,Apple,USD,0.01\n", "line 2: symbol:"),
        ("symbol,name,currency,tick_size\nAAPL,Apple,usd,0.01\n", "line 2: currency:"),
        ("symbol,name,currency,tick_size\nAAPL,Apple,USD,0.00001\n", "line 2: tick_size:"),
        (
            "symbol,name,currency,tick_size,min_quantity,max_quantity\nAAPL,Apple,USD,0.01,10,5\n",
            "line 2: max_quantity:",
        ),
        ("symbol,name,currency,tick_size\nAAPL,Apple,USD,0.01\nAAPL,Apple again,USD,0.01\n",
         "line 3: symbol AAPL is listed twice"),
    ],
)
def test_a_bad_list_names_its_line_and_field(text: str, message: str) -> None:
    with pytest.raises(InstrumentListError) as info:
        parse_instruments_csv(text)

    assert str(info.value).startswith(message)


def test_the_demo_list_is_sound_and_priced() -> None:
    symbols = [i.symbol for i in DEMO_INSTRUMENTS]

    assert len(symbols) == len(set(symbols))
    assert {"AAPL", "MSFT", "SAP", "7203.T"} <= set(symbols)
    for instrument in DEMO_INSTRUMENTS:
        assert instrument_problems(instrument) == [], instrument.symbol
        assert instrument.reference_price is not None
        assert instrument.price_band_percent is not None
        assert instrument.reference_price % instrument.tick_size == 0, instrument.symbol
        assert instrument.status is InstrumentStatus.ACTIVE
