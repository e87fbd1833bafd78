"""The ways pre-trade risk could be walked past, found from outside, as regression tests through a
real server: working orders on opposite sides netting out, and a price band ignored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from itirp.server import serve
from itirp.v1 import common_pb2
from tests.conftest import make_config
from tests.integration.test_trading import Desk, open_desk

BUY, SELL = common_pb2.SIDE_BUY, common_pb2.SIDE_SELL
S = common_pb2

#: AAPL listed at 150 with a 50% band (wide: these tests are about the exposure rules).
INSTRUMENTS = """symbol,name,currency,tick_size,lot_size,min_quantity,max_quantity,price_band_percent,reference_price
AAPL,Apple Inc.,USD,0.01,1,1,1000000,50,150.00
"""


@pytest.fixture
async def book_desk(tmp_path: Path) -> AsyncIterator[Desk]:
    listing = tmp_path / "instruments.csv"
    listing.write_text(INSTRUMENTS)
    config = make_config(tmp_path / "data", venue="internal", access_log=False, reference_instruments_file=str(listing))
    server = await serve(config)
    desk, channel = await open_desk(server)
    try:
        yield desk
    finally:
        await channel.close()
        await server.shutdown(grace=1)


def violation_types(reply: object) -> list[int]:
    return [v.type for v in reply.violations]  # type: ignore[attr-defined]


async def test_a_resting_bid_does_not_make_room_for_a_large_sell(book_desk: Desk) -> None:
    # Arrange: a sell whose short alone is above max_position_size (1,000,000) at 200
    refused = await book_desk.submit("AAPL", SELL, 12_000, "200.00")
    assert refused.status == S.ORDER_STATUS_REJECTED
    assert violation_types(refused) == [S.VIOLATION_TYPE_POSITION_LIMIT]

    # Act: a resting bid on the other side, then the same sell again
    bid = await book_desk.submit("AAPL", BUY, 6_000, "100.00")
    again = await book_desk.submit("AAPL", SELL, 12_000, "200.00")

    # Assert: the bid made no room (before: accepted, and a cancelled bid left a 2.4 M short working)
    assert bid.status == S.ORDER_STATUS_WORKING
    assert again.status == S.ORDER_STATUS_REJECTED
    assert S.VIOLATION_TYPE_POSITION_LIMIT in violation_types(again)
    position = next(v for v in again.violations if v.type == S.VIOLATION_TYPE_POSITION_LIMIT)
    assert position.projected == "2400000.00"
    assert position.reference_price == "200.00"


async def test_a_price_outside_the_band_is_rejected_before_it_can_trade(book_desk: Desk) -> None:
    # Act: AAPL is listed at 150 with a 50% band: 225 is the edge, 225.01 is outside
    inside = await book_desk.submit("AAPL", BUY, 1, "225.00")
    outside = await book_desk.submit("AAPL", BUY, 1, "225.01")
    below = await book_desk.submit("AAPL", SELL, 1, "74.99")

    # Assert
    assert inside.status == S.ORDER_STATUS_WORKING
    assert outside.status == S.ORDER_STATUS_REJECTED
    assert violation_types(outside) == [S.VIOLATION_TYPE_PRICE_BAND]
    assert "150" in outside.violations[0].message
    assert below.status == S.ORDER_STATUS_REJECTED
    assert violation_types(below) == [S.VIOLATION_TYPE_PRICE_BAND]
