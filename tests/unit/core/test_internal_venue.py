"""The internal venue at the core level: an approved order meets its symbol's book in the same
command, and what the book did comes back as events (fills, cancellations, expiries) that move
orders, positions and reservations. Reference scenarios, each built as the server builds it
(see harness.py)."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from google.protobuf.message import Message

from itirp.core.recorder import Committed
from itirp.core.sequencer import Sequencer
from itirp.domain.book import LevelChange
from itirp.domain.orders import (
    Order,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from itirp.errors import FailedPrecondition, InvalidArgument, NotFound, Reason
from itirp.events import decode_payload
from itirp.store import StoredEvent
from itirp.v1 import common_pb2, events_pb2

from .harness import DAY, SECOND, Harness, actor, open_harness, types_of

SUBMIT = ["ORDER_CREATED", "RISK_CHECK_STARTED", "RISK_CHECK_PASSED"]
REJECT = ["ORDER_CREATED", "RISK_CHECK_STARTED", "RISK_CHECK_FAILED"]
ACCEPT = [*SUBMIT, "ORDER_ACCEPTED"]
FILLED = "ORDER_FILLED"
CANCELLED = "ORDER_CANCELLED"

BUY, SELL = Side.BUY, Side.SELL


@pytest.fixture
def h() -> Harness:
    return open_harness("internal")


# -- helpers ----------------------------------------------------------------------------------------


def payload(event: StoredEvent) -> Message:
    return decode_payload(event.event_type, event.schema_version, event.payload)


def payloads(committed: Committed, event_type: str) -> list[tuple[StoredEvent, Message]]:
    return [(e, payload(e)) for e in committed.events if e.event_type == event_type]


def violation_names(violations: object) -> list[str]:
    return [common_pb2.ViolationType.Name(v.type).removeprefix("VIOLATION_TYPE_") for v in violations]  # type: ignore[attr-defined]


def place(
    h: Harness, side: Side, quantity: int, price: str, user_id: str = "u-1", **kwargs: object
) -> tuple[Order, Committed]:
    return h.submit(side=side, quantity=quantity, price=price, user_id=user_id, **kwargs)  # type: ignore[arg-type]


def amend(
    h: Harness, order: Order, *, quantity: int = 0, price: str = "", actor_id: str = ""
) -> tuple[Order, bool, Committed]:
    """Amended by its owner (a trader) unless `actor_id` names another user."""
    user_id = actor_id or order.user_id
    return h.amend(order.order_id, quantity=quantity, price=price, by=actor(user_id, user_id, correlation_id="amend"))


def cancel(h: Harness, order: Order, actor_id: str = "") -> tuple[Order, Committed]:
    """Cancelled by its owner (a trader) unless `actor_id` names another user."""
    user_id = actor_id or order.user_id
    return h.cancel(order.order_id, by=actor(user_id, user_id, correlation_id="cx"), reason="trader request")


def kill_switch(h: Harness, enabled: bool) -> None:
    assert h.set_kill_switch(enabled, reason="halt") is not None


def book(h: Harness, symbol: str = "AAPL") -> tuple[tuple, tuple]:
    """(bids, asks) as ((price, ((order_id, open quantity), ...)), ...), best first."""
    return h.core.matching.books[symbol].snapshot()


def level(price: str, *orders: tuple[Order, int]) -> tuple[Decimal, tuple[tuple[str, int], ...]]:
    return Decimal(price), tuple((o.order_id, qty) for o, qty in orders)


def resting_exposure(core: Sequencer) -> Decimal:
    """Sum over the orders resting in the books of open quantity x reserved price."""
    total = Decimal(0)
    for symbol_book in core.matching.books.values():
        for side in symbol_book.snapshot():
            for _, queue in side:
                for order_id, open_quantity in queue:
                    total += open_quantity * core.state.orders[order_id].reserved_price  # type: ignore[operator]
    return total


def assert_reservations_follow_the_book(core: Sequencer) -> None:
    assert core.queries.metrics().working_exposure == resting_exposure(core)


def record_book_changes(core: Sequencer) -> list[tuple[int, str, list[LevelChange]]]:
    calls: list[tuple[int, str, list[LevelChange]]] = []
    core.matching.on_book_change = lambda seq, _ts, symbol, changes: calls.append((seq, symbol, list(changes)))
    return calls


def sequence_of(committed: Committed, event_type: str, order: Order | None = None) -> int:
    (event,) = [
        e for e in committed.events if e.event_type == event_type and (order is None or e.order_id == order.order_id)
    ]
    return event.sequence


# -- resting and filling ----------------------------------------------------------------------------


def test_a_limit_order_that_does_not_cross_rests_working_and_keeps_its_reservation(h: Harness) -> None:
    # Act
    order, committed = place(h, SELL, 100, "150.00")

    # Assert: the events
    assert types_of(committed) == ACCEPT
    accepted = payload(committed.events[-1])
    assert isinstance(accepted, events_pb2.OrderAccepted)
    assert accepted.venue == "internal"
    passed = payload(committed.events[2])
    assert isinstance(passed, events_pb2.RiskCheckPassed)
    assert (passed.reserved_price, passed.reserved_notional) == ("150.00", "15000.00")
    # ... the order
    assert order.status is OrderStatus.WORKING
    assert order.message == "in the book"
    assert (order.filled_quantity, order.remaining_quantity, order.average_fill_price) == (0, 100, None)
    # ... the book and the reservation
    assert book(h) == ((), (level("150", (order, 100)),))
    assert h.core.matching.books["AAPL"].best_ask() == Decimal("150")
    assert h.core.queries.metrics().working_exposure == Decimal("15000")
    assert_reservations_follow_the_book(h.core)


def test_a_crossing_order_fills_at_the_resting_price_with_one_trade_id_shared_by_both_orders(h: Harness) -> None:
    # Arrange
    seller, _ = place(h, SELL, 100, "150.00", user_id="u-1")

    # Act: a buyer willing to pay more
    buyer, committed = place(h, BUY, 100, "150.10", user_id="u-2")

    # Assert: one trade, one fill event for each side of it
    assert types_of(committed) == [*ACCEPT, FILLED, FILLED]
    (e_taker, taker), (e_maker, maker) = payloads(committed, FILLED)
    assert isinstance(taker, events_pb2.OrderFilled)
    assert isinstance(maker, events_pb2.OrderFilled)
    assert (e_taker.order_id, e_maker.order_id) == (buyer.order_id, seller.order_id)
    assert (e_taker.user_id, e_maker.user_id) == ("u-2", "u-1")
    assert taker.trade_id == maker.trade_id != ""
    assert (taker.price, maker.price) == ("150.00", "150.00")  # the resting order's price
    assert (taker.quantity, maker.quantity) == (100, 100)
    assert (taker.aggressor, maker.aggressor) == (True, False)
    assert (taker.contra_order_id, maker.contra_order_id) == (seller.order_id, buyer.order_id)
    assert (taker.remaining_quantity, maker.remaining_quantity) == (0, 0)
    assert (taker.venue, maker.venue) == ("internal", "internal")
    assert e_maker.causation_id == buyer.order_id
    # ... both orders executed, at the resting price
    for order in (buyer, seller):
        assert order.status is OrderStatus.EXECUTED
        assert order.message == "filled"
        assert (order.filled_quantity, order.remaining_quantity) == (100, 0)
        assert order.average_fill_price == Decimal("150")
        (fill,) = order.fills
        assert (fill.trade_id, fill.quantity, fill.price) == (taker.trade_id, 100, Decimal("150"))
    assert [f.aggressor for f in buyer.fills + seller.fills] == [True, False]
    # ... the book is empty and nothing stays reserved
    assert book(h) == ((), ())
    metrics = h.core.queries.metrics()
    assert metrics.working_exposure == 0
    # ... risk is firm-wide: the two legs of an internal cross net to a flat position, and both count as volume
    position = h.core.state.risk.positions["AAPL"]
    assert (position.quantity, position.realized_pnl, position.last_price) == (0, 0, Decimal("150"))
    assert metrics.executed_volume == Decimal("30000")
    assert h.core.queries.realized_pnl == 0


def test_a_large_order_sweeps_levels_in_price_time_order_and_rests_the_rest_at_its_limit(h: Harness) -> None:
    # Arrange: three levels of asks; 150.05 holds two orders, oldest first
    a, _ = place(h, SELL, 60, "150.00", user_id="u-1")
    b, _ = place(h, SELL, 40, "150.05", user_id="u-2")
    c, _ = place(h, SELL, 50, "150.05", user_id="u-3")
    d, _ = place(h, SELL, 100, "151.00", user_id="u-1")

    # Act
    buyer, committed = place(h, BUY, 200, "150.05", user_id="u-4")

    # Assert: a, then b before c (time priority), never d (beyond the limit)
    fills = payloads(committed, FILLED)
    assert [(e.order_id, p.quantity, p.price, p.aggressor, p.remaining_quantity) for e, p in fills] == [  # type: ignore[attr-defined]
        (buyer.order_id, 60, "150.00", True, 140),
        (a.order_id, 60, "150.00", False, 0),
        (buyer.order_id, 40, "150.05", True, 100),
        (b.order_id, 40, "150.05", False, 0),
        (buyer.order_id, 50, "150.05", True, 50),
        (c.order_id, 50, "150.05", False, 0),
    ]
    trade_ids = [p.trade_id for _, p in fills]  # type: ignore[attr-defined]
    assert trade_ids[0::2] == trade_ids[1::2]
    assert len(set(trade_ids)) == 3
    assert types_of(committed) == [*ACCEPT, *[FILLED] * 6]
    # ... the buyer: partially filled, resting 50 at its limit, exact volume-weighted average price
    assert buyer.status is OrderStatus.PARTIALLY_FILLED
    assert buyer.message == "partially filled: 50 open"
    assert (buyer.filled_quantity, buyer.remaining_quantity) == (150, 50)
    assert buyer.average_fill_price == Decimal("150.03")  # (60 x 150 + 90 x 150.05) / 150
    assert [o.status for o in (a, b, c, d)] == [OrderStatus.EXECUTED] * 3 + [OrderStatus.WORKING]
    assert book(h) == ((level("150.05", (buyer, 50)),), (level("151", (d, 100)),))
    # ... reserved: the buyer's 50 at 150.05 and d's 100 at 151
    assert h.core.queries.metrics().working_exposure == Decimal("22602.50")
    assert_reservations_follow_the_book(h.core)


def test_a_partially_filled_resting_order_keeps_its_place_and_the_reservation_of_its_open_part(h: Harness) -> None:
    # Arrange
    first, _ = place(h, SELL, 100, "150.00", user_id="u-1")
    second, _ = place(h, SELL, 100, "150.00", user_id="u-2")

    # Act
    buyer, committed = place(h, BUY, 30, "150.00", user_id="u-3")

    # Assert
    assert buyer.status is OrderStatus.EXECUTED
    assert first.status is OrderStatus.PARTIALLY_FILLED
    assert first.message == "partially filled: 70 open"
    assert (first.filled_quantity, first.remaining_quantity) == (30, 70)
    (maker_fill,) = [p for e, p in payloads(committed, FILLED) if e.order_id == first.order_id]
    assert (maker_fill.quantity, maker_fill.remaining_quantity, maker_fill.aggressor) == (30, 70, False)  # type: ignore[attr-defined]
    assert book(h) == ((), (level("150", (first, 70), (second, 100)),))
    assert h.core.queries.metrics().working_exposure == Decimal("25500")  # 170 x 150
    assert_reservations_follow_the_book(h.core)


def test_a_buy_order_at_a_lower_price_than_the_best_ask_rests_on_the_other_side(h: Harness) -> None:
    ask, _ = place(h, SELL, 10, "150.01")

    bid, committed = place(h, BUY, 10, "150.00", user_id="u-2")

    assert types_of(committed) == ACCEPT
    assert (ask.status, bid.status) == (OrderStatus.WORKING, OrderStatus.WORKING)
    assert book(h) == ((level("150", (bid, 10)),), (level("150.01", (ask, 10)),))


# -- time in force ----------------------------------------------------------------------------------


def test_ioc_fills_what_it_can_at_once_and_its_remainder_is_cancelled(h: Harness) -> None:
    # Arrange
    ask, _ = place(h, SELL, 60, "150.00")

    # Act
    ioc, committed = place(h, BUY, 100, "150.00", user_id="u-2", time_in_force=TimeInForce.IOC)

    # Assert
    assert types_of(committed) == [*ACCEPT, FILLED, FILLED, CANCELLED]
    ((event, cancelled),) = payloads(committed, CANCELLED)
    assert isinstance(cancelled, events_pb2.OrderCancelled)
    assert event.order_id == ioc.order_id
    assert cancelled.quantity == 40
    assert cancelled.reason == "IOC: the part that could not fill at once was cancelled"
    assert ioc.status is OrderStatus.CANCELLED
    assert ioc.message == "cancelled: IOC: the part that could not fill at once was cancelled"
    assert (ioc.filled_quantity, ioc.remaining_quantity, ioc.average_fill_price) == (60, 0, Decimal("150"))
    assert ask.status is OrderStatus.EXECUTED
    assert book(h) == ((), ())
    assert h.core.queries.metrics().working_exposure == 0


def test_ioc_that_does_not_cross_is_cancelled_whole_and_never_rests(h: Harness) -> None:
    place(h, SELL, 60, "150.01")

    ioc, committed = place(h, BUY, 100, "150.00", user_id="u-2", time_in_force=TimeInForce.IOC)

    assert types_of(committed) == [*ACCEPT, CANCELLED]
    assert payloads(committed, CANCELLED)[0][1].quantity == 100  # type: ignore[attr-defined]
    assert (ioc.status, ioc.filled_quantity) == (OrderStatus.CANCELLED, 0)
    assert ioc.order_id not in h.core.matching.books["AAPL"]
    assert h.core.queries.metrics().working_exposure == Decimal("9000.60")  # only the ask


def test_fok_that_cannot_fill_completely_is_killed_and_changes_nothing(h: Harness) -> None:
    # Arrange: 90 on offer up to 151
    a, _ = place(h, SELL, 60, "150.00")
    b, _ = place(h, SELL, 30, "151.00", user_id="u-2")
    before = book(h)
    exposure = h.core.queries.metrics().working_exposure
    calls = record_book_changes(h.core)

    # Act
    fok, committed = place(h, BUY, 100, "151.00", user_id="u-3", time_in_force=TimeInForce.FOK)

    # Assert: accepted then cancelled whole; nothing traded, the book as it was
    assert types_of(committed) == [*ACCEPT, CANCELLED]
    ((event, cancelled),) = payloads(committed, CANCELLED)
    assert event.order_id == fok.order_id
    assert cancelled.quantity == 100  # type: ignore[attr-defined]
    assert cancelled.reason == "FOK: could not fill completely at once; nothing traded"  # type: ignore[attr-defined]
    assert fok.status is OrderStatus.CANCELLED
    assert (fok.filled_quantity, fok.fills) == (0, [])
    assert book(h) == before
    assert (a.status, a.remaining_quantity, b.status, b.remaining_quantity) == (
        OrderStatus.WORKING, 60, OrderStatus.WORKING, 30,
    )  # fmt: skip
    assert calls == []
    assert h.core.queries.metrics().working_exposure == exposure
    assert h.core.queries.metrics().executed_volume == 0


def test_fok_that_can_fill_completely_fills_across_levels(h: Harness) -> None:
    a, _ = place(h, SELL, 60, "150.00")
    b, _ = place(h, SELL, 30, "151.00", user_id="u-2")

    fok, committed = place(h, BUY, 90, "151.00", user_id="u-3", time_in_force=TimeInForce.FOK)

    assert types_of(committed) == [*ACCEPT, *[FILLED] * 4]
    assert fok.status is OrderStatus.EXECUTED
    assert fok.average_fill_price == Decimal("150.3333333333333333333333333")  # (9000 + 4530) / 90, exact division
    assert fok.filled_notional == Decimal("13530")
    assert (a.status, b.status) == (OrderStatus.EXECUTED, OrderStatus.EXECUTED)
    assert book(h) == ((), ())


def test_day_orders_expire_at_the_day_roll_before_the_volume_reset_and_gtc_orders_stay(h: Harness) -> None:
    # Arrange: a DAY ask partly filled, a GTC ask, a DAY bid
    day_ask, _ = place(h, SELL, 100, "150.00", time_in_force=TimeInForce.DAY)
    place(h, BUY, 30, "150.00", user_id="u-2")
    gtc_ask, _ = place(h, SELL, 100, "151.00", user_id="u-2")
    day_bid, _ = place(h, BUY, 50, "149.00", user_id="u-3", time_in_force=TimeInForce.DAY)
    calls = record_book_changes(h.core)
    h.advance(12 * 3600 * SECOND)  # midnight UTC

    # Act
    committed = h.core.orders.roll_day(h.now_us)
    assert committed is not None

    # Assert: each DAY order expires with its open quantity, then the new day starts
    assert types_of(committed) == ["ORDER_EXPIRED", "ORDER_EXPIRED", "DAILY_VOLUME_RESET"]
    expired = payloads(committed, "ORDER_EXPIRED")
    assert [(e.order_id, p.quantity, p.trading_day) for e, p in expired] == [  # type: ignore[attr-defined]
        (day_ask.order_id, 70, "2024-03-01"),
        (day_bid.order_id, 50, "2024-03-01"),
    ]
    for order in (day_ask, day_bid):
        assert order.status is OrderStatus.EXPIRED
        assert order.message == "expired at the end of trading day 2024-03-01"
        assert order.remaining_quantity == 0
    assert day_ask.filled_quantity == 30
    assert gtc_ask.status is OrderStatus.WORKING
    assert book(h) == ((), (level("151", (gtc_ask, 100)),))
    assert h.core.queries.metrics().working_exposure == Decimal("15100")
    assert h.core.queries.trading_day == "2024-03-02"
    # ... market data hears of each level that went
    assert calls == [
        (expired[0][0].sequence, "AAPL", [LevelChange("SELL", Decimal("150"), 0)]),
        (expired[1][0].sequence, "AAPL", [LevelChange("BUY", Decimal("149"), 0)]),
    ]


def test_the_first_order_after_midnight_expires_the_day_orders_before_it_meets_the_book(h: Harness) -> None:
    # Arrange: yesterday's DAY bid at 150
    day_bid, _ = place(h, BUY, 50, "150.00", time_in_force=TimeInForce.DAY)
    h.advance(DAY)

    # Act: a sell that would have hit it yesterday
    seller, committed = place(h, SELL, 50, "150.00", user_id="u-2")

    # Assert
    types = h.event_types()
    assert types[-6:] == ["ORDER_EXPIRED", "DAILY_VOLUME_RESET", *ACCEPT]
    assert types_of(committed) == ACCEPT
    assert day_bid.status is OrderStatus.EXPIRED
    assert seller.status is OrderStatus.WORKING
    assert book(h) == ((), (level("150", (seller, 50)),))


# -- MARKET orders ----------------------------------------------------------------------------------


def test_a_market_order_sweeps_the_book_at_resting_prices_and_its_rest_is_cancelled(h: Harness) -> None:
    # Arrange: 200 on offer
    a, _ = place(h, SELL, 100, "150.00")
    b, _ = place(h, SELL, 100, "151.00", user_id="u-2")

    # Act
    market, committed = place(h, BUY, 250, "", user_id="u-3", order_type=OrderType.MARKET)

    # Assert: reserved at the worst price the sweep reaches, filled at each resting price
    passed = payload(committed.events[2])
    assert isinstance(passed, events_pb2.RiskCheckPassed)
    assert Decimal(passed.reserved_price) == Decimal("151")
    assert passed.reserved_notional == "37750.00"
    assert market.reserved_price == Decimal("151")
    assert market.price is None
    assert types_of(committed) == [*ACCEPT, *[FILLED] * 4, CANCELLED]
    taker_fills = [(p.quantity, p.price) for e, p in payloads(committed, FILLED) if e.order_id == market.order_id]  # type: ignore[attr-defined]
    assert taker_fills == [(100, "150.00"), (100, "151.00")]
    ((event, cancelled),) = payloads(committed, CANCELLED)
    assert (event.order_id, cancelled.quantity) == (market.order_id, 50)  # type: ignore[attr-defined]
    assert market.status is OrderStatus.CANCELLED
    assert market.message == "cancelled: MARKET: no more liquidity in the book; the unfilled part was cancelled"
    assert (market.filled_quantity, market.average_fill_price) == (200, Decimal("150.5"))
    assert (a.status, b.status) == (OrderStatus.EXECUTED, OrderStatus.EXECUTED)
    assert book(h) == ((), ())
    assert h.core.queries.metrics().working_exposure == 0


def test_a_market_order_the_book_can_fill_is_executed_and_leaves_the_rest_of_the_level(h: Harness) -> None:
    ask, _ = place(h, SELL, 100, "150.00")

    market, committed = place(h, BUY, 40, "", user_id="u-2", order_type=OrderType.MARKET, time_in_force=TimeInForce.DAY)

    assert types_of(committed) == [*ACCEPT, FILLED, FILLED]
    assert market.status is OrderStatus.EXECUTED
    assert ask.remaining_quantity == 60
    assert book(h) == ((), (level("150", (ask, 60)),))
    assert_reservations_follow_the_book(h.core)


def test_a_market_fok_larger_than_the_book_is_killed(h: Harness) -> None:
    place(h, SELL, 100, "150.00")
    before = book(h)

    market, committed = place(
        h, BUY, 150, "", user_id="u-2", order_type=OrderType.MARKET, time_in_force=TimeInForce.FOK
    )

    assert types_of(committed) == [*ACCEPT, CANCELLED]
    assert (market.status, market.filled_quantity) == (OrderStatus.CANCELLED, 0)
    assert book(h) == before


def test_a_market_order_is_refused_on_the_simulated_venue_and_nothing_is_recorded() -> None:
    sim = open_harness("simulated")

    with pytest.raises(FailedPrecondition, match="MARKET orders need the internal venue") as caught:
        sim.submit(side=BUY, quantity=10, price="", order_type=OrderType.MARKET)

    assert caught.value.reason is Reason.MARKET_ORDER_NEEDS_BOOK
    assert sim.core.queries.last_applied == 0
    assert sim.core.state.orders == {}


def test_a_market_order_into_an_empty_opposite_side_is_refused_and_nothing_is_recorded(h: Harness) -> None:
    # Arrange: bids only
    place(h, BUY, 100, "150.00")
    head = h.core.queries.last_applied

    # Act / Assert: a MARKET buy has nothing to trade against, here or in a symbol never traded
    with pytest.raises(FailedPrecondition, match="no SELL orders rest in the AAPL book"):
        h.submit(side=BUY, quantity=10, price="", user_id="u-2", order_type=OrderType.MARKET)
    with pytest.raises(FailedPrecondition, match="no BUY orders rest in the MSFT book"):
        h.submit(symbol="MSFT", side=SELL, quantity=10, price="", user_id="u-2", order_type=OrderType.MARKET)
    assert h.core.queries.last_applied == head
    assert len(h.core.state.orders) == 1


def test_a_market_order_after_midnight_is_priced_on_the_book_left_once_day_orders_expire(h: Harness) -> None:
    # Arrange: yesterday's DAY ask at 150 in front of a GTC ask at 200
    day_ask, _ = place(h, SELL, 100, "150.00", time_in_force=TimeInForce.DAY)
    place(h, SELL, 100, "200.00", user_id="u-2")
    h.advance(DAY)

    # Act: the first command of the new day
    market, _ = place(h, BUY, 100, "", user_id="u-3", order_type=OrderType.MARKET)

    # Assert: the DAY ask is gone before the order is priced, so it is reserved at the 200 it pays
    assert day_ask.status is OrderStatus.EXPIRED
    assert [f.price for f in market.fills] == [Decimal("200")]
    assert market.reserved_price == Decimal("200")  # actually 150: risk checked the order at a price it could not get


def test_a_market_order_into_a_book_the_day_roll_empties_is_refused(h: Harness) -> None:
    place(h, SELL, 100, "150.00", time_in_force=TimeInForce.DAY)
    h.advance(DAY)

    with pytest.raises(FailedPrecondition, match="no SELL orders rest"):
        h.submit(side=BUY, quantity=100, price="", user_id="u-2", order_type=OrderType.MARKET)


def test_a_market_order_never_fills_at_a_price_worse_than_the_one_risk_reserved_it_at(h: Harness) -> None:
    # Arrange: the best ask is the buyer's own; the next one is another user's, 10 higher
    own, _ = place(h, SELL, 100, "150.00", user_id="u-1")
    place(h, SELL, 100, "160.00", user_id="u-2")

    # Act: u-1 buys at market; self-trade prevention (CANCEL_RESTING) cancels its own ask
    market, _ = place(h, BUY, 100, "", user_id="u-1", order_type=OrderType.MARKET)

    # Assert
    assert own.status is OrderStatus.CANCELLED
    assert [f.price for f in market.fills] == [Decimal("160")]
    assert market.reserved_price is not None
    assert all(f.price <= market.reserved_price for f in market.fills)  # reserved at 160, the ask it can reach


# -- amend ----------------------------------------------------------------------------------------


def test_amending_down_at_the_same_price_keeps_the_queue_place_and_shrinks_the_reservation(h: Harness) -> None:
    # Arrange: a then b at 150
    a, _ = place(h, SELL, 100, "150.00", user_id="u-1")
    b, _ = place(h, SELL, 100, "150.00", user_id="u-2")
    calls = record_book_changes(h.core)

    # Act
    order, priority_kept, committed = amend(h, a, quantity=60)

    # Assert
    assert order is a
    assert priority_kept is True
    assert types_of(committed) == ["ORDER_AMENDED"]
    (event,) = committed.events
    p = payload(event)
    assert isinstance(p, events_pb2.OrderAmended)
    amended = (p.open_quantity, p.quantity, p.price, p.priority_kept, p.reserved_price)
    assert amended == (60, 60, "150.00", True, "150.00")
    assert (event.user_id, event.correlation_id) == ("u-1", "amend")
    assert (a.status, a.quantity, a.remaining_quantity, a.message) == (OrderStatus.WORKING, 60, 60, "amended")
    assert book(h) == ((), (level("150", (a, 60), (b, 100)),))
    assert h.core.queries.metrics().working_exposure == Decimal("24000")
    assert_reservations_follow_the_book(h.core)
    assert calls == [(event.sequence, "AAPL", [LevelChange("SELL", Decimal("150"), 160)])]

    # ... and a is still first in line
    _, fill_events = place(h, BUY, 80, "150.00", user_id="u-3")
    assert [(e.order_id, p.quantity) for e, p in payloads(fill_events, FILLED) if not p.aggressor] == [  # type: ignore[attr-defined]
        (a.order_id, 60),
        (b.order_id, 20),
    ]


def test_amending_a_partially_filled_order_counts_the_filled_part_in_the_new_total(h: Harness) -> None:
    a, _ = place(h, SELL, 100, "150.00")
    place(h, BUY, 30, "150.00", user_id="u-2")

    _, _, committed = amend(h, a, quantity=50)

    p = payload(committed.events[0])
    assert (p.open_quantity, p.quantity) == (20, 50)  # type: ignore[attr-defined]
    assert (a.status, a.quantity, a.filled_quantity, a.remaining_quantity) == (OrderStatus.PARTIALLY_FILLED, 50, 30, 20)
    assert book(h) == ((), (level("150", (a, 20)),))
    assert_reservations_follow_the_book(h.core)


def test_amending_up_at_the_same_price_loses_the_queue_place(h: Harness) -> None:
    a, _ = place(h, SELL, 100, "150.00", user_id="u-1")
    b, _ = place(h, SELL, 100, "150.00", user_id="u-2")

    _, priority_kept, _ = amend(h, a, quantity=150)

    assert priority_kept is False
    assert a.message == "amended (back of the queue)"
    assert book(h) == ((), (level("150", (b, 100), (a, 150)),))
    assert h.core.queries.metrics().working_exposure == Decimal("37500")
    assert_reservations_follow_the_book(h.core)


def test_amending_to_a_crossing_price_trades_like_a_new_order_and_rests_the_rest(h: Harness) -> None:
    # Arrange: an ask at 151 and a bid at 149 from another user
    ask, _ = place(h, SELL, 100, "151.00", user_id="u-1")
    bid, _ = place(h, BUY, 40, "149.00", user_id="u-2")
    calls = record_book_changes(h.core)

    # Act: the ask comes down to 149
    _, priority_kept, committed = amend(h, ask, price="149.00")

    # Assert: it takes the bid at the bid's price and rests the other 60 at 149
    assert priority_kept is False
    assert types_of(committed) == ["ORDER_AMENDED", FILLED, FILLED]
    amended = payload(committed.events[0])
    assert (amended.open_quantity, amended.price, amended.reserved_price) == (100, "149.00", "149.00")  # type: ignore[attr-defined]
    (e_taker, taker), (e_maker, maker) = payloads(committed, FILLED)
    taker_leg = (e_taker.order_id, taker.aggressor, taker.price, taker.remaining_quantity)  # type: ignore[attr-defined]
    maker_leg = (e_maker.order_id, maker.aggressor, maker.price, maker.remaining_quantity)  # type: ignore[attr-defined]
    assert taker_leg == (ask.order_id, True, "149.00", 60)
    assert maker_leg == (bid.order_id, False, "149.00", 0)
    assert (ask.status, ask.price, ask.remaining_quantity) == (OrderStatus.PARTIALLY_FILLED, Decimal("149"), 60)
    assert bid.status is OrderStatus.EXECUTED
    assert book(h) == ((), (level("149", (ask, 60)),))
    assert h.core.queries.metrics().working_exposure == Decimal("8940")  # 60 x 149
    assert_reservations_follow_the_book(h.core)
    # ... market data: the old level left, the bid taken, the new level, all at the amendment's sequence
    seq = committed.events[0].sequence
    assert calls == [
        (seq, "AAPL", [
            LevelChange("SELL", Decimal("151"), 0),
            LevelChange("BUY", Decimal("149"), 0),
            LevelChange("SELL", Decimal("149"), 60),
        ]),
    ]  # fmt: skip


def test_an_amendment_refused_by_risk_records_nothing_and_keeps_the_reservation(h: Harness) -> None:
    # Arrange: at most 20,000 of daily volume; 15,000 of it reserved by the resting order
    h.update_limits(max_daily_volume="20000")
    a, _ = place(h, SELL, 100, "150.00")
    head, before, metrics = h.core.queries.last_applied, book(h), h.core.queries.metrics()

    # Act / Assert: 200 x 150 = 30,000 would breach it
    refused = "amendment refused by pre-trade risk: FIRM/max_daily_volume: projected daily volume"
    with pytest.raises(FailedPrecondition, match=refused):
        amend(h, a, quantity=200)

    assert h.core.queries.last_applied == head
    assert book(h) == before
    assert h.core.queries.metrics() == metrics
    assert (a.quantity, a.price, a.status) == (100, Decimal("150.00"), OrderStatus.WORKING)
    # ... the reservation still works for the order: it can still be cancelled and filled
    assert_reservations_follow_the_book(h.core)
    amend(h, a, quantity=130)  # 19,500: fits
    assert a.quantity == 130


def test_amendments_that_change_nothing_or_undercut_the_filled_part_are_invalid(h: Harness) -> None:
    a, _ = place(h, SELL, 100, "150.00")
    place(h, BUY, 30, "150.00", user_id="u-2")
    head = h.core.queries.last_applied

    # neither a quantity nor a price given (refused before the order is looked at), or both as they are
    with pytest.raises(InvalidArgument, match="give a new quantity, a new price or both") as empty:
        amend(h, a)
    assert empty.value.field == "amend"
    with pytest.raises(InvalidArgument, match="nothing to change") as same:
        amend(h, a, quantity=100, price="150.00")
    assert same.value.field == "amend"
    with pytest.raises(InvalidArgument, match="must be above the 30 already filled") as undercut:
        amend(h, a, quantity=30)
    assert undercut.value.field == "quantity"

    assert h.core.queries.last_applied == head
    assert (a.quantity, a.remaining_quantity) == (100, 70)


def test_only_an_order_resting_in_the_book_can_be_amended(h: Harness) -> None:
    ask, _ = place(h, SELL, 100, "150.00")
    buyer, _ = place(h, BUY, 100, "150.00", user_id="u-2")  # both executed
    resting, _ = place(h, SELL, 10, "151.00")
    cancel(h, resting)

    for order in (ask, buyer, resting):
        with pytest.raises(FailedPrecondition, match="only an order resting in the internal venue's book"):
            amend(h, order, quantity=5)
    with pytest.raises(NotFound):
        h.amend("nope", quantity=5, by=actor("u-1", "u-1"))


def test_an_approved_order_on_the_simulated_venue_cannot_be_amended() -> None:
    sim = open_harness("simulated")
    order, _ = sim.submit(quantity=100, price="150.00")

    with pytest.raises(FailedPrecondition, match="APPROVED"):
        amend(sim, order, quantity=50, actor_id="u-trader1")


def test_after_midnight_a_day_order_of_yesterday_cannot_be_amended_into_a_trade(h: Harness) -> None:
    # Arrange: yesterday's DAY ask above yesterday's GTC bid
    day_ask, _ = place(h, SELL, 100, "151.00", time_in_force=TimeInForce.DAY)
    bid, _ = place(h, BUY, 100, "150.00", user_id="u-2")
    h.advance(DAY)  # past midnight; the background roll has not run yet

    # Act: the DAY ask comes down to the bid
    with contextlib.suppress(FailedPrecondition):  # refused: the order is no longer resting
        amend(h, day_ask, price="150.00")

    # Assert: it expired with its day and never traded
    assert bid.filled_quantity == 0
    assert day_ask.status is OrderStatus.EXPIRED


# -- cancel -------------------------------------------------------------------------------------------


def test_cancelling_a_resting_order_takes_it_out_of_the_book_and_releases_its_reservation(h: Harness) -> None:
    a, _ = place(h, SELL, 100, "150.00")
    calls = record_book_changes(h.core)

    order, committed = cancel(h, a)

    assert types_of(committed) == [CANCELLED]
    p = payload(committed.events[0])
    assert (p.quantity, p.reason) == (100, "trader request")  # type: ignore[attr-defined]
    assert (order.status, order.message) == (OrderStatus.CANCELLED, "cancelled: trader request")
    assert order.remaining_quantity == 0
    assert book(h) == ((), ())
    assert h.core.queries.metrics().working_exposure == 0
    assert calls == [(committed.events[0].sequence, "AAPL", [LevelChange("SELL", Decimal("150"), 0)])]


def test_cancelling_a_partially_filled_order_cancels_its_open_part_and_keeps_its_fills(h: Harness) -> None:
    a, _ = place(h, SELL, 100, "150.00")
    b, _ = place(h, SELL, 50, "150.00", user_id="u-2")
    place(h, BUY, 30, "150.00", user_id="u-3")

    _, committed = cancel(h, a)

    assert payload(committed.events[0]).quantity == 70  # type: ignore[attr-defined]
    assert (a.status, a.filled_quantity, a.average_fill_price) == (OrderStatus.CANCELLED, 30, Decimal("150"))
    assert book(h) == ((), (level("150", (b, 50)),))
    assert h.core.queries.metrics().working_exposure == Decimal("7500")
    with pytest.raises(FailedPrecondition, match="can no longer be cancelled"):
        cancel(h, a)


# -- self-trade prevention ----------------------------------------------------------------------------


def test_cancel_resting_self_trade_prevention_cancels_the_own_resting_order_and_trades_on(h: Harness) -> None:
    # Arrange: u-1's own ask first in line, then u-2's at the same price
    own, _ = place(h, SELL, 50, "150.00", user_id="u-1")
    other, _ = place(h, SELL, 50, "150.00", user_id="u-2")

    # Act: u-1 buys 80 with the default mode
    buyer, committed = place(h, BUY, 80, "150.00", user_id="u-1")

    # Assert: own cancelled, other taken, the rest of the buy rests
    assert types_of(committed) == [*ACCEPT, FILLED, FILLED, CANCELLED]
    ((event, cancelled),) = payloads(committed, CANCELLED)
    assert (event.order_id, cancelled.quantity) == (own.order_id, 50)  # type: ignore[attr-defined]
    assert event.causation_id == buyer.order_id
    reason = f"self-trade prevention: your order {buyer.order_id} would have traded with it"
    assert cancelled.reason == reason  # type: ignore[attr-defined]
    assert own.status is OrderStatus.CANCELLED
    assert own.message == f"cancelled: {reason}"
    assert other.status is OrderStatus.EXECUTED
    assert (buyer.status, buyer.filled_quantity, buyer.remaining_quantity) == (OrderStatus.PARTIALLY_FILLED, 50, 30)
    assert book(h) == ((level("150", (buyer, 30)),), ())
    assert_reservations_follow_the_book(h.core)


def test_cancel_incoming_self_trade_prevention_stops_the_incoming_order_at_its_own_resting_order(h: Harness) -> None:
    # Arrange: u-2's ask at 149.99, then u-1's own at 150
    other, _ = place(h, SELL, 50, "149.99", user_id="u-2")
    own, _ = place(h, SELL, 50, "150.00", user_id="u-1")

    # Act
    buyer, committed = place(h, BUY, 80, "150.00", user_id="u-1", stp=SelfTradePrevention.CANCEL_INCOMING)

    # Assert: it trades up to its own order, then its rest is cancelled; the own order stays
    assert types_of(committed) == [*ACCEPT, FILLED, FILLED, CANCELLED]
    ((event, cancelled),) = payloads(committed, CANCELLED)
    assert (event.order_id, cancelled.quantity) == (buyer.order_id, 30)  # type: ignore[attr-defined]
    assert cancelled.reason == "self-trade prevention: it would have traded with your own resting order"  # type: ignore[attr-defined]
    assert (buyer.status, buyer.filled_quantity) == (OrderStatus.CANCELLED, 50)
    assert other.status is OrderStatus.EXECUTED
    assert (own.status, own.remaining_quantity) == (OrderStatus.WORKING, 50)
    assert book(h) == ((), (level("150", (own, 50)),))
    assert_reservations_follow_the_book(h.core)


def test_cancel_both_self_trade_prevention_cancels_the_own_resting_order_and_the_incoming_rest(h: Harness) -> None:
    other, _ = place(h, SELL, 50, "149.99", user_id="u-2")
    own, _ = place(h, SELL, 50, "150.00", user_id="u-1")
    behind, _ = place(h, SELL, 50, "150.00", user_id="u-3")

    buyer, committed = place(h, BUY, 80, "150.00", user_id="u-1", stp=SelfTradePrevention.CANCEL_BOTH)

    assert types_of(committed) == [*ACCEPT, FILLED, FILLED, CANCELLED, CANCELLED]
    cancels = [(e.order_id, p.quantity) for e, p in payloads(committed, CANCELLED)]  # type: ignore[attr-defined]
    assert cancels == [(own.order_id, 50), (buyer.order_id, 30)]
    assert (buyer.status, buyer.filled_quantity) == (OrderStatus.CANCELLED, 50)
    statuses = (other.status, own.status, behind.status)
    assert statuses == (OrderStatus.EXECUTED, OrderStatus.CANCELLED, OrderStatus.WORKING)
    assert book(h) == ((), (level("150", (behind, 50)),))
    assert_reservations_follow_the_book(h.core)


# -- risk -------------------------------------------------------------------------------------------


def test_an_order_rejected_by_risk_never_reaches_the_book(h: Harness) -> None:
    ask, _ = place(h, SELL, 10, "200.00", user_id="u-2")

    # 100,000 x 200 breaches every limit (and would have crossed the ask)
    order, committed = place(h, BUY, 100_000, "200.00")

    assert types_of(committed) == REJECT
    assert order.status is OrderStatus.REJECTED
    violations = "POSITION_LIMIT, DAILY_VOLUME_LIMIT, NET_EXPOSURE_LIMIT, GROSS_EXPOSURE_LIMIT"
    assert order.message == f"Risk violations: {violations}"
    assert order.order_id not in h.core.matching.books["AAPL"]
    assert (ask.status, ask.remaining_quantity) == (OrderStatus.WORKING, 10)
    assert book(h) == ((), (level("200", (ask, 10)),))
    assert h.core.queries.metrics().working_exposure == Decimal("2000")


def test_with_the_kill_switch_on_new_orders_are_refused_but_resting_orders_can_shrink_or_go(h: Harness) -> None:
    # Arrange
    ask, _ = place(h, SELL, 100, "150.00")
    kill_switch(h, True)

    # Act / Assert: a crossing order is rejected, nothing trades
    buyer, committed = place(h, BUY, 100, "150.00", user_id="u-2")
    assert types_of(committed) == REJECT
    assert violation_names(buyer.violations) == ["KILL_SWITCH_ACTIVE"]
    assert book(h) == ((), (level("150", (ask, 100)),))
    # ... growing or repricing a resting order is refused, shrinking it is not
    with pytest.raises(FailedPrecondition, match="kill switch is active"):
        amend(h, ask, quantity=200)
    with pytest.raises(FailedPrecondition, match="kill switch is active"):
        amend(h, ask, price="151.00")
    amend(h, ask, quantity=40)
    assert ask.remaining_quantity == 40
    # ... and cancelling still works
    cancel(h, ask)
    assert book(h) == ((), ())
    assert h.core.queries.metrics().working_exposure == 0


# -- market data hook and recovery ------------------------------------------------------------------


def test_book_changes_are_reported_with_the_sequence_of_the_event_behind_them(h: Harness) -> None:
    calls = record_book_changes(h.core)

    # a resting order: its level at ORDER_ACCEPTED
    ask, c1 = place(h, SELL, 100, "150.00")
    # a match: the level it took from, at the taker's ORDER_ACCEPTED (not at the fills)
    _, c2 = place(h, BUY, 30, "150.00", user_id="u-2")
    # a rejection and a killed FOK: no change, no call
    place(h, BUY, 100_000, "150.00", user_id="u-2")
    place(h, BUY, 500, "150.00", user_id="u-2", time_in_force=TimeInForce.FOK)
    # a user cancel: at ORDER_CANCELLED
    _, c3 = cancel(h, ask)

    assert calls == [
        (sequence_of(c1, "ORDER_ACCEPTED"), "AAPL", [LevelChange("SELL", Decimal("150"), 100)]),
        (sequence_of(c2, "ORDER_ACCEPTED"), "AAPL", [LevelChange("SELL", Decimal("150"), 70)]),
        (sequence_of(c3, "ORDER_CANCELLED"), "AAPL", [LevelChange("SELL", Decimal("150"), 0)]),
    ]


def test_the_hook_hears_the_same_changes_when_the_log_is_replayed(h: Harness) -> None:
    live = record_book_changes(h.core)
    place(h, SELL, 100, "150.00", time_in_force=TimeInForce.DAY)
    place(h, SELL, 100, "151.00", user_id="u-2")
    b, _ = place(h, BUY, 150, "150.50", user_id="u-3")
    amend(h, b, price="151.00", actor_id="u-3")
    h.advance(DAY)
    h.core.orders.roll_day(h.now_us)

    fresh = h.fresh_core()
    replayed = record_book_changes(fresh)
    for event in h.events():
        fresh.apply(event)

    assert replayed == live
    assert len(live) == 4
    assert fresh.matching.books["AAPL"].snapshot() == h.core.matching.books["AAPL"].snapshot()
    assert fresh.state.orders == h.core.state.orders
    assert fresh.queries.metrics() == h.core.queries.metrics()


def test_accept_takes_an_order_approved_on_the_simulated_venue_into_the_book() -> None:
    # Arrange: approved while the server ran the simulated venue; restarted on the internal one
    sim = open_harness("simulated")
    order, _ = sim.submit(side=SELL, quantity=100, price="150.00")
    sim.venue = "internal"
    core = sim.replayed()
    assert core.execution.recovery_plan("simulated") == ([order.order_id], [])

    # Act
    accepted = core.orders.accept(order.order_id, sim.now_us)

    # Assert
    assert types_of(accepted) == ["ORDER_ACCEPTED"]
    assert accepted.events[0].causation_id == order.order_id
    recovered = core.state.orders[order.order_id]
    assert recovered.status is OrderStatus.WORKING
    assert core.matching.books["AAPL"].snapshot() == ((), ((Decimal("150"), ((order.order_id, 100),)),))
    assert_reservations_follow_the_book(core)
    with pytest.raises(FailedPrecondition, match="only an approved order can enter the book"):
        core.orders.accept(order.order_id, sim.now_us)


def test_a_replayed_core_rebuilds_the_books_orders_positions_and_reservations(h: Harness) -> None:
    # Arrange: a bit of everything
    a, _ = place(h, SELL, 100, "150.00")
    place(h, SELL, 100, "150.05", user_id="u-2", time_in_force=TimeInForce.DAY)
    place(h, BUY, 120, "150.10", user_id="u-3")
    place(h, BUY, 50, "149.00", user_id="u-1", stp=SelfTradePrevention.CANCEL_BOTH)
    c, _ = place(h, SELL, 70, "149.00", user_id="u-1")
    place(h, BUY, 30, "", user_id="u-2", order_type=OrderType.MARKET)
    assert (c.status, c.remaining_quantity) == (OrderStatus.PARTIALLY_FILLED, 40)
    amend(h, c, quantity=90, price="149.50", actor_id="u-1")

    # Act
    fresh = h.replayed()

    # Assert
    assert fresh.matching.books.keys() == h.core.matching.books.keys()
    for symbol, live_book in h.core.matching.books.items():
        assert fresh.matching.books[symbol].snapshot() == live_book.snapshot()
    assert fresh.state.order_list == h.core.state.order_list
    assert fresh.queries.metrics() == h.core.queries.metrics()
    assert fresh.state.risk.positions == h.core.state.risk.positions
    assert fresh.queries.realized_pnl == h.core.queries.realized_pnl
    assert_reservations_follow_the_book(fresh)
    assert a.status is OrderStatus.EXECUTED
