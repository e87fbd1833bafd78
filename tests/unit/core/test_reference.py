"""The instrument master and the marks in the core: listing, halting, recording reference prices,
and what a submit checks against them. Plain synchronous tests over the in-memory sink."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from itirp.core.commands import RecordMark, SetInstrumentStatus, UpsertInstrument
from itirp.domain.instruments import Instrument, InstrumentStatus, Mark
from itirp.domain.orders import OrderStatus
from itirp.errors import FailedPrecondition, InvalidArgument, NotFound, Reason

from .harness import RISK, Harness, open_harness

ACME = Instrument(
    symbol="ACME",
    name="Acme Corp.",
    currency="USD",
    tick_size=Decimal("0.05"),
    lot_size=10,
    min_quantity=10,
    max_quantity=5_000,
    price_band_percent=Decimal(10),
    reference_price=Decimal("100.00"),
)


@pytest.fixture
def h() -> Harness:
    return open_harness(instruments=[ACME], listed=True)


def upsert(h: Harness, instrument: Instrument, reason: str = "listing") -> tuple[Instrument, bool]:
    listed, created, _ = h.core.reference.upsert(
        UpsertInstrument(actor=RISK, instrument=instrument, reason=reason), h.now_us
    )
    return listed, created


def record(h: Harness, price: str, symbol: str = "ACME") -> object:
    mark = Mark(symbol=symbol, price=Decimal(price), source="simulated", priced_us=h.now_us)
    return h.core.reference.record_mark(RecordMark(mark=mark), h.now_us)


# -- the instrument master ------------------------------------------------------------------------


def test_listing_an_instrument_records_who_and_why_and_it_is_active(h: Harness) -> None:
    listed, created = upsert(h, dataclasses.replace(ACME, symbol="NEWCO", name="New Co."), reason="IPO")

    assert created
    assert listed.status is InstrumentStatus.ACTIVE
    assert listed.updated_by == "risk1"
    assert h.event_types()[-1] == "INSTRUMENT_UPSERTED"
    assert h.core.queries.instrument("NEWCO").name == "New Co."


def test_changing_an_instrument_keeps_its_status_and_is_not_created(h: Harness) -> None:
    h.core.reference.set_status(
        SetInstrumentStatus(actor=RISK, symbol="ACME", status=InstrumentStatus.HALTED, reason="news"), h.now_us
    )

    listed, created = upsert(h, dataclasses.replace(ACME, max_quantity=9_000), reason="bigger orders")

    assert not created
    assert listed.status is InstrumentStatus.HALTED
    assert listed.max_quantity == 9_000


def test_an_unusable_definition_names_every_bad_field(h: Harness) -> None:
    bad = dataclasses.replace(ACME, tick_size=Decimal(0), currency="usd", max_quantity=1)

    with pytest.raises(InvalidArgument) as caught:
        upsert(h, bad)

    assert [v.field for v in caught.value.violations] == [
        "instrument.currency",
        "instrument.tick_size",
        "instrument.max_quantity",
    ]


def test_a_change_without_a_reason_is_refused(h: Harness) -> None:
    with pytest.raises(InvalidArgument, match="reason"):
        upsert(h, ACME, reason=" ")


def test_setting_the_status_it_already_has_records_nothing(h: Harness) -> None:
    head = h.core.queries.last_applied

    _, committed = h.core.reference.set_status(
        SetInstrumentStatus(actor=RISK, symbol="ACME", status=InstrumentStatus.ACTIVE, reason="noop"), h.now_us
    )

    assert committed is None
    assert h.core.queries.last_applied == head


def test_the_status_of_an_unlisted_symbol_is_not_found(h: Harness) -> None:
    with pytest.raises(NotFound) as caught:
        h.core.reference.set_status(
            SetInstrumentStatus(actor=RISK, symbol="NOPE", status=InstrumentStatus.HALTED, reason="x"), h.now_us
        )

    assert caught.value.reason is Reason.INSTRUMENT_NOT_FOUND


# -- what a submit checks -------------------------------------------------------------------------


def test_an_order_for_an_unlisted_symbol_names_it(h: Harness) -> None:
    with pytest.raises(InvalidArgument) as caught:
        h.submit(symbol="APPL", quantity=10, price="100.00")

    assert caught.value.reason is Reason.UNKNOWN_SYMBOL
    assert caught.value.field == "symbol"
    assert "APPL" in caught.value.message


@pytest.mark.parametrize(
    ("quantity", "price", "fields", "words"),
    [
        (10, "100.02", ["price"], "tick of 0.05"),
        (15, "100.00", ["quantity"], "lots of 10"),
        (5_010, "100.00", ["quantity"], "bounds of 10 to 5,000"),
        (15, "100.01", ["price", "quantity"], "tick of 0.05"),
    ],
)
def test_an_order_off_the_instruments_grid_or_bounds_names_the_rule(
    h: Harness, quantity: int, price: str, fields: list[str], words: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        h.submit(symbol="ACME", quantity=quantity, price=price)

    assert [v.field for v in caught.value.violations] == fields
    assert words in caught.value.message


def test_a_halted_instrument_refuses_new_orders_until_it_is_active_again(h: Harness) -> None:
    halt = SetInstrumentStatus(actor=RISK, symbol="ACME", status=InstrumentStatus.HALTED, reason="news pending")
    h.core.reference.set_status(halt, h.now_us)

    with pytest.raises(FailedPrecondition) as caught:
        h.submit(symbol="ACME", quantity=10, price="100.00")
    resume = dataclasses.replace(halt, status=InstrumentStatus.ACTIVE, reason="news out")
    h.core.reference.set_status(resume, h.now_us)
    order, _ = h.submit(symbol="ACME", quantity=10, price="100.00")

    assert caught.value.reason is Reason.INSTRUMENT_NOT_ACTIVE
    assert caught.value.metadata == {"symbol": "ACME", "status": "HALTED"}
    assert order.status is OrderStatus.APPROVED


def test_a_price_outside_the_band_around_the_reference_is_a_rejected_order(h: Harness) -> None:
    # Arrange: the reference moves from the listing price (100) to a recorded mark (120)
    record(h, "120.00")

    # Act: the band is 10% around 120: 108 .. 132
    inside, _ = h.submit(symbol="ACME", quantity=10, price="131.95")
    outside, _ = h.submit(symbol="ACME", quantity=10, price="107.95")

    # Assert
    assert inside.status is OrderStatus.APPROVED
    assert outside.status is OrderStatus.REJECTED
    assert [v.type for v in outside.violations] == [6]  # VIOLATION_TYPE_PRICE_BAND
    assert "120" in outside.violations[0].message


# -- marks ----------------------------------------------------------------------------------------


def test_the_listing_price_is_the_reference_until_a_mark_is_recorded(h: Harness) -> None:
    before = h.core.queries.reference("ACME")
    record(h, "101.50")
    after = h.core.queries.reference("ACME")

    assert before is not None
    assert before.price == Decimal("100.00")
    assert before.source == "listing"
    assert after is not None
    assert after.price == Decimal("101.50")
    assert after.sequence == h.events()[-1].sequence


def test_a_mark_that_says_nothing_new_or_names_no_listed_instrument_is_not_recorded(h: Harness) -> None:
    record(h, "101.50")
    head = h.core.queries.last_applied

    assert record(h, "101.50") is None
    assert record(h, "5.00", symbol="NOPE") is None
    assert h.core.queries.last_applied == head


def test_a_replay_rebuilds_the_same_instruments_and_marks(h: Harness) -> None:
    h.core.reference.set_status(
        SetInstrumentStatus(actor=RISK, symbol="ACME", status=InstrumentStatus.HALTED, reason="news"), h.now_us
    )
    record(h, "99.95")

    fresh = h.replayed()

    assert fresh.queries.instruments() == h.core.queries.instruments()
    assert fresh.queries.reference("ACME") == h.core.queries.reference("ACME")
    assert fresh.queries.metrics() == h.core.queries.metrics()
