"""Pre-trade risk: what an order would do to the book, counting everything already working."""

from __future__ import annotations

from decimal import Decimal

import pytest

from itirp.domain.risk import RiskEngine, RiskLimits, RiskMetrics, Violation, ViolationDetail

D = Decimal


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
            "projected TSLA position 20,000,000.00 above max_position_size 1,000,000.00",
        ),
        ViolationDetail(
            Violation.DAILY_VOLUME_LIMIT,
            D("10000000"),
            D("20000000"),
            "projected daily volume 20,000,000.00 above max_daily_volume 10,000,000.00",
        ),
        ViolationDetail(
            Violation.NET_EXPOSURE_LIMIT,
            D("5000000"),
            D("20000000"),
            "projected net exposure 20,000,000.00 above max_net_exposure 5,000,000.00",
        ),
        ViolationDetail(
            Violation.GROSS_EXPOSURE_LIMIT,
            D("15000000"),
            D("20000000"),
            "projected gross exposure 20,000,000.00 above max_gross_exposure 15,000,000.00",
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
    assert "kill switch" in tiny[0].message
    assert engine.metrics().kill_switch_active is True


def test_every_breached_limit_is_listed_with_its_own_projected_figure() -> None:
    # Arrange: a long AAPL and a short MSFT already on the book
    engine = RiskEngine(RiskLimits(D("1000"), D("5000"), D("500"), D("2500")))
    engine.reserve("a", symbol="AAPL", side="BUY", quantity=10, price=D("80"))
    engine.fill("a", quantity=10, price=D("80"))
    engine.reserve("m", symbol="MSFT", side="SELL", quantity=10, price=D("60"))
    engine.fill("m", quantity=10, price=D("60"))

    # Act: buy 15 more AAPL at a limit of 81 -> valued at AAPL's last price, 80
    violations = engine.check(symbol="AAPL", side="BUY", quantity=15, price=D("81"))

    # Assert: position 25*80=2000; volume 800+600+1215=2615 (fits); net 2000-600=1400; gross 2600
    assert [(v.violation, v.projected) for v in violations] == [
        (Violation.POSITION_LIMIT, D("2000")),
        (Violation.NET_EXPOSURE_LIMIT, D("1400")),
        (Violation.GROSS_EXPOSURE_LIMIT, D("2600")),
    ]


def test_a_short_breach_says_short() -> None:
    # Arrange
    engine = RiskEngine(equal_limits("100"))

    # Act
    violations = engine.check(symbol="AAPL", side="SELL", quantity=2, price=D("75.50"))

    # Assert
    assert violations[0].message == "projected AAPL short position 151.00 above max_position_size 100.00"
    assert violations[2].message == "projected net short exposure 151.00 above max_net_exposure 100.00"


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
    assert kinds(engine.check(symbol="TSLA", side="BUY", quantity=501, price=D("200"))) == [
        Violation.POSITION_LIMIT
    ]


def test_check_and_reserve_reserves_only_what_passes() -> None:
    # Arrange
    engine = RiskEngine()

    # Act
    results = [
        engine.check_and_reserve(f"o{n}", symbol="TSLA", side="BUY", quantity=2_000, price=D("200"))
        for n in range(3)
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


def test_a_working_sell_also_offsets_a_long() -> None:
    # Arrange: long 800,000 and a working sell of 400,000
    engine = RiskEngine()
    engine.reserve("b", symbol="TSLA", side="BUY", quantity=4_000, price=D("200"))
    engine.fill("b", quantity=4_000, price=D("200"))
    engine.reserve("s", symbol="TSLA", side="SELL", quantity=2_000, price=D("210"))

    # Act
    violations = engine.check(symbol="TSLA", side="BUY", quantity=3_000, price=D("200"))

    # Assert: (4000 - 2000 + 3000) * 200 = 1,000,000, exactly at the limit
    assert violations == []
    assert engine.metrics().net_exposure == D("400000")


def test_a_never_traded_symbol_is_valued_at_each_order_price() -> None:
    # Arrange: two working buys at different limits, no execution yet
    engine = RiskEngine(equal_limits("3500"))
    engine.reserve("a", symbol="NEW", side="BUY", quantity=100, price=D("10.00"))
    engine.reserve("b", symbol="NEW", side="BUY", quantity=100, price=D("20.00"))

    # Act
    small_sell = engine.check(symbol="NEW", side="SELL", quantity=10, price=D("1.00"))
    big_buy = engine.check(symbol="NEW", side="BUY", quantity=11, price=D("50.00"))

    # Assert: 1000 + 2000 working; - 10 fits; + 550 does not
    assert engine.metrics().net_exposure == D("3000.00")
    assert small_sell == []
    assert big_buy[0].violation is Violation.POSITION_LIMIT
    assert big_buy[0].projected == D("3550.00")


def test_once_traded_a_symbol_is_valued_at_its_last_execution_price() -> None:
    # Arrange: the same two working buys, then a third order executes at 50
    engine = RiskEngine(equal_limits("10550"))
    engine.reserve("a", symbol="NEW", side="BUY", quantity=100, price=D("10.00"))
    engine.reserve("b", symbol="NEW", side="BUY", quantity=100, price=D("20.00"))
    engine.reserve("c", symbol="NEW", side="BUY", quantity=10, price=D("50.00"))
    engine.fill("c", quantity=10, price=D("50.00"))

    # Act: new buys with a limit of 1.00 are valued at 50 all the same
    one_more = engine.check(symbol="NEW", side="BUY", quantity=1, price=D("1.00"))
    two_more = engine.check(symbol="NEW", side="BUY", quantity=2, price=D("1.00"))

    # Assert: (10 held + 200 working) * 50 = 10,500; +1 = 10,550 (at the limit); +2 breaches
    assert engine.metrics().net_exposure == D("10500.00")
    assert one_more == []
    assert [(v.violation, v.projected) for v in two_more] == [
        (Violation.POSITION_LIMIT, D("10600.00")),
        (Violation.NET_EXPOSURE_LIMIT, D("10600.00")),
        (Violation.GROSS_EXPOSURE_LIMIT, D("10600.00")),
    ]


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
    assert metrics == RiskMetrics(
        net_exposure=D("-15050.00") + D("1995.00") + D("300.00"),
        gross_exposure=D("15050.00") + D("1995.00") + D("300.00"),
        daily_volume=D("15000.00") + D("15050.00") + D("15500.00") + D("1995.00") + D("300.00"),
        executed_volume=D("47545.00"),
        working_exposure=D("300.00"),
        total_positions=2,
        largest_position=D("15050.00"),
        kill_switch_active=False,
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
        "projected AAPL position 1,000.0001 above max_position_size 1,000.00"
    ]
