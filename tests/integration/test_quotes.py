"""Reference prices end to end: a real server with the simulated feed (seeded, fast), GetQuote and
StreamQuotes through the client library, positions valued at their marks, marks rebuilt from the
log after a restart, and the walk-past regression (a tiny fill no longer makes a position look
worthless)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import itirp_client
from itirp.config import Config
from itirp.server import RunningServer, serve
from itirp.v1 import common_pb2, risk_pb2
from itirp_client import AsyncClient
from tests.conftest import make_config

INSTRUMENTS = """\
symbol,name,currency,tick_size,lot_size,min_quantity,max_quantity,price_band_percent,reference_price,status
AAPL,Apple test,USD,0.01,1,1,1000000,,150,ACTIVE
MSFT,Microsoft test,USD,0.01,1,1,1000000,,400,ACTIVE
"""

FAST_FEED: dict[str, object] = {
    "feed_kind": "simulated",
    "feed_tick_seconds": 0.01,
    "feed_mark_interval_seconds": 0.05,
    "feed_volatility": 0.002,
    "feed_seed": 7,
}


def desk_config(tmp_path: Path, **overrides: object) -> Config:
    """The test's own instruments (listing prices, no band) and the feed `overrides` ask for."""
    instruments = tmp_path / "instruments.csv"
    instruments.write_text(INSTRUMENTS)
    return make_config(tmp_path / "data", reference_instruments_file=str(instruments), **overrides)


@pytest.fixture
async def feed_server(tmp_path: Path) -> AsyncIterator[RunningServer]:
    running = await serve(desk_config(tmp_path, **FAST_FEED))
    try:
        yield running
    finally:
        await running.shutdown(grace=0.5)


@pytest.fixture
async def trader(feed_server: RunningServer) -> AsyncIterator[AsyncClient]:
    async with await itirp_client.aconnect(feed_server.address, "trader1", "trader123") as client:
        yield client


async def take(stream: AsyncIterator[Any], n: int) -> list[common_pb2.Mark]:
    """The next `n` marks of a quote stream (markers skipped)."""
    marks: list[common_pb2.Mark] = []
    async with asyncio.timeout(15):
        async for item in stream:
            if item.WhichOneof("kind") == "mark":
                marks.append(item.mark)
                if len(marks) == n:
                    break
    return marks


async def executed(client: AsyncClient, order_id: str) -> None:
    async with asyncio.timeout(10):
        while (await client.get_order(order_id)).status != common_pb2.ORDER_STATUS_EXECUTED:  # noqa: ASYNC110 -- polls a server
            await asyncio.sleep(0.01)


def key(mark: common_pb2.Mark) -> tuple[str, str, str, str, int]:
    return (mark.symbol, mark.price, mark.bid, mark.ask, mark.sequence)


# ---------------------------------------------------------------------------------- quotes


async def test_get_quote_gives_the_recorded_mark_and_it_moves_on_the_simulated_venue(trader: AsyncClient) -> None:
    first = await trader.get_quote("AAPL")
    async with asyncio.timeout(10):
        while (moved := await trader.get_quote("AAPL")).price == first.price:  # noqa: ASYNC110 -- polls a server
            await asyncio.sleep(0.02)

    assert moved.symbol == "AAPL"
    assert moved.source == "simulated"
    assert moved.sequence > first.sequence
    assert Decimal(moved.bid) < Decimal(moved.price) < Decimal(moved.ask)
    assert Decimal(moved.price) % Decimal("0.01") == 0


async def test_get_quote_of_an_unlisted_symbol_is_instrument_not_found(trader: AsyncClient) -> None:
    with pytest.raises(itirp_client.NotFound) as refused:
        await trader.get_quote("NOPE")

    assert refused.value.reason == itirp_client.Reason.INSTRUMENT_NOT_FOUND


async def test_stream_quotes_delivers_marks_and_resumes_from_a_sequence_with_no_gap_or_duplicate(
    trader: AsyncClient,
) -> None:
    everything = await take(trader.stream_quotes(from_sequence=1), 12)
    aapl = await take(trader.stream_quotes(["AAPL"], from_sequence=1), 10)
    resumed = await take(trader.stream_quotes(["AAPL"], from_sequence=aapl[4].sequence), 5)

    assert {m.symbol for m in everything} == {"AAPL", "MSFT"}
    assert {m.symbol for m in aapl} == {"AAPL"}
    sequences = [m.sequence for m in aapl]
    assert sequences == sorted(set(sequences))  # each its own event, in order
    assert [key(m) for m in resumed] == [key(m) for m in aapl[5:]]
    # each mark's sequence is the event that recorded it, and no AAPL mark was left out between
    assert await _recorded_marks(trader.address, "AAPL", sequences[0], sequences[-1]) == sequences


async def test_stream_quotes_live_after_caught_up(trader: AsyncClient) -> None:
    kinds: list[str] = []
    async with asyncio.timeout(15):
        async for item in trader.stream_quotes(["MSFT"], markers=True):
            kinds.append(item.WhichOneof("kind"))
            if kinds.count("mark") == 3:
                break

    assert kinds[0] == "caught_up"
    assert kinds[1:].count("mark") == 3


async def test_list_positions_shows_the_mark_its_value_uses(trader: AsyncClient) -> None:
    order = await trader.submit_order("AAPL", "BUY", 100, "150.00")
    await executed(trader, order.order_id)

    reply = await trader.positions("AAPL")
    (position,) = reply.positions
    metrics = await trader.risk_metrics()

    assert position.mark.symbol == "AAPL"
    assert position.mark.sequence > 0
    assert Decimal(position.market_value) == position.quantity * Decimal(position.mark.price)
    assert Decimal(position.unrealized_pnl) == position.quantity * (
        Decimal(position.mark.price) - Decimal(position.average_price)
    )
    assert [m.symbol for m in metrics.marks] == ["AAPL"]  # held or worked: MSFT is neither


# ---------------------------------------------------------------------------------- restart


async def _snapshot(client: AsyncClient) -> tuple[risk_pb2.RiskMetrics, risk_pb2.ListPositionsResponse, list[Any]]:
    metrics = await client.risk_metrics()
    metrics.ClearField("timestamp")
    quotes = [key(await client.get_quote(s)) for s in ("AAPL", "MSFT")]
    return metrics, await client.positions(), quotes


async def test_a_restart_rebuilds_identical_marks_positions_pnl_and_risk_metrics(tmp_path: Path) -> None:
    # the recorder marks each instrument once at start and then not for an hour: every later mark
    # is one a submit used, and nothing moves once the orders have filled
    first = await serve(desk_config(tmp_path, **{**FAST_FEED, "feed_mark_interval_seconds": 3600.0}))
    try:
        async with await itirp_client.aconnect(first.address, "trader1", "trader123") as client:
            # marketable prices: the simulated market fills each at its quote (not at the limit)
            for symbol, side, quantity, price in [
                ("AAPL", "BUY", 100, "160.00"),
                ("MSFT", "BUY", 20, "420.00"),
                ("AAPL", "SELL", 40, "140.00"),
            ]:
                await asyncio.sleep(0.05)  # the walk moves between the decisions
                order = await client.submit_order(symbol, side, quantity, price)
                await executed(client, order.order_id)
            before = await _snapshot(client)
    finally:
        await first.shutdown(grace=0.5)

    second = await serve(desk_config(tmp_path, feed_kind="off"))
    try:
        async with await itirp_client.aconnect(second.address, "trader1", "trader123") as client:
            after = await _snapshot(client)
    finally:
        await second.shutdown(grace=0.5)

    metrics, positions, quotes = before
    assert after == before
    assert {m.symbol for m in metrics.marks} == {"AAPL", "MSFT"}
    assert all(q[4] > 0 for q in quotes)  # recorded marks, not listing prices
    assert Decimal(positions.total_realized_pnl) != 0  # the sell realized at a price of its own


# ---------------------------------------------------------------------------------- walk-past


async def test_a_tiny_fill_no_longer_makes_a_large_position_look_worthless(tmp_path: Path) -> None:
    server = await serve(desk_config(tmp_path, feed_kind="off"))
    try:
        async with await itirp_client.aconnect(server.address, "trader1", "trader123") as client:
            tiny = await client.submit_order("AAPL", "BUY", 1, "0.01")
            await executed(client, tiny.order_id)

            # valued at the last fill (0.01) both fitted easily; at the reference price of 150 (the
            # order's own 150.50 when higher) 6,651 x 150.50 = 1,000,975.50 is above the default
            # max_position_size of 1,000,000, and 6,601 x 150.50 = 993,450.50 is not
            with pytest.raises(itirp_client.RiskRejected) as rejected:
                await client.submit_order("AAPL", "BUY", 6650, "150.50")
            fits = await client.submit_order("AAPL", "BUY", 6600, "150.50")
    finally:
        await server.shutdown(grace=0.5)

    assert rejected.value.order.status == common_pb2.ORDER_STATUS_REJECTED
    assert [v.type for v in rejected.value.violations] == [common_pb2.VIOLATION_TYPE_POSITION_LIMIT]
    assert fits.status == common_pb2.ORDER_STATUS_APPROVED


async def _recorded_marks(address: str, symbol: str, first: int, last: int) -> list[int]:
    """The sequences of the MARK_RECORDED events of `symbol` from `first` to `last`, as the audit
    log has them."""
    async with await itirp_client.aconnect(address, "compliance1", "compliance123") as auditor:
        page = await auditor.list_events(
            from_sequence=first, event_types=["MARK_RECORDED"], symbol=symbol, page_size=1000
        )
    return [e.sequence for e in page.events if first <= e.sequence <= last]
