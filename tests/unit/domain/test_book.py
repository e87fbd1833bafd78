"""Reference scenarios for the order book, each with its exact expected fills.

Prices are written as strings and parsed here so the expected values read like a ticket; the
book's default tick is 0.0001, so "100.00" comes back as Decimal("100.0000") (equal, same value).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from itirp.domain.book import (
    CANCEL_BOTH,
    CANCEL_INCOMING,
    CANCEL_RESTING,
    CANCELLED,
    DEFAULT_STP,
    FILLED,
    KILLED,
    RESTING,
    AmendResult,
    CancelResult,
    Fill,
    InvalidOrder,
    LevelChange,
    OrderBook,
    OrderView,
    SelfTradeCancel,
    SubmitResult,
    UnknownOrder,
    price_to_ticks,
    ticks_to_price,
)

D = Decimal


def txt(price: Decimal) -> str:
    """A price as plain text without trailing zeros: Decimal("100.0000") -> "100"."""
    return format(price.normalize(), "f")


def fills(result: SubmitResult) -> list[tuple[str, str, str, int]]:
    """(taker, maker, price, quantity) per fill, price as plain text: the shape the tests expect."""
    return [(f.taker_order_id, f.maker_order_id, txt(f.price), f.quantity) for f in result.fills]


def changes(result: SubmitResult) -> list[tuple[str, str, int]]:
    return [(c.side, txt(c.price), c.quantity) for c in result.level_changes]


def queue(book: OrderBook, side: str) -> list[tuple[str, list[tuple[str, int]]]]:
    """One side of the snapshot as (price text, [(order id, remaining), ...]), best first."""
    bids, asks = book.snapshot()
    levels = bids if side == "BUY" else asks
    return [(txt(price), list(orders)) for price, orders in levels]


@pytest.fixture
def book() -> OrderBook:
    return OrderBook("AAPL")


# --- crossing and resting ---


def test_a_resting_order_is_reported_with_its_level(book: OrderBook) -> None:
    result = book.submit("s1", "alice", "SELL", 10, D("100.00"))

    assert result.status == RESTING
    assert result.rests
    assert (result.filled_quantity, result.resting_quantity, result.cancelled_quantity) == (0, 10, 0)
    assert result.fills == []
    assert result.self_trade_cancels == []
    assert changes(result) == [("SELL", "100", 10)]
    assert book.best_ask() == D("100.00")
    assert book.best_bid() is None
    assert len(book) == 1
    assert "s1" in book
    assert book.order("s1") == OrderView("s1", "alice", "SELL", D("100.0000"), 10, "GTC", DEFAULT_STP, 0)


def test_simple_cross_fills_both_at_the_resting_price(book: OrderBook) -> None:
    book.submit("s1", "alice", "SELL", 10, D("100.00"))

    result = book.submit("b1", "bob", "BUY", 10, D("100.50"))  # willing to pay more: trades at 100

    assert result.status == FILLED
    assert result.fills == [Fill("b1", "s1", D("100.0000"), 10, "bob", "alice")]
    assert changes(result) == [("SELL", "100", 0)]
    assert len(book) == 0
    assert book.best_ask() is None
    assert book.best_bid() is None
    assert book.snapshot() == ((), ())


def test_partial_fill_rests_the_remainder_at_its_own_price(book: OrderBook) -> None:
    book.submit("s1", "alice", "SELL", 5, D("100.00"))

    result = book.submit("b1", "bob", "BUY", 8, D("100.01"))

    assert result.status == RESTING
    assert (result.filled_quantity, result.resting_quantity) == (5, 3)
    assert fills(result) == [("b1", "s1", "100", 5)]
    assert changes(result) == [("SELL", "100", 0), ("BUY", "100.01", 3)]
    assert queue(book, "BUY") == [("100.01", [("b1", 3)])]
    assert book.best_bid() == D("100.01")
    assert book.best_ask() is None


def test_a_partly_filled_maker_keeps_its_place(book: OrderBook) -> None:
    book.submit("s1", "alice", "SELL", 10, D("100.00"))
    book.submit("s2", "carol", "SELL", 5, D("100.00"))

    first = book.submit("b1", "bob", "BUY", 4, D("100.00"))
    second = book.submit("b2", "bob", "BUY", 7, D("100.00"))

    assert fills(first) == [("b1", "s1", "100", 4)]
    assert fills(second) == [("b2", "s1", "100", 6), ("b2", "s2", "100", 1)]
    assert queue(book, "SELL") == [("100", [("s2", 4)])]


def test_priority_is_price_then_time(book: OrderBook) -> None:
    book.submit("s1", "u1", "SELL", 1, D("100.02"))
    book.submit("s2", "u2", "SELL", 1, D("100.01"))
    book.submit("s3", "u3", "SELL", 1, D("100.01"))
    book.submit("s4", "u4", "SELL", 1, D("100.00"))

    result = book.submit("b1", "bob", "BUY", 4, D("100.02"))

    assert [(maker, price) for _, maker, price, _ in fills(result)] == [
        ("s4", "100"),
        ("s2", "100.01"),
        ("s3", "100.01"),
        ("s1", "100.02"),
    ]
    assert changes(result) == [("SELL", "100", 0), ("SELL", "100.01", 0), ("SELL", "100.02", 0)]


def test_bids_are_matched_best_first_too(book: OrderBook) -> None:
    book.submit("b1", "u1", "BUY", 2, D("99.98"))
    book.submit("b2", "u2", "BUY", 2, D("99.99"))
    book.submit("b3", "u3", "BUY", 2, D("99.99"))

    result = book.submit("s1", "alice", "SELL", 5, D("99.98"))

    assert fills(result) == [("s1", "b2", "99.99", 2), ("s1", "b3", "99.99", 2), ("s1", "b1", "99.98", 1)]
    assert queue(book, "BUY") == [("99.98", [("b1", 1)])]


def test_a_level_is_fifo_and_a_cancel_in_the_middle_keeps_the_order(book: OrderBook) -> None:
    for n in range(1, 5):
        book.submit(f"s{n}", f"u{n}", "SELL", 10, D("100.00"))
    book.cancel("s2")

    result = book.submit("b1", "bob", "BUY", 25, D("100.00"))

    assert [maker for _, maker, _, _ in fills(result)] == ["s1", "s3", "s4"]
    assert [qty for *_, qty in fills(result)] == [10, 10, 5]
    assert queue(book, "SELL") == [("100", [("s4", 5)])]


def test_a_limit_that_does_not_cross_rests_without_trading(book: OrderBook) -> None:
    book.submit("s1", "alice", "SELL", 10, D("100.01"))

    result = book.submit("b1", "bob", "BUY", 10, D("100.00"))

    assert result.status == RESTING
    assert result.fills == []
    assert book.depth() == ([(D("100.00"), 10)], [(D("100.01"), 10)])


# --- MARKET, IOC, FOK ---


def test_market_order_sweeps_levels_and_never_rests(book: OrderBook) -> None:
    book.submit("s1", "u1", "SELL", 3, D("100.00"))
    book.submit("s2", "u2", "SELL", 3, D("100.05"))
    book.submit("s3", "u3", "SELL", 3, D("101.00"))

    result = book.submit("m1", "bob", "BUY", 10, order_type="MARKET")

    assert fills(result) == [("m1", "s1", "100", 3), ("m1", "s2", "100.05", 3), ("m1", "s3", "101", 3)]
    assert result.status == CANCELLED
    assert result.reason == "MARKET"
    assert (result.filled_quantity, result.resting_quantity, result.cancelled_quantity) == (9, 0, 1)
    assert len(book) == 0
    assert book.best_bid() is None


def test_market_order_filled_completely(book: OrderBook) -> None:
    book.submit("b1", "u1", "BUY", 10, D("99.00"))

    result = book.submit("m1", "alice", "SELL", 4, order_type="MARKET")

    assert result.status == FILLED
    assert fills(result) == [("m1", "b1", "99", 4)]
    assert queue(book, "BUY") == [("99", [("b1", 6)])]


def test_market_order_on_an_empty_side_is_cancelled_whole(book: OrderBook) -> None:
    book.submit("b1", "u1", "BUY", 10, D("99.00"))  # the same side: no liquidity for a buy

    result = book.submit("m1", "bob", "BUY", 5, order_type="MARKET", time_in_force="DAY")

    assert (result.status, result.reason, result.cancelled_quantity) == (CANCELLED, "MARKET", 5)
    assert result.level_changes == []
    assert len(book) == 1


def test_ioc_fills_what_it_can_and_cancels_the_rest(book: OrderBook) -> None:
    book.submit("s1", "u1", "SELL", 4, D("100.00"))
    book.submit("s2", "u2", "SELL", 4, D("100.02"))  # beyond the IOC's limit

    result = book.submit("i1", "bob", "BUY", 10, D("100.01"), time_in_force="IOC")

    assert fills(result) == [("i1", "s1", "100", 4)]
    assert (result.status, result.reason) == (CANCELLED, "IOC")
    assert (result.filled_quantity, result.resting_quantity, result.cancelled_quantity) == (4, 0, 6)
    assert "i1" not in book
    assert book.best_bid() is None
    assert queue(book, "SELL") == [("100.02", [("s2", 4)])]


def test_ioc_that_does_not_cross_is_cancelled_without_trace(book: OrderBook) -> None:
    book.submit("s1", "u1", "SELL", 4, D("100.00"))

    result = book.submit("i1", "bob", "BUY", 10, D("99.00"), time_in_force="IOC")

    assert (result.status, result.reason, result.cancelled_quantity) == (CANCELLED, "IOC", 10)
    assert result.fills == []
    assert result.level_changes == []
    assert len(book) == 1


def test_ioc_filled_completely(book: OrderBook) -> None:
    book.submit("s1", "u1", "SELL", 4, D("100.00"))

    result = book.submit("i1", "bob", "BUY", 3, D("100.00"), time_in_force="IOC")

    assert result.status == FILLED
    assert result.reason == ""


def test_fok_fills_completely_across_levels(book: OrderBook) -> None:
    book.submit("s1", "u1", "SELL", 4, D("100.00"))
    book.submit("s2", "u2", "SELL", 4, D("100.01"))

    result = book.submit("f1", "bob", "BUY", 6, D("100.01"), time_in_force="FOK")

    assert result.status == FILLED
    assert fills(result) == [("f1", "s1", "100", 4), ("f1", "s2", "100.01", 2)]
    assert queue(book, "SELL") == [("100.01", [("s2", 2)])]


def test_fok_that_cannot_fill_completely_does_nothing_at_all(book: OrderBook) -> None:
    book.submit("s1", "u1", "SELL", 4, D("100.00"))
    book.submit("s2", "u2", "SELL", 4, D("100.01"))
    book.submit("s3", "u3", "SELL", 50, D("100.02"))  # enough, but beyond the limit
    before = book.snapshot()

    result = book.submit("f1", "bob", "BUY", 9, D("100.01"), time_in_force="FOK")

    assert (result.status, result.reason) == (KILLED, "FOK")
    assert (result.filled_quantity, result.resting_quantity, result.cancelled_quantity) == (0, 0, 9)
    assert result.fills == []
    assert result.level_changes == []
    assert result.self_trade_cancels == []
    assert book.snapshot() == before


def test_market_fok(book: OrderBook) -> None:
    book.submit("s1", "u1", "SELL", 4, D("100.00"))

    killed = book.submit("f1", "bob", "BUY", 5, order_type="MARKET", time_in_force="FOK")
    filled = book.submit("f2", "bob", "BUY", 4, order_type="MARKET", time_in_force="FOK")

    assert killed.status == KILLED
    assert filled.status == FILLED
    assert len(book) == 0


# --- DAY expiry ---


def test_expire_day_cancels_day_orders_and_keeps_gtc(book: OrderBook) -> None:
    book.submit("d1", "u1", "BUY", 5, D("99.00"), time_in_force="DAY")
    book.submit("g1", "u2", "BUY", 5, D("99.00"))
    book.submit("d2", "u3", "SELL", 5, D("101.00"), time_in_force="DAY")
    book.submit("d3", "u4", "SELL", 5, D("101.00"), time_in_force="DAY")
    book.submit("x1", "u5", "BUY", 7, D("101.00"))  # fills d2 (gone) and 2 of d3 (3 left)

    expired = book.expire_day()

    assert expired == ["d1", "d3"]
    assert queue(book, "BUY") == [("99", [("g1", 5)])]
    assert queue(book, "SELL") == []
    assert book.expire_day() == []


def test_a_cancelled_or_repriced_day_order_expires_once(book: OrderBook) -> None:
    book.submit("d1", "u1", "BUY", 5, D("99.00"), time_in_force="DAY")
    book.submit("d2", "u2", "BUY", 5, D("99.00"), time_in_force="DAY")
    book.cancel("d1")
    book.amend("d2", price=D("98.00"))

    assert book.expire_day() == ["d2"]
    assert len(book) == 0


# --- amend ---


def test_amend_quantity_down_keeps_priority(book: OrderBook) -> None:
    book.submit("s1", "u1", "SELL", 10, D("100.00"))
    book.submit("s2", "u2", "SELL", 10, D("100.00"))

    result = book.amend("s1", quantity=4)

    assert isinstance(result, AmendResult)
    assert result.priority_kept
    assert (result.status, result.resting_quantity) == (RESTING, 4)
    assert changes(result) == [("SELL", "100", 14)]
    assert queue(book, "SELL") == [("100", [("s1", 4), ("s2", 10)])]
    taken = book.submit("b1", "bob", "BUY", 5, D("100.00"))
    assert fills(taken) == [("b1", "s1", "100", 4), ("b1", "s2", "100", 1)]


def test_amend_quantity_up_loses_priority(book: OrderBook) -> None:
    book.submit("s1", "u1", "SELL", 10, D("100.00"))
    book.submit("s2", "u2", "SELL", 10, D("100.00"))

    result = book.amend("s1", quantity=12)

    assert not result.priority_kept
    assert changes(result) == [("SELL", "100", 22)]
    assert queue(book, "SELL") == [("100", [("s2", 10), ("s1", 12)])]


def test_amend_to_a_new_price_goes_to_the_back_of_that_level(book: OrderBook) -> None:
    book.submit("s1", "u1", "SELL", 10, D("100.01"))
    book.submit("s2", "u2", "SELL", 10, D("100.00"))

    result = book.amend("s2", price=D("100.01"))

    assert not result.priority_kept
    assert result.status == RESTING
    assert changes(result) == [("SELL", "100", 0), ("SELL", "100.01", 20)]
    assert queue(book, "SELL") == [("100.01", [("s1", 10), ("s2", 10)])]
    assert book.order("s2").price == D("100.01")


def test_amend_to_the_same_values_changes_nothing(book: OrderBook) -> None:
    book.submit("s1", "u1", "SELL", 10, D("100.00"))
    book.submit("s2", "u2", "SELL", 10, D("100.00"))

    result = book.amend("s1", quantity=10, price=D("100.0000"))

    assert result.priority_kept
    assert result.level_changes == []
    assert queue(book, "SELL") == [("100", [("s1", 10), ("s2", 10)])]


def test_amend_to_a_crossing_price_matches_like_a_new_order(book: OrderBook) -> None:
    book.submit("s1", "alice", "SELL", 4, D("100.00"))
    book.submit("b1", "bob", "BUY", 10, D("99.00"), time_in_force="DAY")

    result = book.amend("b1", price=D("100.00"))

    assert fills(result) == [("b1", "s1", "100", 4)]
    assert (result.status, result.filled_quantity, result.resting_quantity) == (RESTING, 4, 6)
    assert changes(result) == [("BUY", "99", 0), ("SELL", "100", 0), ("BUY", "100", 6)]
    assert book.order("b1") == OrderView("b1", "bob", "BUY", D("100.0000"), 6, "DAY", DEFAULT_STP, 0)
    assert book.expire_day() == ["b1"]  # still a DAY order


def test_amend_price_and_quantity_together(book: OrderBook) -> None:
    book.submit("s1", "alice", "SELL", 4, D("100.00"))
    book.submit("b1", "bob", "BUY", 10, D("99.00"))

    result = book.amend("b1", quantity=3, price=D("100.00"))

    assert result.status == FILLED
    assert fills(result) == [("b1", "s1", "100", 3)]
    assert "b1" not in book
    assert queue(book, "SELL") == [("100", [("s1", 1)])]


# --- cancel ---


def test_cancel_returns_what_was_left_and_the_level(book: OrderBook) -> None:
    book.submit("s1", "u1", "SELL", 10, D("100.00"))
    book.submit("s2", "u2", "SELL", 5, D("100.00"))
    book.submit("b1", "bob", "BUY", 3, D("100.00"))

    result = book.cancel("s1")

    assert isinstance(result, CancelResult)
    assert (result.order_id, result.user_id, result.side, result.price, result.quantity) == (
        "s1",
        "u1",
        "SELL",
        D("100.00"),
        7,
    )
    assert result.level_change == LevelChange("SELL", D("100.0000"), 5)
    assert book.cancel("s1") is None
    assert book.cancel("nope") is None
    assert book.order("s1") is None
    assert len(book) == 1


def test_cancelling_the_best_level_moves_the_best_price(book: OrderBook) -> None:
    book.submit("b1", "u1", "BUY", 1, D("99.00"))
    book.submit("b2", "u2", "BUY", 1, D("99.50"))
    book.submit("b3", "u3", "BUY", 1, D("90.00"))  # far away: found through the sorted keys

    book.cancel("b2")
    assert book.best_bid() == D("99.00")
    book.cancel("b1")
    assert book.best_bid() == D("90.00")
    assert book.cancel("b3").level_change.quantity == 0
    assert book.best_bid() is None
    assert book.depth() == ([], [])


def test_a_filled_order_cannot_be_cancelled(book: OrderBook) -> None:
    book.submit("s1", "u1", "SELL", 10, D("100.00"))
    book.submit("b1", "bob", "BUY", 10, D("100.00"))

    assert book.cancel("s1") is None
    assert book.cancel("b1") is None


# --- self-trade prevention ---
#
# alice rests a sell ahead of carol's at the same price; then alice buys across it.


def stp_book() -> OrderBook:
    book = OrderBook("AAPL")
    book.submit("a1", "alice", "SELL", 5, D("100.00"))
    book.submit("c1", "carol", "SELL", 5, D("100.00"))
    book.submit("c2", "carol", "SELL", 5, D("100.01"))
    return book


def test_stp_default_is_cancel_resting() -> None:
    assert DEFAULT_STP == CANCEL_RESTING


def test_stp_cancel_resting_cancels_own_order_and_trades_on() -> None:
    book = stp_book()

    result = book.submit("a2", "alice", "BUY", 8, D("100.00"), stp=CANCEL_RESTING)

    assert result.self_trade_cancels == [
        SelfTradeCancel("a1", "alice", "SELL", D("100.0000"), 5, CANCEL_RESTING, "a2")
    ]
    assert fills(result) == [("a2", "c1", "100", 5)]
    assert (result.status, result.filled_quantity, result.resting_quantity) == (RESTING, 5, 3)
    assert changes(result) == [("SELL", "100", 0), ("BUY", "100", 3)]
    assert queue(book, "SELL") == [("100.01", [("c2", 5)])]  # carol's other order untouched
    assert "a1" not in book
    assert book.cancel("a1") is None


def test_stp_cancel_incoming_leaves_the_book_alone() -> None:
    book = stp_book()
    before = book.snapshot()

    result = book.submit("a2", "alice", "BUY", 8, D("100.00"), stp=CANCEL_INCOMING)

    assert (result.status, result.reason, result.cancelled_quantity) == (CANCELLED, "SELF_TRADE", 8)
    assert result.fills == []
    assert result.self_trade_cancels == []
    assert result.level_changes == []
    assert book.snapshot() == before
    # carol can still trade with alice's resting order
    assert fills(book.submit("c3", "carol", "BUY", 5, D("100.00"))) == [("c3", "a1", "100", 5)]


def test_stp_cancel_both() -> None:
    book = stp_book()

    result = book.submit("a2", "alice", "BUY", 8, D("100.00"), stp=CANCEL_BOTH)

    assert [c.order_id for c in result.self_trade_cancels] == ["a1"]
    assert result.self_trade_cancels[0].reason == CANCEL_BOTH
    assert (result.status, result.reason, result.cancelled_quantity) == (CANCELLED, "SELF_TRADE", 8)
    assert result.fills == []
    assert changes(result) == [("SELL", "100", 5)]
    assert queue(book, "SELL") == [("100", [("c1", 5)]), ("100.01", [("c2", 5)])]


def test_stp_only_stops_where_the_own_order_is_reached() -> None:
    book = OrderBook("AAPL")
    book.submit("c1", "carol", "SELL", 5, D("100.00"))
    book.submit("a1", "alice", "SELL", 5, D("100.00"))
    book.submit("c2", "carol", "SELL", 5, D("100.00"))

    result = book.submit("a2", "alice", "BUY", 12, D("100.00"), stp=CANCEL_INCOMING)

    assert fills(result) == [("a2", "c1", "100", 5)]  # carol's first order trades
    assert (result.status, result.filled_quantity, result.cancelled_quantity) == (CANCELLED, 5, 7)
    assert queue(book, "SELL") == [("100", [("a1", 5), ("c2", 5)])]


def test_stp_between_different_users_does_nothing() -> None:
    book = stp_book()

    result = book.submit("b1", "bob", "BUY", 10, D("100.00"), stp=CANCEL_BOTH)

    assert fills(result) == [("b1", "a1", "100", 5), ("b1", "c1", "100", 5)]
    assert result.self_trade_cancels == []


def test_stp_with_a_market_order() -> None:
    book = stp_book()

    result = book.submit("a2", "alice", "BUY", 20, order_type="MARKET")  # default: cancel resting

    assert [c.order_id for c in result.self_trade_cancels] == ["a1"]
    assert fills(result) == [("a2", "c1", "100", 5), ("a2", "c2", "100.01", 5)]
    assert (result.status, result.reason, result.cancelled_quantity) == (CANCELLED, "MARKET", 10)


def test_fok_counts_own_orders_as_cancel_resting_would() -> None:
    book = stp_book()  # a1 (alice) 5, c1 5 at 100.00; c2 5 at 100.01

    killed = book.submit("a2", "alice", "BUY", 6, D("100.00"), time_in_force="FOK")  # only c1's 5 count
    assert killed.status == KILLED
    assert "a1" in book  # nothing happened, not even the STP cancel

    filled = book.submit("a3", "alice", "BUY", 5, D("100.00"), time_in_force="FOK")
    assert filled.status == FILLED
    assert [c.order_id for c in filled.self_trade_cancels] == ["a1"]
    assert fills(filled) == [("a3", "c1", "100", 5)]


def test_fok_with_cancel_incoming_counts_only_what_precedes_the_own_order() -> None:
    book = OrderBook("AAPL")
    book.submit("c1", "carol", "SELL", 5, D("100.00"))
    book.submit("a1", "alice", "SELL", 5, D("100.00"))
    book.submit("c2", "carol", "SELL", 5, D("100.00"))

    for stp in (CANCEL_INCOMING, CANCEL_BOTH):
        assert book.submit("x", "alice", "BUY", 6, D("100.00"), time_in_force="FOK", stp=stp).status == KILLED
    assert book.submit("y", "alice", "BUY", 5, D("100.00"), time_in_force="FOK", stp=CANCEL_INCOMING).status == FILLED
    assert queue(book, "SELL") == [("100", [("a1", 5), ("c2", 5)])]


def test_stp_applies_to_an_amend_that_crosses() -> None:
    book = stp_book()
    book.submit("a2", "alice", "BUY", 3, D("99.00"), stp=CANCEL_INCOMING)

    result = book.amend("a2", price=D("100.00"))

    assert (result.status, result.reason) == (CANCELLED, "SELF_TRADE")
    assert "a2" not in book
    assert "a1" in book
    assert changes(result) == [("BUY", "99", 0)]


# --- reading ---


def test_depth_aggregates_levels_best_first(book: OrderBook) -> None:
    orders = [
        ("BUY", "99.00", 1),
        ("BUY", "99.50", 2),
        ("BUY", "99.50", 3),
        ("BUY", "98.00", 4),
        ("SELL", "101", 5),
        ("SELL", "100.5", 6),
    ]
    for n, (side, price, qty) in enumerate(orders):
        book.submit(f"o{n}", f"u{n}", side, qty, D(price))

    bids, asks = book.depth()
    assert bids == [(D("99.50"), 5), (D("99.00"), 1), (D("98.00"), 4)]
    assert asks == [(D("100.5"), 6), (D("101"), 5)]
    assert book.depth(1) == ([(D("99.50"), 5)], [(D("100.5"), 6)])
    assert book.depth(0) == ([], [])
    with pytest.raises(ValueError, match="levels must be a whole number >= 0"):
        book.depth(-1)


def test_results_compare_equal_when_they_say_the_same_thing() -> None:
    def run() -> list:
        book = OrderBook("AAPL")
        return [
            book.submit("s1", "u1", "SELL", 5, D("100.00")),
            book.submit("b1", "u2", "BUY", 7, D("100.00")),
            book.amend("b1", quantity=1),
            book.cancel("b1"),
        ]

    assert run() == run()


def test_price_conversion_is_exact() -> None:
    tick = D("0.0001")
    assert price_to_ticks(D("100.05"), tick) == 1_000_500
    assert price_to_ticks(D("100.0500"), tick) == 1_000_500
    assert price_to_ticks(D("1E+2"), tick) == 1_000_000
    assert ticks_to_price(1_000_500, tick) == D("100.05")
    assert price_to_ticks(D("0.15"), D("0.05")) == 3
    for bad in (D("100.00005"), D("0.12"), D("0"), D("-1"), D("NaN"), D("Infinity")):
        with pytest.raises(InvalidOrder):
            price_to_ticks(bad, D("0.05") if bad == D("0.12") else tick)


def test_a_coarser_tick_size() -> None:
    book = OrderBook("ES", tick_size=D("0.25"))
    book.submit("s1", "u1", "SELL", 1, D("4500.25"))

    with pytest.raises(InvalidOrder, match=r"not a multiple of the tick size 0\.25"):
        book.submit("s2", "u1", "SELL", 1, D("4500.10"))
    assert book.best_ask() == D("4500.25")


@pytest.mark.parametrize("tick_size", [D("0"), D("-0.01"), D("NaN"), 0.01, "0.01"])
def test_tick_size_must_be_a_positive_decimal(tick_size: object) -> None:
    with pytest.raises(ValueError, match="tick_size must be a positive Decimal"):
        OrderBook("AAPL", tick_size=tick_size)  # type: ignore[arg-type]


# --- invalid input: refused, and nothing changes ---


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -5}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": 5.0}, "quantity"),
        ({"side": "buy"}, "side"),
        ({"price": D("100.00005")}, "price"),  # off the 0.0001 grid
        ({"price": D("0")}, "price"),
        ({"price": D("-100")}, "price"),
        ({"price": D("NaN")}, "price"),
        ({"price": D("sNaN")}, "price"),
        ({"price": D("Infinity")}, "price"),
        ({"price": 100.5}, "price"),  # a float is refused
        ({"price": "100.5"}, "price"),
        ({"price": None}, "price"),  # a LIMIT order needs a price
        ({"price": D("100"), "order_type": "MARKET"}, "price"),  # a MARKET order takes none
        ({"order_type": "STOP"}, "order_type"),
        ({"time_in_force": "GTD"}, "time_in_force"),
        ({"stp": "DECREMENT"}, "stp"),
        ({"order_id": "b1"}, "order_id"),  # already resting
    ],
)
def test_invalid_submit_is_refused_and_changes_nothing(book: OrderBook, kwargs: dict, field: str) -> None:
    book.submit("s1", "alice", "SELL", 5, D("100.00"))
    book.submit("b1", "bob", "BUY", 5, D("99.00"))
    before = book.snapshot()
    args = {"order_id": "x1", "user_id": "bob", "side": "BUY", "quantity": 10, "price": D("100.00")} | kwargs

    with pytest.raises(InvalidOrder) as refused:
        book.submit(**args)

    assert refused.value.field == field
    assert book.snapshot() == before
    assert len(book) == 2


def test_a_duplicate_id_is_refused_even_when_it_would_cross(book: OrderBook) -> None:
    book.submit("s1", "alice", "SELL", 5, D("100.00"))
    with pytest.raises(InvalidOrder, match="already resting"):
        book.submit("s1", "bob", "BUY", 5, D("100.00"))
    assert queue(book, "SELL") == [("100", [("s1", 5)])]


def test_an_id_can_be_reused_once_the_order_has_left_the_book(book: OrderBook) -> None:
    book.submit("o1", "alice", "SELL", 5, D("100.00"))
    book.cancel("o1")
    assert book.submit("o1", "alice", "SELL", 5, D("100.00")).status == RESTING


def test_amend_refusals(book: OrderBook) -> None:
    book.submit("s1", "alice", "SELL", 5, D("100.00"))
    before = book.snapshot()

    with pytest.raises(UnknownOrder):
        book.amend("nope", quantity=1)
    with pytest.raises(InvalidOrder):
        book.amend("s1")
    for quantity in (0, -1, True, 1.5):
        with pytest.raises(InvalidOrder):
            book.amend("s1", quantity=quantity)  # type: ignore[arg-type]
    with pytest.raises(InvalidOrder):
        book.amend("s1", price=D("100.00001"))
    assert book.snapshot() == before


def test_amend_of_a_filled_order_is_unknown(book: OrderBook) -> None:
    book.submit("s1", "alice", "SELL", 5, D("100.00"))
    book.submit("b1", "bob", "BUY", 5, D("100.00"))
    with pytest.raises(UnknownOrder):
        book.amend("s1", quantity=1)


def test_results_read_well() -> None:
    book = OrderBook("AAPL")
    book.submit("s1", "alice", "SELL", 5, D("100.00"))
    result = book.submit("b1", "bob", "BUY", 7, D("100.00"))

    text = repr(result)
    assert "status=RESTING" in text
    assert "maker_order_id='s1'" in text
    assert "priority_kept=True" in repr(book.amend("b1", quantity=1))
    assert "CancelResult(order_id='b1'" in repr(book.cancel("b1"))
    assert repr(book) == "OrderBook('AAPL', tick_size=0.0001, orders=0, bid=None, ask=None)"


# --- housekeeping that must not show: compaction of cancelled entries, sweeping of empty levels ---


def test_many_cancels_behind_the_front_keep_the_fifo(book: OrderBook) -> None:
    for n in range(200):
        book.submit(f"s{n}", f"u{n}", "SELL", 1, D("100.00"))
    kept = [n for n in range(200) if n == 0 or n % 7 == 3]
    left = list(range(200))
    for n in range(200):
        if n not in kept:
            book.cancel(f"s{n}")  # all behind s0, which stays at the front
            left.remove(n)
            assert queue(book, "SELL") == [("100", [(f"s{k}", 1) for k in left])]

    assert left == kept
    result = book.submit("b1", "bob", "BUY", len(kept), D("100.00"))
    assert [maker for _, maker, _, _ in fills(result)] == [f"s{n}" for n in kept]
    assert len(book) == 0


def test_many_levels_coming_and_going(book: OrderBook) -> None:
    for round_ in range(3):
        for n in range(150):
            book.submit(f"b{round_}-{n}", "u", "BUY", n + 1, D(1000 - n) / 10)
        assert book.depth(1_000)[0] == [(D(1000 - n) / 10, n + 1) for n in range(150)]
        for n in range(1, 150, 2):
            book.cancel(f"b{round_}-{n}")
        assert book.best_bid() == D("100")
        assert book.depth(1_000)[0] == [(D(1000 - n) / 10, n + 1) for n in range(0, 150, 2)]
        for n in range(0, 150, 2):
            book.cancel(f"b{round_}-{n}")
            assert book.best_bid() == (D(1000 - n - 2) / 10 if n < 148 else None)
        assert book.best_bid() is None
        assert book.snapshot() == ((), ())
    book.submit("last", "u", "BUY", 1, D("5"))
    assert book.depth() == ([(D("5"), 1)], [])


def test_prices_written_differently_are_the_same_level(book: OrderBook) -> None:
    book.submit("b1", "u1", "BUY", 1, D("99.5"))
    book.submit("b2", "u2", "BUY", 2, D("99.5000"))
    book.submit("b3", "u3", "BUY", 3, D("9.95E+1"))

    class Price(Decimal):
        """A Decimal subclass: converted the slow way, never cached, same result."""

    book.submit("b4", "u4", "BUY", 4, Price("99.50"))
    assert book.depth() == ([(D("99.5"), 10)], [])


def test_many_distinct_prices_outgrow_the_conversion_cache(book: OrderBook) -> None:
    for n in range(5_000):
        book.submit(f"b{n}", "u", "BUY", 1, D(n + 1) / 100)
    book.submit("again", "u", "BUY", 1, D("0.01"))

    bids, _ = book.depth(10_000)
    assert len(bids) == 5_000
    assert bids[-1] == (D("0.01"), 2)


# ---------------------------------------------------------------------------------------------
# sweep_price: what pre-trade risk prices a MARKET order at
# ---------------------------------------------------------------------------------------------


def _sweep_book() -> OrderBook:
    book = OrderBook("X")
    book.submit("mine", "u1", "SELL", 10, D("100"))
    book.submit("a", "u2", "SELL", 10, D("100"))
    book.submit("b", "u2", "SELL", 10, D("101"))
    book.submit("c", "u3", "SELL", 10, D("102"))
    return book


@pytest.mark.parametrize(
    ("user", "stp", "quantity", "price"),
    [
        (None, DEFAULT_STP, 15, "100"),  # no user: every order counts
        ("u9", DEFAULT_STP, 25, "101"),
        ("u9", DEFAULT_STP, 99, "102"),  # more than there is: the last level
        ("u1", CANCEL_RESTING, 15, "101"),  # its own 10 at 100 would be cancelled, not traded
        ("u1", CANCEL_INCOMING, 15, None),  # matching stops at its own order, first in the queue
        ("u2", CANCEL_BOTH, 15, "100"),  # trades "mine", then stops at its own "a"
    ],
)
def test_sweep_price_walks_the_opposite_side_as_matching_would(user, stp, quantity, price) -> None:  # type: ignore[no-untyped-def]
    book = _sweep_book()

    reached = book.sweep_price("BUY", quantity, user, stp)

    assert (txt(reached) if reached is not None else None) == price
    if price is not None:  # and matching never goes beyond it
        result = book.submit("t", user or "u9", "BUY", quantity, order_type="MARKET", stp=stp)
        assert all(f.price <= reached for f in result.fills)


def test_sweep_price_of_an_empty_side_is_none() -> None:
    assert OrderBook("X").sweep_price("SELL", 1) is None
