"""Pre-trade risk: what an order would do to the book, counting everything already working."""

from __future__ import annotations

from decimal import Decimal

import pytest

from itirp.domain.risk import RiskEngine, RiskLimits, RiskMetrics, Violation, ViolationDetail, price_band_violation

D = Decimal
UNMARKED = " (no mark yet: the highest price known for it)"


def kinds(violations: list[ViolationDetail]) -> list[Violation]:
    return [v.violation for v in violations]


def equal_limits(amount: str) -> RiskLimits:
    value = D(amount)
    return RiskLimits(value, value, value, value)


def test_the_rest_design_case_a_huge_tsla_buy_breaches_all_four_limits_at_once() -> None:
    # Arrange
    engine = RiskEngine()

    # Act
    violations = engine.check(symbol="TSLA", side="BUY", quantity=100_000, price=D("200"))

    # Assert
    assert violations == [
        ViolationDetail(
            Violation.POSITION_LIMIT,
            D("1000000"),
            D("20000000"),
            "projected TSLA position 20,000,000.00 above max_position_size 1,000,000.00,"
            " valued at the reference price 200.00" + UNMARKED,
            D("200"),
            limit_name="max_position_size",
        ),
        ViolationDetail(
            Violation.DAILY_VOLUME_LIMIT,
            D("10000000"),
            D("20000000"),
            "projected daily volume 20,000,000.00 above max_daily_volume 10,000,000.00,"
            " this order valued at the reference price 200.00" + UNMARKED,
            D("200"),
            limit_name="max_daily_volume",
        ),
        ViolationDetail(
            Violation.NET_EXPOSURE_LIMIT,
            D("5000000"),
            D("20000000"),
            "projected net exposure 20,000,000.00 above max_net_exposure 5,000,000.00,"
            " TSLA valued at the reference price 200.00" + UNMARKED,
            D("200"),
            limit_name="max_net_exposure",
        ),
        ViolationDetail(
            Violation.GROSS_EXPOSURE_LIMIT,
            D("15000000"),
            D("20000000"),
            "projected gross exposure 20,000,000.00 above max_gross_exposure 15,000,000.00,"
            " TSLA valued at the reference price 200.00" + UNMARKED,
            D("200"),
            limit_name="max_gross_exposure",
        ),
    ]


def test_the_kill_switch_refuses_even_a_tiny_order_and_reports_nothing_else() -> None:
    # Arrange
    engine = RiskEngine(RiskLimits(kill_switch_enabled=True))

    # Act
    tiny = engine.check(symbol="AAPL", side="BUY", quantity=1, price=D("1"))
    huge = engine.check(symbol="TSLA", side="BUY", quantity=100_000, price=D("200"))

    # Assert
    assert kinds(tiny) == kinds(huge) == [Violation.KILL_SWITCH_ACTIVE]
    assert tiny[0].limit is None
    assert tiny[0].projected is None
    assert tiny[0].reference_price is None
    assert "kill switch" in tiny[0].message
    assert engine.metrics().kill_switch_active is True


def test_every_breached_limit_is_listed_with_its_own_projected_figure() -> None:
    # Arrange: a long AAPL and a short MSFT already on the book
    engine = RiskEngine(RiskLimits(D("1000"), D("5000"), D("500"), D("2500")))
    engine.reserve("a", symbol="AAPL", side="BUY", quantity=10, price=D("80"))
    engine.fill("a", quantity=10, price=D("80"))
    engine.reserve("m", symbol="MSFT", side="SELL", quantity=10, price=D("60"))
    engine.fill("m", quantity=10, price=D("60"))

    # Act: buy 15 more AAPL at a limit of 81 -> no marks: valued at the higher of 80 (last) and 81
    violations = engine.check(symbol="AAPL", side="BUY", quantity=15, price=D("81"))

    # Assert: position 25*81=2025; volume 800+600+1215=2615 (fits); net 2025-600=1425; gross 2625
    assert [(v.violation, v.projected, v.reference_price) for v in violations] == [
        (Violation.POSITION_LIMIT, D("2025"), D("81")),
        (Violation.NET_EXPOSURE_LIMIT, D("1425"), D("81")),
        (Violation.GROSS_EXPOSURE_LIMIT, D("2625"), D("81")),
    ]


def test_a_short_breach_says_short() -> None:
    # Arrange
    engine = RiskEngine(equal_limits("100"))

    # Act
    violations = engine.check(symbol="AAPL", side="SELL", quantity=2, price=D("75.50"))

    # Assert
    assert violations[0].message == (
        "projected AAPL short position 151.00 above max_position_size 100.00,"
        " valued at the reference price 75.50" + UNMARKED
    )
    assert violations[2].message == (
        "projected net short exposure 151.00 above max_net_exposure 100.00,"
        " AAPL valued at the reference price 75.50" + UNMARKED
    )


def test_an_order_exactly_at_every_limit_passes_and_one_share_more_breaches_all() -> None:
    # Arrange
    engine = RiskEngine(equal_limits("1000000"))

    # Act
    at_limit = engine.check(symbol="TSLA", side="BUY", quantity=5_000, price=D("200"))
    over = engine.check(symbol="TSLA", side="BUY", quantity=5_001, price=D("200"))

    # Assert
    assert at_limit == []
    assert kinds(over) == [
        Violation.POSITION_LIMIT,
        Violation.DAILY_VOLUME_LIMIT,
        Violation.NET_EXPOSURE_LIMIT,
        Violation.GROSS_EXPOSURE_LIMIT,
    ]


def test_orders_that_each_fit_alone_pass_only_as_far_as_they_fit_together() -> None:
    # Arrange: five orders of 300,000 each against a 1,000,000 position limit
    engine = RiskEngine()
    outcomes = []

    # Act: the server's accept path - check, and reserve right after a pass
    for n in range(5):
        violations = engine.check(symbol="TSLA", side="BUY", quantity=1_500, price=D("200"))
        if not violations:
            engine.reserve(f"o{n}", symbol="TSLA", side="BUY", quantity=1_500, price=D("200"))
        outcomes.append(kinds(violations))

    # Assert
    assert outcomes == [[], [], [], [Violation.POSITION_LIMIT], [Violation.POSITION_LIMIT]]
    assert engine.metrics().working_exposure == D("900000")


def test_a_released_order_stops_counting_and_a_filled_one_keeps_counting_as_position() -> None:
    # Arrange: 900,000 working in three orders
    engine = RiskEngine()
    for n in range(3):
        engine.reserve(f"o{n}", symbol="TSLA", side="BUY", quantity=1_500, price=D("200"))

    # Act / Assert: a cancel frees room
    engine.release("o0")
    assert engine.check(symbol="TSLA", side="BUY", quantity=1_500, price=D("200")) == []

    # Act / Assert: a fill does not (the exposure moved from working to the position)
    engine.reserve("o3", symbol="TSLA", side="BUY", quantity=1_500, price=D("200"))
    engine.fill("o1", quantity=1_500, price=D("200"))
    assert engine.check(symbol="TSLA", side="BUY", quantity=500, price=D("200")) == []
    assert kinds(engine.check(symbol="TSLA", side="BUY", quantity=501, price=D("200"))) == [Violation.POSITION_LIMIT]


def test_check_and_reserve_reserves_only_what_passes() -> None:
    # Arrange
    engine = RiskEngine()

    # Act
    results = [
        engine.check_and_reserve(f"o{n}", symbol="TSLA", side="BUY", quantity=2_000, price=D("200")) for n in range(3)
    ]

    # Assert
    assert [kinds(r) for r in results] == [[], [], [Violation.POSITION_LIMIT]]
    assert engine.metrics().working_exposure == D("800000")
    engine.fill("o1", quantity=2_000, price=D("200"))
    with pytest.raises(KeyError):
        engine.fill("o2", quantity=2_000, price=D("200"))
    with pytest.raises(ValueError, match="already reserved"):
        engine.check_and_reserve("o0", symbol="TSLA", side="BUY", quantity=1, price=D("200"))


def test_a_sell_reduces_a_long_projected_exposure() -> None:
    # Arrange: long 4,000 TSLA at 200 = 800,000
    engine = RiskEngine()
    engine.reserve("b", symbol="TSLA", side="BUY", quantity=4_000, price=D("200"))
    engine.fill("b", quantity=4_000, price=D("200"))

    # Act
    buy_more = engine.check(symbol="TSLA", side="BUY", quantity=2_000, price=D("200"))
    sell_some = engine.check(symbol="TSLA", side="SELL", quantity=2_000, price=D("200"))
    sell_to_short_limit = engine.check(symbol="TSLA", side="SELL", quantity=9_000, price=D("200"))
    sell_past_it = engine.check(symbol="TSLA", side="SELL", quantity=9_001, price=D("200"))

    # Assert
    assert kinds(buy_more) == [Violation.POSITION_LIMIT]
    assert sell_some == []
    assert sell_to_short_limit == []  # short 5,000 * 200 = exactly 1,000,000
    assert kinds(sell_past_it) == [Violation.POSITION_LIMIT]
    assert sell_past_it[0].projected == D("1000200")


def test_a_working_sell_does_not_make_room_for_a_buy() -> None:
    # Arrange: long 4,000 TSLA marked at 200 = 800,000, and a working sell of 2,000
    engine = RiskEngine()
    engine.reserve("b", symbol="TSLA", side="BUY", quantity=4_000, price=D("200"))
    engine.fill("b", quantity=4_000, price=D("200"))
    engine.set_mark("TSLA", D("200"))
    engine.reserve("s", symbol="TSLA", side="SELL", quantity=2_000, price=D("210"))

    # Act
    to_the_limit = engine.check(symbol="TSLA", side="BUY", quantity=1_000, price=D("200"))
    past_it = engine.check(symbol="TSLA", side="BUY", quantity=1_001, price=D("200"))

    # Assert: the sell may never fill, so the buy counts on top of the whole long: 5,000 * 200
    assert to_the_limit == []
    assert [(v.violation, v.projected) for v in past_it] == [(Violation.POSITION_LIMIT, D("1000200"))]
    assert engine.metrics().net_exposure == D("800000")  # the extreme where the sell does not fill


def test_an_unmarked_symbol_is_valued_at_the_highest_price_known_for_it() -> None:
    # Arrange: two working buys at different limits, no mark, no execution
    engine = RiskEngine(equal_limits("4000"))
    engine.reserve("a", symbol="NEW", side="BUY", quantity=100, price=D("10.00"))
    engine.reserve("b", symbol="NEW", side="BUY", quantity=100, price=D("20.00"))

    # Act
    small_sell = engine.check(symbol="NEW", side="SELL", quantity=10, price=D("1.00"))
    cheap_buy = engine.check(symbol="NEW", side="BUY", quantity=1, price=D("1.00"))
    dear_buy = engine.check(symbol="NEW", side="BUY", quantity=1, price=D("50.00"))

    # Assert: all 200 at 20 = 4,000; one more at 20 (or at its own 50, the higher) breaches
    assert engine.metrics().net_exposure == D("4000.00")
    assert small_sell == []
    assert (cheap_buy[0].violation, cheap_buy[0].projected, cheap_buy[0].reference_price) == (
        Violation.POSITION_LIMIT,
        D("4020.00"),
        D("20.00"),
    )
    assert (dear_buy[0].projected, dear_buy[0].reference_price) == (D("10050.00"), D("50.00"))
    assert dear_buy[0].message.endswith("valued at the reference price 50.00" + UNMARKED)


def test_an_unmarked_symbol_counts_its_last_execution_among_the_prices_known() -> None:
    # Arrange: working buys at 10 and 20; a third order executes at 25
    engine = RiskEngine()
    engine.reserve("a", symbol="NEW", side="BUY", quantity=100, price=D("10.00"))
    engine.reserve("b", symbol="NEW", side="BUY", quantity=100, price=D("20.00"))
    engine.reserve("c", symbol="NEW", side="BUY", quantity=10, price=D("25.00"))

    # Act
    engine.fill("c", quantity=10, price=D("25.00"))
    at_25 = engine.metrics().net_exposure
    engine.release("b")
    engine.release("a")
    held_only = engine.metrics().net_exposure

    # Assert: (10 held + 200 working) * 25, then 10 * 25
    assert (at_25, held_only) == (D("5250.00"), D("250.00"))


def test_a_mark_values_every_share_and_a_fill_never_moves_it() -> None:
    # Arrange: a position bought at 50, working buys at 10 and 20
    engine = RiskEngine()
    engine.reserve("a", symbol="NEW", side="BUY", quantity=100, price=D("10.00"))
    engine.reserve("b", symbol="NEW", side="BUY", quantity=100, price=D("20.00"))
    engine.reserve("c", symbol="NEW", side="BUY", quantity=20, price=D("50.00"))
    engine.fill("c", quantity=10, price=D("50.00"))

    # Act
    engine.set_mark("NEW", D("40"))
    marked = engine.metrics()
    engine.fill("c", quantity=10, price=D("60.00"))
    after_fill = engine.metrics()
    view = engine.positions_view()

    # Assert: (10 held + 210 working) * 40, then (20 held + 200 working) * 40: the fill moved none
    assert (marked.net_exposure, marked.gross_exposure) == (D("8800"), D("8800"))
    assert (after_fill.net_exposure, after_fill.largest_position) == (D("8800"), D("800"))
    assert [(p.symbol, p.quantity, p.last_price, p.mark) for p in view] == [("NEW", 20, D("60.00"), D("40"))]
    assert view[0].market_value == D("800")
    assert view[0].unrealized_pnl == D("-300")  # (40 - 55) * 20


def test_a_tiny_fill_does_not_move_the_valuation_price() -> None:
    # Arrange: the walk-past - 1 share bought at 0.01, then a mark of 150
    engine = RiskEngine()
    engine.reserve("tiny", symbol="AAPL", side="BUY", quantity=1, price=D("0.01"))
    engine.fill("tiny", quantity=1, price=D("0.01"))
    engine.set_mark("AAPL", D("150"))
    engine.reserve("tiny2", symbol="AAPL", side="BUY", quantity=1, price=D("0.01"))
    engine.fill("tiny2", quantity=1, price=D("0.01"))  # after the mark, too

    # Act: 6,665 more at a limit of 0.01 are worth 6,667 * 150 = 1,000,050 at the mark
    violations = engine.check(symbol="AAPL", side="BUY", quantity=6_665, price=D("0.01"))
    fits = engine.check(symbol="AAPL", side="BUY", quantity=6_664, price=D("0.01"))

    # Assert
    assert [(v.violation, v.projected, v.reference_price) for v in violations] == [
        (Violation.POSITION_LIMIT, D("1000050"), D("150"))
    ]
    assert violations[0].message == (
        "projected AAPL position 1,000,050.00 above max_position_size 1,000,000.00,"
        " valued at the reference price 150.00"
    )
    assert fits == []
    assert engine.positions_view()[0].market_value == D("300")


def test_a_tiny_fill_does_not_devalue_an_unmarked_symbol_either() -> None:
    # Arrange: no mark at all - the order's own price is among the prices known
    engine = RiskEngine()
    engine.reserve("tiny", symbol="AAPL", side="BUY", quantity=1, price=D("0.01"))
    engine.fill("tiny", quantity=1, price=D("0.01"))

    # Act
    violations = engine.check(symbol="AAPL", side="BUY", quantity=6_667, price=D("150"))

    # Assert
    assert [(v.violation, v.projected) for v in violations] == [(Violation.POSITION_LIMIT, D("1000200"))]


def test_resting_orders_on_one_side_never_make_room_for_the_other() -> None:
    # Arrange: the walk-past - a resting bid used to net against a big sell
    engine = RiskEngine(RiskLimits(max_position_size=D("1000000")))
    engine.set_mark("AAPL", D("150"))
    assert engine.check_and_reserve("bid", symbol="AAPL", side="BUY", quantity=6_000, price=D("100")) == []

    # Act
    with_bid = engine.check(symbol="AAPL", side="SELL", quantity=12_000, price=D("200"))
    engine.release("bid")
    without_bid = engine.check(symbol="AAPL", side="SELL", quantity=12_000, price=D("200"))

    # Assert: short 12,000 valued at max(mark 150, order 200), bid or no bid
    expected = [(Violation.POSITION_LIMIT, D("2400000"), D("200"))]
    assert [(v.violation, v.projected, v.reference_price) for v in with_bid] == expected
    assert [(v.violation, v.projected, v.reference_price) for v in without_bid] == expected
    assert with_bid[0].message.startswith("projected AAPL short position 2,400,000.00")


def test_a_resting_sell_never_makes_room_for_a_buy_across_symbols_either() -> None:
    # Arrange: net limit 1,000,000; a resting sell of MSFT, then a big AAPL buy
    engine = RiskEngine(RiskLimits(max_position_size=D("2000000"), max_net_exposure=D("1000000")))
    engine.set_mark("AAPL", D("100"))
    engine.set_mark("MSFT", D("100"))
    assert engine.check_and_reserve("ask", symbol="MSFT", side="SELL", quantity=5_000, price=D("100")) == []

    # Act: the buy fits only if the sell fills - which nobody can promise
    violations = engine.check(symbol="AAPL", side="BUY", quantity=15_000, price=D("100"))

    # Assert: every buy fills, no sell does: 1,500,000
    assert [(v.violation, v.projected) for v in violations] == [(Violation.NET_EXPOSURE_LIMIT, D("1500000"))]


def test_two_orders_that_each_fit_but_not_together() -> None:
    # Arrange: position limit 1,000,000, net limit 1,500,000, marks at 100
    engine = RiskEngine(RiskLimits(max_position_size=D("1000000"), max_net_exposure=D("1500000")))
    engine.set_mark("AAPL", D("100"))
    engine.set_mark("MSFT", D("100"))

    # Act: in one symbol, then across two
    first = engine.check_and_reserve("a1", symbol="AAPL", side="BUY", quantity=6_000, price=D("100"))
    second = engine.check_and_reserve("a2", symbol="AAPL", side="BUY", quantity=6_000, price=D("100"))
    other = engine.check_and_reserve("m1", symbol="MSFT", side="BUY", quantity=10_000, price=D("100"))

    # Assert: each alone is 600,000 or 1,000,000; together 1,200,000 and 1,600,000
    assert first == []
    assert [(v.violation, v.projected) for v in second] == [(Violation.POSITION_LIMIT, D("1200000"))]
    assert [(v.violation, v.projected) for v in other] == [(Violation.NET_EXPOSURE_LIMIT, D("1600000"))]
    assert engine.metrics().working_exposure == D("600000")


def test_an_order_above_the_mark_is_valued_at_its_own_price() -> None:
    # Arrange
    engine = RiskEngine(RiskLimits(max_position_size=D("1000")))
    engine.set_mark("AAPL", D("10"))

    # Act
    at_mark = engine.check(symbol="AAPL", side="BUY", quantity=100, price=D("9"))
    above_it = engine.check(symbol="AAPL", side="BUY", quantity=100, price=D("11"))

    # Assert: 100 * 10 fits; 100 * 11 does not
    assert at_mark == []
    assert [(v.projected, v.reference_price) for v in above_it] == [(D("1100"), D("11"))]


def test_net_is_checked_at_the_mark_too_when_the_order_price_would_flatter_it() -> None:
    # Arrange: long AAPL 2,000 and short TSLA 1,000 at marks of 100: net 1,000
    engine = RiskEngine(RiskLimits(max_net_exposure=D("999")))
    for order_id, symbol, side, quantity in (("a", "AAPL", "BUY", 20), ("t", "TSLA", "SELL", 10)):
        engine.set_mark(symbol, D("100"))
        engine.reserve(order_id, symbol=symbol, side=side, quantity=quantity, price=D("100"))
        engine.fill(order_id, quantity=quantity, price=D("100"))

    # Act: sell 1 TSLA at 200 - valued at 200 the short would offset AAPL down to a net of 200
    violations = engine.check(symbol="TSLA", side="SELL", quantity=1, price=D("200"))

    # Assert: but TSLA stays valued at its mark once reserved: net 2,000 - 1,000 (the sell may not fill)
    assert [(v.violation, v.projected, v.reference_price) for v in violations] == [
        (Violation.NET_EXPOSURE_LIMIT, D("1000"), D("100"))
    ]
    assert violations[0].message == (
        "projected net exposure 1,000.00 above max_net_exposure 999.00, TSLA valued at the reference price 100.00"
    )


def test_net_is_checked_at_the_mark_too_when_a_long_would_offset_shorts() -> None:
    # Arrange: short AAPL 2,000 and long TSLA 1,000 at marks of 100: net short 1,000
    engine = RiskEngine(RiskLimits(max_net_exposure=D("999")))
    for order_id, symbol, side, quantity in (("a", "AAPL", "SELL", 20), ("t", "TSLA", "BUY", 10)):
        engine.set_mark(symbol, D("100"))
        engine.reserve(order_id, symbol=symbol, side=side, quantity=quantity, price=D("100"))
        engine.fill(order_id, quantity=quantity, price=D("100"))

    # Act: buy 1 TSLA at 200 - valued at 200 the long would offset AAPL down to a net of 200
    violations = engine.check(symbol="TSLA", side="BUY", quantity=1, price=D("200"))

    # Assert: at the mark, if the buy does not fill, the net is still short 1,000
    assert [(v.violation, v.projected, v.reference_price) for v in violations] == [
        (Violation.NET_EXPOSURE_LIMIT, D("1000"), D("100"))
    ]
    assert violations[0].message.startswith("projected net short exposure 1,000.00")


def test_a_mark_move_revalues_positions_and_working_orders() -> None:
    # Arrange: long 100 AAPL and a working buy of 50, marked at 10
    engine = RiskEngine()
    engine.set_mark("AAPL", D("10"))
    engine.reserve("a", symbol="AAPL", side="BUY", quantity=150, price=D("10"))
    engine.fill("a", quantity=100, price=D("10"))

    # Act
    engine.set_mark("AAPL", D("12.5"))

    # Assert
    metrics = engine.metrics()
    assert (metrics.net_exposure, metrics.gross_exposure, metrics.largest_position) == (
        D("1875.0"),
        D("1875.0"),
        D("1250.0"),
    )
    assert metrics.working_exposure == D("500")  # working orders stay at their reserved price
    assert engine.positions_view()[0].unrealized_pnl == D("250.0")


def test_a_mark_outlives_the_orders_of_a_symbol_never_traded() -> None:
    # Arrange
    engine = RiskEngine(RiskLimits(max_position_size=D("1000")))
    engine.set_mark("AAPL", D("100"))
    engine.reserve("a", symbol="AAPL", side="BUY", quantity=1, price=D("1"))

    # Act
    engine.release("a")
    violations = engine.check(symbol="AAPL", side="BUY", quantity=11, price=D("1"))

    # Assert
    assert [(v.projected, v.reference_price) for v in violations] == [(D("1100"), D("100"))]
    assert engine.metrics().net_exposure == 0


@pytest.mark.parametrize("mark", [D("0"), D("-1"), D("NaN"), 150.0, "150"])
def test_a_bad_mark_is_refused_and_changes_nothing(mark: Decimal) -> None:
    # Arrange
    engine = RiskEngine()
    engine.reserve("a", symbol="AAPL", side="BUY", quantity=10, price=D("100"))
    before = engine.metrics()

    # Act / Assert
    with pytest.raises(ValueError, match="mark must be a positive Decimal"):
        engine.set_mark("AAPL", mark)
    assert engine.metrics() == before


@pytest.mark.parametrize(
    ("price", "edge", "side"),
    [(D("110.01"), D("110"), "above"), (D("89.99"), D("90"), "below")],
)
def test_a_price_more_than_the_band_away_from_the_reference_is_refused(
    price: Decimal, edge: Decimal, side: str
) -> None:
    # Act
    violation = price_band_violation(price, D("100"), D("10"))

    # Assert
    assert violation is not None
    assert (violation.violation, violation.limit, violation.projected, violation.reference_price) == (
        Violation.PRICE_BAND,
        edge,
        price,
        D("100"),
    )
    edge_name = "upper" if side == "above" else "lower"
    assert violation.message == (
        f"limit price {price} is more than 10% {side} the reference price 100.00:"
        f" the price band's {edge_name} edge is {edge:.2f}"
    )


def test_a_price_on_the_band_edge_or_without_a_reference_or_band_passes() -> None:
    assert price_band_violation(D("110"), D("100"), D("10")) is None
    assert price_band_violation(D("90"), D("100"), D("10")) is None
    assert price_band_violation(D("187.42"), D("187.42"), D("0")) is None
    assert price_band_violation(D("1000"), None, D("10")) is None
    assert price_band_violation(D("1000"), D("100"), None) is None
    with pytest.raises(ValueError, match="band_percent"):
        price_band_violation(D("100"), D("100"), D("-1"))


def test_a_band_edge_keeps_the_reference_decimals() -> None:
    # Act
    violation = price_band_violation(D("200"), D("187.42"), D("2.5"))

    # Assert: 187.42 * 1.025 = 192.1055
    assert violation is not None
    assert violation.limit == D("192.1055")
    assert violation.message == (
        "limit price 200.00 is more than 2.5% above the reference price 187.42: the price band's upper edge is 192.1055"
    )


def test_a_collar_in_ticks_and_the_tighter_of_two_edges() -> None:
    # Arrange: reference 100.00, tick 0.05; 10 ticks = 0.50, 2% = 2.00
    ticks = {"ticks": 10, "tick_size": D("0.05")}

    # Act
    within = price_band_violation(D("100.50"), D("100"), None, **ticks)  # type: ignore[arg-type]
    above = price_band_violation(D("100.55"), D("100"), None, **ticks)  # type: ignore[arg-type]
    below = price_band_violation(D("98.00"), D("100"), D("2"), **ticks)  # type: ignore[arg-type]
    percent_tighter = price_band_violation(D("100.30"), D("100"), D("0.25"), **ticks)  # type: ignore[arg-type]

    # Assert
    assert within is None
    assert above is not None
    assert (above.limit, above.projected) == (D("100.50"), D("100.55"))
    assert above.message == (
        "limit price 100.55 is more than 10 ticks of 0.05 above the reference price 100.00: the price band's"
        " upper edge is 100.50"
    )
    assert below is not None
    assert below.limit == D("99.50")
    assert percent_tighter is not None
    assert percent_tighter.limit == D("100.25")
    assert "0.25% above" in percent_tighter.message


def test_a_fill_moves_volume_from_working_to_executed_at_the_fill_price() -> None:
    # Arrange
    engine = RiskEngine()
    engine.reserve("o", symbol="AAPL", side="BUY", quantity=100, price=D("10.00"))
    assert (engine.metrics().working_exposure, engine.metrics().executed_volume) == (D("1000.00"), 0)

    # Act: a partial fill, then the rest
    engine.fill("o", quantity=40, price=D("9.50"))
    partial = engine.metrics()
    engine.fill("o", quantity=60, price=D("9.75"))
    done = engine.metrics()

    # Assert
    assert (partial.working_exposure, partial.executed_volume, partial.daily_volume) == (
        D("600.00"),
        D("380.00"),
        D("980.00"),
    )
    assert (done.working_exposure, done.executed_volume, done.daily_volume) == (0, D("965.00"), D("965.00"))
    with pytest.raises(KeyError):
        engine.fill("o", quantity=1, price=D("9.75"))


def test_daily_volume_counts_executed_and_working_and_fills_can_breach_it_later() -> None:
    # Arrange
    engine = RiskEngine(RiskLimits(max_daily_volume=D("1000")))
    engine.reserve("a", symbol="AAPL", side="BUY", quantity=5, price=D("100"))
    engine.fill("a", quantity=5, price=D("100"))
    engine.reserve("b", symbol="MSFT", side="SELL", quantity=4, price=D("100"))

    # Act
    fits = engine.check(symbol="IBM", side="BUY", quantity=1, price=D("100"))
    breaches = engine.check(symbol="IBM", side="SELL", quantity=1, price=D("100.01"))

    # Assert
    assert fits == []
    assert kinds(breaches) == [Violation.DAILY_VOLUME_LIMIT]
    assert breaches[0].projected == D("1000.01")


def test_a_new_day_clears_executed_volume_but_keeps_working_orders() -> None:
    # Arrange
    engine = RiskEngine()
    engine.reserve("a", symbol="AAPL", side="BUY", quantity=10, price=D("100"))
    engine.fill("a", quantity=10, price=D("100"))
    engine.reserve("b", symbol="AAPL", side="BUY", quantity=5, price=D("100"))

    # Act
    previous = engine.reset_daily_volume()

    # Assert
    metrics = engine.metrics()
    assert previous == D("1000")
    assert (metrics.executed_volume, metrics.working_exposure, metrics.daily_volume) == (0, D("500"), D("500"))
    assert metrics.net_exposure == D("1500")  # positions are not a daily figure
    engine.fill("b", quantity=5, price=D("100"))
    assert engine.metrics().executed_volume == D("500")


def test_metrics_after_a_few_fills() -> None:
    # Arrange
    engine = RiskEngine()
    trades = [
        ("1", "AAPL", "BUY", 100, "150.00", "150.00"),
        ("2", "MSFT", "SELL", 50, "300.00", "301.00"),
        ("3", "AAPL", "SELL", 100, "155.00", "155.00"),  # AAPL goes flat at +500 realized
        ("4", "TSLA", "BUY", 10, "200.00", "199.50"),
    ]
    realized = []
    for order_id, symbol, side, quantity, limit, fill in trades:
        engine.reserve(order_id, symbol=symbol, side=side, quantity=quantity, price=D(limit))
        realized.append(engine.fill(order_id, quantity=quantity, price=D(fill)))
    engine.reserve("5", symbol="NVDA", side="BUY", quantity=3, price=D("100.00"))

    # Act
    metrics = engine.metrics()

    # Assert
    assert realized == [0, 0, D("500.00"), 0]
    # net: the worse extreme is the one where the NVDA buy does not fill (more net short)
    assert metrics == RiskMetrics(
        net_exposure=D("-15050.00") + D("1995.00"),
        gross_exposure=D("15050.00") + D("1995.00") + D("300.00"),
        daily_volume=D("15000.00") + D("15050.00") + D("15500.00") + D("1995.00") + D("300.00"),
        executed_volume=D("47545.00"),
        working_exposure=D("300.00"),
        total_positions=2,
        largest_position=D("15050.00"),
        kill_switch_active=False,
        # what it could owe: the MSFT short, the TSLA long, the NVDA buy if it fills
        credit_used=D("15050.00") + D("1995.00") + D("300.00"),
        # the AAPL round trip; MSFT and TSLA are valued at their own fill prices (no marks)
        daily_pnl=D("500.00"),
    )


def test_the_positions_view_is_sorted_keeps_realized_flat_ones_and_is_a_copy() -> None:
    # Arrange
    engine = RiskEngine()
    for order_id, symbol, side, price in (
        ("1", "MSFT", "BUY", "10"),
        ("2", "AAPL", "BUY", "10"),
        ("3", "AAPL", "SELL", "11"),  # flat, +10 realized
        ("4", "IBM", "BUY", "10"),
        ("5", "IBM", "SELL", "10"),  # flat, nothing realized
    ):
        engine.reserve(order_id, symbol=symbol, side=side, quantity=10, price=D(price))
        engine.fill(order_id, quantity=10, price=D(price))

    # Act
    view = engine.positions_view()
    view[0].quantity = 999

    # Assert
    assert [(p.symbol, p.quantity, p.realized_pnl) for p in view] == [
        ("AAPL", 999, D("10")),
        ("MSFT", 10, 0),
    ]
    assert engine.positions["AAPL"].quantity == 0


def test_check_changes_nothing() -> None:
    # Arrange
    engine = RiskEngine()
    engine.reserve("a", symbol="AAPL", side="BUY", quantity=10, price=D("100"))
    before = engine.metrics()

    # Act
    for _ in range(3):
        engine.check(symbol="AAPL", side="BUY", quantity=1_000_000, price=D("100"))
        engine.check(symbol="NEW", side="SELL", quantity=5, price=D("1"))

    # Assert
    assert engine.metrics() == before


def test_bookkeeping_mistakes_are_refused_without_touching_the_state() -> None:
    # Arrange
    engine = RiskEngine()
    engine.reserve("a", symbol="AAPL", side="BUY", quantity=10, price=D("100"))
    before = engine.metrics()

    # Act / Assert
    with pytest.raises(ValueError, match="already reserved"):
        engine.reserve("a", symbol="MSFT", side="BUY", quantity=1, price=D("1"))
    with pytest.raises(ValueError, match="exceeds"):
        engine.fill("a", quantity=11, price=D("100"))
    with pytest.raises(ValueError, match="price must be a positive Decimal"):
        engine.fill("a", quantity=1, price=D("-1"))
    with pytest.raises(KeyError):
        engine.fill("nope", quantity=1, price=D("1"))
    with pytest.raises(ValueError, match="side"):
        engine.check(symbol="AAPL", side="buy", quantity=1, price=D("1"))
    with pytest.raises(ValueError, match="quantity"):
        engine.reserve("b", symbol="AAPL", side="BUY", quantity=0, price=D("1"))
    with pytest.raises(ValueError, match="price"):
        engine.check(symbol="AAPL", side="BUY", quantity=1, price=1.5)  # type: ignore[arg-type]
    engine.release("unknown")  # a no-op
    assert engine.metrics() == before
    assert engine.positions == {}


def test_limits_are_replaceable_and_refuse_floats_and_negatives() -> None:
    # Arrange
    engine = RiskEngine()

    # Act
    engine.set_limits(RiskLimits(kill_switch_enabled=True))

    # Assert
    assert engine.metrics().kill_switch_active is True
    with pytest.raises(ValueError, match="max_position_size"):
        RiskLimits(max_position_size=1_000_000.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_net_exposure"):
        RiskLimits(max_net_exposure=D("-1"))
    with pytest.raises(TypeError):
        RiskLimits(kill_switch_enabled=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        engine.set_limits(None)  # type: ignore[arg-type]


def test_breach_messages_group_thousands_and_keep_meaningful_decimals() -> None:
    # Arrange
    engine = RiskEngine(RiskLimits(max_position_size=D("1000")))

    # Act
    violations = engine.check(symbol="AAPL", side="BUY", quantity=1, price=D("1000.0001"))

    # Assert
    assert [v.message for v in violations] == [
        "projected AAPL position 1,000.0001 above max_position_size 1,000.00,"
        " valued at the reference price 1,000.0001" + UNMARKED
    ]
