"""TradingQueries: read-only answers about the state, and the one rule of who sees which order
(a trader their own, a risk manager and above everyone's)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from itirp.auth.roles import Role
from itirp.domain.breaker import BreakerState
from itirp.domain.orders import OrderStatus
from itirp.domain.viewer import Viewer
from itirp.errors import NotFound, Reason

from .harness import RISK, Harness, open_harness

ALICE = Viewer("u-alice", Role.TRADER)
BOB = Viewer("u-bob", Role.TRADER)
RISK_VIEWER = RISK.viewer
COMPLIANCE = Viewer("u-compliance", Role.COMPLIANCE)


@pytest.fixture
def h() -> Harness:
    return open_harness()


def place(h: Harness, user: Viewer, symbol: str = "AAPL", quantity: int = 10) -> str:
    order, _ = h.submit(user_id=user.user_id, username=user.user_id, symbol=symbol, quantity=quantity)
    return order.order_id


def list_ids(
    h: Harness,
    viewer: Viewer,
    *,
    statuses: frozenset[OrderStatus] = frozenset(),
    symbol: str = "",
    user_id: str = "",
    before: int | None = None,
    limit: int = 100,
) -> tuple[list[str], int | None]:
    page, cursor = h.core.queries.list_orders(
        viewer, statuses=statuses, symbol=symbol, user_id=user_id, before=before, limit=limit
    )
    return [o.order_id for o in page], cursor


# -- visible ----------------------------------------------------------------------------------------


def test_a_trader_sees_their_own_order(h: Harness) -> None:
    order_id = place(h, ALICE)

    assert h.core.queries.visible(ALICE, order_id).order_id == order_id


def test_a_trader_is_told_another_traders_order_does_not_exist(h: Harness) -> None:
    order_id = place(h, ALICE)

    with pytest.raises(NotFound) as caught:
        h.core.queries.visible(BOB, order_id)

    assert caught.value.reason is Reason.ORDER_NOT_FOUND
    assert caught.value.metadata == {"order_id": order_id}


@pytest.mark.parametrize("viewer", [RISK_VIEWER, COMPLIANCE], ids=["risk_manager", "compliance"])
def test_a_risk_manager_and_above_see_every_order(h: Harness, viewer: Viewer) -> None:
    order_id = place(h, ALICE)

    assert h.core.queries.visible(viewer, order_id).user_id == ALICE.user_id


def test_an_unknown_order_is_not_found_with_its_reason_and_id(h: Harness) -> None:
    with pytest.raises(NotFound, match="no order 'nope'") as caught:
        h.core.queries.visible(RISK_VIEWER, "nope")

    assert caught.value.reason is Reason.ORDER_NOT_FOUND
    assert caught.value.metadata == {"order_id": "nope"}


def test_order_returns_any_order_unchecked_or_none(h: Harness) -> None:
    order_id = place(h, ALICE)

    order = h.core.queries.order(order_id)
    assert order is not None
    assert order.user_id == ALICE.user_id
    assert h.core.queries.order("nope") is None


# -- open orders --------------------------------------------------------------------------------------


def test_open_orders_are_the_viewers_own_unless_they_see_everyones(h: Harness) -> None:
    a1 = place(h, ALICE, "AAPL")
    b1 = place(h, BOB, "MSFT")
    a2 = place(h, ALICE, "TSLA")
    h.cancel(a2)  # terminal: no longer open

    queries = h.core.queries
    assert [o.order_id for o in queries.open_orders(ALICE)] == [a1]
    assert [o.order_id for o in queries.open_orders(BOB)] == [b1]
    assert [o.order_id for o in queries.open_orders(RISK_VIEWER)] == [a1, b1]


def test_open_orders_of_one_order_give_it_whatever_its_status_if_visible(h: Harness) -> None:
    order_id = place(h, ALICE)
    h.cancel(order_id)

    assert [o.status for o in h.core.queries.open_orders(ALICE, order_id)] == [OrderStatus.CANCELLED]
    with pytest.raises(NotFound):
        h.core.queries.open_orders(BOB, order_id)


# -- list orders ------------------------------------------------------------------------------------


def test_list_orders_gives_a_trader_only_their_own_newest_first(h: Harness) -> None:
    a1, _, a2 = place(h, ALICE), place(h, BOB), place(h, ALICE)

    assert list_ids(h, ALICE) == ([a2, a1], None)
    # a trader naming another user still sees only their own
    assert list_ids(h, ALICE, user_id=BOB.user_id) == ([a2, a1], None)


def test_list_orders_gives_a_risk_manager_everyones_or_one_users(h: Harness) -> None:
    a1, b1, a2 = place(h, ALICE), place(h, BOB), place(h, ALICE)

    assert list_ids(h, RISK_VIEWER) == ([a2, b1, a1], None)
    assert list_ids(h, RISK_VIEWER, user_id=BOB.user_id) == ([b1], None)
    assert list_ids(h, RISK_VIEWER, user_id="u-nobody") == ([], None)


def test_list_orders_filters_by_status_and_symbol(h: Harness) -> None:
    apple = place(h, ALICE, "AAPL")
    msft = place(h, ALICE, "MSFT")
    rejected = place(h, ALICE, "AAPL", quantity=100_000)  # breaches the limits
    h.cancel(msft)

    assert list_ids(h, ALICE, symbol="AAPL") == ([rejected, apple], None)
    assert list_ids(h, ALICE, statuses=frozenset({OrderStatus.CANCELLED})) == ([msft], None)
    statuses = frozenset({OrderStatus.APPROVED, OrderStatus.REJECTED})
    assert list_ids(h, ALICE, statuses=statuses, symbol="AAPL") == ([rejected, apple], None)
    assert list_ids(h, ALICE, statuses=frozenset({OrderStatus.EXECUTED})) == ([], None)


def test_list_orders_pages_with_a_cursor_until_the_oldest(h: Harness) -> None:
    # Arrange: five orders, oldest first
    ids = [place(h, ALICE, f"F{i}") for i in range(5)]

    # Act: pages of two, each from the previous page's cursor
    pages: list[list[str]] = []
    cursor: int | None = None
    while True:
        page, cursor = list_ids(h, ALICE, before=cursor, limit=2)
        pages.append(page)
        if cursor is None:
            break

    # Assert
    assert pages == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]


def test_list_orders_cursor_skips_filtered_orders_and_a_full_last_page_has_no_cursor(h: Harness) -> None:
    a = place(h, ALICE, "AAPL")
    place(h, ALICE, "MSFT")
    b = place(h, ALICE, "AAPL")
    place(h, ALICE, "MSFT")

    first, cursor = list_ids(h, ALICE, symbol="AAPL", limit=1)
    assert first == [b]
    assert cursor is not None
    assert list_ids(h, ALICE, symbol="AAPL", before=cursor, limit=1) == ([a], None)
    assert list_ids(h, ALICE, symbol="AAPL", limit=2) == ([b, a], None)


def test_list_orders_cursor_beyond_the_end_starts_from_the_newest(h: Harness) -> None:
    a, b = place(h, ALICE), place(h, ALICE)

    assert list_ids(h, ALICE, before=99) == ([b, a], None)
    assert list_ids(h, ALICE, before=0) == ([], None)


# -- risk and the system ------------------------------------------------------------------------------


def test_limits_kill_switch_metrics_and_positions_read_the_state(h: Harness) -> None:
    h.advance(5)
    h.update_limits(max_position_size="50000")
    h.set_kill_switch(True, reason="halt")

    queries = h.core.queries
    limits = queries.limits()
    assert limits.limits.max_position_size == Decimal("50000")
    assert (limits.updated_us, limits.updated_by) == (h.now_us, RISK.username)
    kill_switch = queries.kill_switch()
    assert (kill_switch.active, kill_switch.reason, kill_switch.set_by) == (True, "halt", RISK.username)
    assert queries.metrics().kill_switch_active is True
    assert queries.positions() == []


def test_status_counts_totals_and_last_applied_follow_the_orders(h: Harness) -> None:
    place(h, ALICE)
    place(h, BOB, quantity=100_000)  # rejected

    queries = h.core.queries
    counts = queries.status_counts()
    assert (counts[OrderStatus.APPROVED], counts[OrderStatus.REJECTED]) == (1, 1)
    assert queries.total_orders == 2
    assert queries.last_applied == h.events()[-1].sequence
    assert queries.trading_day == "2024-03-01"


def test_side_of_and_the_breaker_view(h: Harness) -> None:
    order_id = place(h, ALICE)

    assert h.core.queries.side_of(order_id).value == "BUY"
    breaker = h.core.queries.breaker()
    assert (breaker.state, breaker.consecutive_failures, breaker.open_until_us) == (BreakerState.CLOSED, 0, 0)


def test_a_traders_order_stream_watches_their_orders_and_a_risk_managers_everyones() -> None:
    # Arrange: orders of two traders
    h = open_harness()
    mine, _ = h.submit(user_id="u1", username="trader1", symbol="AAPL")
    theirs, _ = h.submit(user_id="u2", username="trader2", symbol="MSFT")
    queries = h.core.queries

    # Act
    trader = queries.watched_orders(Viewer("u1", Role.TRADER))
    risk = queries.watched_orders(Viewer("u-risk", Role.RISK_MANAGER))
    one = queries.watched_orders(Viewer("u-risk", Role.RISK_MANAGER), theirs.order_id)

    # Assert
    assert trader(mine.order_id)
    assert not trader(theirs.order_id)
    assert risk(mine.order_id)
    assert risk(theirs.order_id)
    assert one(theirs.order_id)
    assert not one(mine.order_id)
    assert not trader("no-such-order")


def test_a_trader_cannot_watch_someone_elses_order() -> None:
    h = open_harness()
    theirs, _ = h.submit(user_id="u2", username="trader2")

    with pytest.raises(NotFound) as caught:
        h.core.queries.watched_orders(Viewer("u1", Role.TRADER), theirs.order_id)

    assert caught.value.reason is Reason.ORDER_NOT_FOUND
