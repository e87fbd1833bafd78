"""The instrument master through a real server: ReferenceDataService's four calls, who may call
them, what they record, and how the listed instruments govern SubmitOrder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2

from itirp.config import Config
from itirp.server import serve
from itirp.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    common_pb2,
    events_pb2,
    order_pb2,
    order_pb2_grpc,
    reference_data_pb2,
    reference_data_pb2_grpc,
)
from tests.conftest import bearer, login
from tests.integration.test_error_details import error_info, refused, unpack

TokenFor = Callable[[str], Any]
ACTIVE, HALTED = common_pb2.INSTRUMENT_STATUS_ACTIVE, common_pb2.INSTRUMENT_STATUS_HALTED


def acme(**changes: Any) -> common_pb2.Instrument:
    """A new instrument with a coarse grid: tick 0.05, lots of 100, 100 to 10,000 shares."""
    fields: dict[str, Any] = {
        "symbol": "ACME",
        "name": "Acme Corporation",
        "currency": "USD",
        "tick_size": "0.05",
        "lot_size": 100,
        "min_quantity": 100,
        "max_quantity": 10_000,
        "reference_price": "20.00",
    }
    return common_pb2.Instrument(**{**fields, **changes})


class Desk:
    """Stubs with a user's token."""

    def __init__(self, channel: grpc.aio.Channel, token: str) -> None:
        self.md = bearer(token)
        self.reference = reference_data_pb2_grpc.ReferenceDataServiceStub(channel)
        self.orders = order_pb2_grpc.OrderServiceStub(channel)
        self.audit = audit_pb2_grpc.AuditServiceStub(channel)

    def upsert(self, instrument: common_pb2.Instrument, reason: str = "new listing") -> Any:
        request = reference_data_pb2.UpsertInstrumentRequest(instrument=instrument, reason=reason)
        return self.reference.UpsertInstrument(request, metadata=self.md)

    def set_status(self, symbol: str, status: int, reason: str = "news pending") -> Any:
        request = reference_data_pb2.SetInstrumentStatusRequest(symbol=symbol, status=status, reason=reason)  # type: ignore[arg-type]
        return self.reference.SetInstrumentStatus(request, metadata=self.md)

    def get(self, symbol: str) -> Any:
        return self.reference.GetInstrument(reference_data_pb2.GetInstrumentRequest(symbol=symbol), metadata=self.md)

    async def listed(self, status: int = 0) -> list[common_pb2.Instrument]:
        request = reference_data_pb2.ListInstrumentsRequest(status=status)  # type: ignore[arg-type]
        return list((await self.reference.ListInstruments(request, metadata=self.md)).instruments)

    def submit(self, symbol: str, quantity: int, price: str) -> Any:
        request = order_pb2.SubmitOrderRequest(symbol=symbol, side=common_pb2.SIDE_BUY, quantity=quantity, price=price)
        return self.orders.SubmitOrder(request, metadata=self.md)


@pytest.fixture
async def risk(channel: grpc.aio.Channel, token_for: TokenFor) -> Desk:
    return Desk(channel, await token_for("risk1"))


@pytest.fixture
async def compliance(channel: grpc.aio.Channel, token_for: TokenFor) -> Desk:
    return Desk(channel, await token_for("compliance1"))


@pytest.fixture
async def trader(channel: grpc.aio.Channel, token_for: TokenFor) -> Desk:
    return Desk(channel, await token_for("trader1"))


async def test_list_and_get_show_the_test_desk_instruments(trader: Desk) -> None:
    # Act
    listed = await trader.listed()
    halted = await trader.listed(HALTED)
    reply = await trader.get("AAPL")

    # Assert
    symbols = [i.symbol for i in listed]
    assert symbols == sorted(symbols)
    assert {"AAPL", "MSFT", "BRK.B"} <= set(symbols)
    assert halted == []
    assert reply.instrument.tick_size == "0.0001"
    assert reply.instrument.status == ACTIVE
    assert reply.instrument.updated_by == "system"
    assert not reply.HasField("mark")  # the test desk lists no reference prices


async def test_get_of_an_unlisted_symbol_is_not_found(trader: Desk) -> None:
    error, status = await refused(trader.get("NOPE"))

    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(status).reason == "INSTRUMENT_NOT_FOUND"
    assert error_info(status).metadata["symbol"] == "NOPE"


async def test_upsert_creates_then_changes_and_records_who_and_why(risk: Desk, compliance: Desk) -> None:
    # Act
    created = await risk.upsert(acme(), reason="listed for the Acme desk")
    changed = await risk.upsert(acme(tick_size="0.01", price_band_percent="5"), reason="finer tick")
    reply = await risk.get("ACME")

    # Assert
    assert created.created
    assert not changed.created
    assert created.instrument.status == ACTIVE
    assert created.instrument.updated_by == "risk1"
    assert reply.instrument.tick_size == "0.01"
    assert reply.instrument.price_band_percent == "5"
    assert reply.mark.price == "20.00"
    assert reply.mark.source == "listing"
    events = await compliance.audit.ListEvents(
        audit_pb2.ListEventsRequest(
            from_sequence=1,
            filter=audit_pb2.EventFilter(event_types=[events_pb2.EVENT_TYPE_INSTRUMENT_UPSERTED], symbol="ACME"),
        ),
        metadata=compliance.md,
    )
    recorded = [(e.instrument_upserted.created, e.instrument_upserted.username, e.instrument_upserted.reason)
                for e in events.events]
    assert recorded == [(True, "risk1", "listed for the Acme desk"), (False, "risk1", "finer tick")]
    assert all(e.user_id for e in events.events)


async def test_upsert_with_an_unset_status_keeps_a_halted_instrument_halted(risk: Desk) -> None:
    await risk.upsert(acme())
    await risk.set_status("ACME", HALTED)

    reply = await risk.upsert(acme(name="Acme Corp."))

    assert reply.instrument.status == HALTED


@pytest.mark.parametrize("call", ["upsert", "set_status"])
async def test_a_change_without_a_reason_is_refused(risk: Desk, call: str) -> None:
    pending = risk.upsert(acme(), reason=" ") if call == "upsert" else risk.set_status("AAPL", HALTED, reason="")

    error, status = await refused(pending)

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad = unpack(status)["BadRequest"]
    assert isinstance(bad, error_details_pb2.BadRequest)
    assert [v.field for v in bad.field_violations] == ["reason"]


async def test_malformed_and_unsound_fields_are_named(risk: Desk) -> None:
    _, malformed = await refused(risk.upsert(acme(tick_size="abc", reference_price="1e")))
    _, unsound = await refused(risk.upsert(acme(currency="usd", max_quantity=50)))

    fields = [[v.field for v in unpack(s)["BadRequest"].field_violations] for s in (malformed, unsound)]  # type: ignore[attr-defined]
    assert fields == [
        ["instrument.tick_size", "instrument.reference_price"],
        ["instrument.currency", "instrument.max_quantity"],
    ]


async def test_a_trader_may_read_but_not_change_instruments(trader: Desk) -> None:
    assert await trader.listed()

    upsert_error, _ = await refused(trader.upsert(acme()))
    status_error, _ = await refused(trader.set_status("AAPL", HALTED))

    assert upsert_error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert status_error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await trader.get("AAPL")).instrument.status == ACTIVE


async def test_a_halted_instrument_refuses_orders_until_resumed(risk: Desk, trader: Desk) -> None:
    # Arrange
    halted = await risk.set_status("AAPL", HALTED, reason="news pending")
    again = await risk.set_status("AAPL", HALTED, reason="news pending")

    # Act
    error, status = await refused(trader.submit("AAPL", 10, "150.50"))
    resumed = await risk.set_status("AAPL", ACTIVE, reason="news out")
    accepted = await trader.submit("AAPL", 10, "150.50")

    # Assert
    assert halted.changed
    assert halted.instrument.status == HALTED
    assert not again.changed
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(status).reason == "INSTRUMENT_NOT_ACTIVE"
    assert resumed.changed
    assert resumed.instrument.status == ACTIVE
    assert accepted.order_id


async def test_a_mistyped_symbol_is_refused_by_name(trader: Desk) -> None:
    error, status = await refused(trader.submit("APPL", 10, "150.50"))

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = error_info(status)
    assert info.reason == "UNKNOWN_SYMBOL"
    assert "APPL" in error.details() or info.metadata.get("symbol") == "APPL"


@pytest.mark.parametrize(
    ("quantity", "price", "rule"),
    [
        (100, "20.03", "ACME's tick of 0.05"),
        (150, "20.05", "ACME's lots of 100"),
        (20_000, "20.05", "ACME's bounds of 100 to 10,000"),
    ],
)
async def test_an_order_off_the_instrument_grid_names_the_rule(
    risk: Desk, trader: Desk, quantity: int, price: str, rule: str
) -> None:
    await risk.upsert(acme())

    error, status = await refused(trader.submit("ACME", quantity, price))

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    bad = unpack(status)["BadRequest"]
    assert isinstance(bad, error_details_pb2.BadRequest)
    assert [v.field for v in bad.field_violations] == ["price" if "tick" in rule else "quantity"]
    assert rule in bad.field_violations[0].description


async def changes_then_restart(config: Config, symbol: str) -> tuple[list[Any], list[Any]]:
    """(instruments before, after a restart) once ACME is listed and halted and `symbol` closed."""
    running = await serve(config)
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            desk = Desk(channel, (await login(channel, "risk1")).access_token)
            await desk.upsert(acme())
            await desk.set_status("ACME", HALTED)
            if symbol != "ACME":
                await desk.set_status(symbol, common_pb2.INSTRUMENT_STATUS_CLOSED, reason="delisted")
            before = await desk.listed()
    finally:
        await running.shutdown(grace=0.5)
    running = await serve(config)
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            after = await Desk(channel, (await login(channel, "risk1")).access_token).listed()
    finally:
        await running.shutdown(grace=0.5)
    return before, after


async def test_a_restart_rebuilds_the_same_instrument_master(config: Config) -> None:
    before, after = await changes_then_restart(config, "ACME")

    assert after == before
    acme_after = next(i for i in after if i.symbol == "ACME")
    assert acme_after.status == HALTED
    assert acme_after.tick_size == "0.05"
    assert acme_after.updated_by == "risk1"


async def test_a_restart_keeps_a_listed_file_instrument_closed(config: Config) -> None:
    before, after = await changes_then_restart(config, "MSFT")

    assert after == before


async def test_the_client_library_lists_changes_halts_and_resumes(server: Any) -> None:
    from itirp_client import AsyncClient
    from itirp_client.errors import InvalidRequest, NotFound, PermissionDenied

    async with (
        await AsyncClient.connect(server.address, "risk1", "risk123") as risk,
        await AsyncClient.connect(server.address, "trader1", "trader123") as trader,
    ):
        created = await risk.upsert_instrument(
            "ACME", name="Acme Corporation", currency="USD", tick_size="0.05", reason="new", reference_price="20.00"
        )
        halted = await risk.set_instrument_status("ACME", "halted", "news pending")
        listed = await trader.list_instruments("HALTED")
        got = await trader.get_instrument("ACME")
        with pytest.raises(NotFound):
            await trader.get_instrument("NOPE")
        with pytest.raises(PermissionDenied):
            await trader.set_instrument_status("ACME", "ACTIVE", "mine")
        with pytest.raises(InvalidRequest) as bad:
            await risk.upsert_instrument("ACME", name="Acme", currency="USD", tick_size="x", reason="typo")

    assert created.created
    assert (created.instrument.lot_size, created.instrument.max_quantity) == (1, 1_000_000)
    assert halted.changed
    assert [i.symbol for i in listed] == ["ACME"]
    assert got.mark.price == "20.00"
    assert bad.value.field == "instrument.tick_size"


async def test_a_price_outside_the_listed_band_is_rejected(risk: Desk, trader: Desk) -> None:
    await risk.upsert(acme(price_band_percent="10"))

    reply = await trader.submit("ACME", 100, "25.00")

    assert reply.status == common_pb2.ORDER_STATUS_REJECTED
    assert [v.type for v in reply.violations] == [common_pb2.VIOLATION_TYPE_PRICE_BAND]
