"""After a failed write (disk full), every path answers UNAVAILABLE and nothing moves.

A real server on the internal venue, with its real SQLite event store made to fail its next
commit (`fail_next_commit`: the transaction is rolled back with "No space left on device"). Seen
from outside before the fix: later SubmitOrders answered INTERNAL (a KeyError in the core: the
refused submit had already rested its order in the book, and the next crossing order met an order
the state did not know), and a refused amend had already changed the book.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from itirp.server import serve
from itirp.v1 import (
    common_pb2,
    market_data_pb2,
    market_data_pb2_grpc,
    order_pb2,
    reference_data_pb2,
    reference_data_pb2_grpc,
    risk_pb2,
    system_pb2,
)
from tests.conftest import make_config
from tests.integration.test_trading import Desk, open_desk

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL


@pytest.fixture
async def book_desk(tmp_path: Path) -> AsyncIterator[Desk]:
    server = await serve(make_config(tmp_path / "data", venue="internal", access_log=False))
    desk, channel = await open_desk(server)
    try:
        yield desk
    finally:
        await channel.close()
        await server.shutdown(grace=0)


async def answer(call: object) -> tuple[grpc.StatusCode, str, dict[str, object]]:
    """(code, ErrorInfo reason, the other details by type) of a refused call; OK when it passed."""
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as error:
        status = rpc_status.from_call(error)
        details: dict[str, object] = {}
        reason = ""
        for packed in status.details if status is not None else ():
            for kind in (error_details_pb2.ErrorInfo, error_details_pb2.RetryInfo):
                message = kind()
                if packed.Unpack(message):
                    details[kind.__name__] = message
                    if isinstance(message, error_details_pb2.ErrorInfo):
                        reason = message.reason
        return error.code(), reason, details
    return grpc.StatusCode.OK, "", {}


async def fail_the_store(desk: Desk) -> None:
    """The next commit fails (disk full): the submit that carries it is answered UNAVAILABLE."""
    desk.server.store.fail_next_commit()
    code, reason, _ = await answer(desk.submit("AAPL", BUY, 10, "149.00"))
    assert (code, reason) == (grpc.StatusCode.UNAVAILABLE, "STORE_UNAVAILABLE")
    assert desk.server.store.failed


async def test_after_a_failed_write_every_submit_is_unavailable_with_its_details(book_desk: Desk) -> None:
    # Arrange: the store has failed
    await fail_the_store(book_desk)

    # Act: crossing orders, as a desk keeps sending them (each would trade with the one before)
    answers = []
    for i in range(20):
        side = SELL if i % 2 == 0 else BUY
        answers.append(await answer(book_desk.submit("AAPL", side, 10, "150.00", client_order_id=f"c{i}")))
    answers.append(await answer(book_desk.submit("AAPL", BUY, 10, "150.00", user="risk1")))
    answers.append(await answer(book_desk.submit("AAPL", BUY, 0, "150.00")))  # a bad request too

    # Assert: UNAVAILABLE every time, with the reason and the retry hint; nothing acknowledged
    codes = Counter((code.name, reason) for code, reason, _ in answers)
    assert codes == {("UNAVAILABLE", "STORE_UNAVAILABLE"): len(answers)}
    assert all("RetryInfo" in details for _, _, details in answers)


async def test_every_path_after_a_failed_write_is_unavailable(book_desk: Desk) -> None:
    resting = await book_desk.submit("AAPL", SELL, 100, "151.00")
    order_id = resting.order.order_id
    await fail_the_store(book_desk)

    reference = reference_data_pb2_grpc.ReferenceDataServiceStub(book_desk.channel)
    calls = {
        "GetOrder": book_desk.orders.GetOrder(order_pb2.GetOrderRequest(order_id=order_id), metadata=book_desk.md()),
        "ListOrders": book_desk.orders.ListOrders(order_pb2.ListOrdersRequest(), metadata=book_desk.md()),
        "CancelOrder": book_desk.orders.CancelOrder(
            order_pb2.CancelOrderRequest(order_id=order_id, reason="desk"), metadata=book_desk.md()
        ),
        "AmendOrder": book_desk.orders.AmendOrder(
            order_pb2.AmendOrderRequest(order_id=order_id, price="152.00"), metadata=book_desk.md()
        ),
        "CancelOrder (unknown)": book_desk.orders.CancelOrder(
            order_pb2.CancelOrderRequest(order_id="nope", reason="desk"), metadata=book_desk.md()
        ),
        "UpdateRiskLimits": book_desk.risk.UpdateRiskLimits(
            risk_pb2.UpdateRiskLimitsRequest(max_position_size="5000", reason="desk"), metadata=book_desk.md("risk1")
        ),
        "UpdateRiskLimits (bad)": book_desk.risk.UpdateRiskLimits(
            risk_pb2.UpdateRiskLimitsRequest(max_position_size="-1", reason="desk"), metadata=book_desk.md("risk1")
        ),
        "SetKillSwitch": book_desk.risk.SetKillSwitch(
            risk_pb2.SetKillSwitchRequest(enabled=True, reason="desk"), metadata=book_desk.md("risk1")
        ),
        "GetRiskMetrics": book_desk.risk.GetRiskMetrics(risk_pb2.GetRiskMetricsRequest(), metadata=book_desk.md()),
        "GetRiskLimits": book_desk.risk.GetRiskLimits(risk_pb2.GetRiskLimitsRequest(), metadata=book_desk.md()),
        "ListPositions": book_desk.risk.ListPositions(risk_pb2.ListPositionsRequest(), metadata=book_desk.md("risk1")),
        "GetSystemMetrics": book_desk.system.GetSystemMetrics(
            system_pb2.GetSystemMetricsRequest(), metadata=book_desk.md("risk1")
        ),
        "ListInstruments": reference.ListInstruments(
            reference_data_pb2.ListInstrumentsRequest(), metadata=book_desk.md()
        ),
        "SetInstrumentStatus": reference.SetInstrumentStatus(
            reference_data_pb2.SetInstrumentStatusRequest(
                symbol="AAPL", status=common_pb2.INSTRUMENT_STATUS_HALTED, reason="desk"
            ),
            metadata=book_desk.md("admin"),
        ),
        "SetInstrumentStatus (unknown)": reference.SetInstrumentStatus(
            reference_data_pb2.SetInstrumentStatusRequest(
                symbol="NOPE", status=common_pb2.INSTRUMENT_STATUS_HALTED, reason="desk"
            ),
            metadata=book_desk.md("admin"),
        ),
        "UpsertInstrument (bad)": reference.UpsertInstrument(
            reference_data_pb2.UpsertInstrumentRequest(reason="desk"), metadata=book_desk.md("admin")
        ),
    }
    seen = {name: (await answer(call))[:2] for name, call in calls.items()}

    assert seen == {name: (grpc.StatusCode.UNAVAILABLE, "STORE_UNAVAILABLE") for name in calls}


async def test_an_amend_refused_by_a_failed_write_leaves_the_book_unchanged(book_desk: Desk) -> None:
    # Arrange: an order resting in the book, and a store that has failed since
    resting = await book_desk.submit("AAPL", SELL, 100, "151.00")
    await fail_the_store(book_desk)
    core = book_desk.server.trading.core
    book = core.matching.books["AAPL"]
    before = book.snapshot()
    order_before = core.state.orders[resting.order.order_id].price

    # Act: a new price, and a bigger size, each refused by the store
    price = await answer(
        book_desk.orders.AmendOrder(
            order_pb2.AmendOrderRequest(order_id=resting.order.order_id, price="150.50"), metadata=book_desk.md()
        )
    )
    size = await answer(
        book_desk.orders.AmendOrder(
            order_pb2.AmendOrderRequest(order_id=resting.order.order_id, quantity=300), metadata=book_desk.md()
        )
    )

    # Assert: refused as unavailable, and neither the book nor the order moved
    assert price[:2] == size[:2] == (grpc.StatusCode.UNAVAILABLE, "STORE_UNAVAILABLE")
    assert book.snapshot() == before
    assert core.state.orders[resting.order.order_id].price == order_before


async def test_an_amend_whose_own_commit_fails_shows_no_change_in_the_book_now_or_after_a_restart(
    tmp_path: Path,
) -> None:
    # Arrange: an order resting in the book
    config = make_config(tmp_path / "data", venue="internal", access_log=False)
    server = await serve(config)
    desk, channel = await open_desk(server)
    resting = (await desk.submit("AAPL", SELL, 100, "151.00")).order.order_id
    market = market_data_pb2_grpc.MarketDataServiceStub(channel)
    book_request = market_data_pb2.GetOrderBookRequest(symbol="AAPL")
    before = (await market.GetOrderBook(book_request, metadata=desk.md())).book

    # Act: the amend's own commit fails (disk full)
    server.store.fail_next_commit()
    amended = await answer(
        desk.orders.AmendOrder(order_pb2.AmendOrderRequest(order_id=resting, price="150.50"), metadata=desk.md())
    )
    seen = (await market.GetOrderBook(book_request, metadata=desk.md())).book
    await channel.close()
    await server.shutdown(grace=0)

    # Assert: UNAVAILABLE; the book clients see did not move, and after a restart neither did the order
    assert amended[:2] == (grpc.StatusCode.UNAVAILABLE, "STORE_UNAVAILABLE")
    assert list(before.asks)
    assert list(seen.asks) == list(before.asks)
    restarted = await serve(config)
    try:
        desk, channel = await open_desk(restarted)
        order = await desk.get(resting)
        assert (order.price, order.remaining_quantity) == ("151.00", 100)
        await channel.close()
    finally:
        await restarted.shutdown(grace=0)
