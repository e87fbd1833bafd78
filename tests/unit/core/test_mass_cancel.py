"""Mass cancel in the core (`itirp.core.mass_cancel`): one append of MASS_CANCEL_REQUESTED and the
cancel each order in scope gets (the same event a single cancel records), scopes and filters,
who may ask for what, and the session events that carry a cancel-on-disconnect."""

from __future__ import annotations

import pytest

from itirp.auth.roles import Role
from itirp.core.accounts import EntitleTrader, UpsertAccount, UpsertDesk
from itirp.core.commands import SubmitOrder
from itirp.core.mass_cancel import CancelAll, requested_cancel
from itirp.core.sessions import CloseSession, OpenSession
from itirp.domain.accounts import FIRM, Level, Scope
from itirp.domain.orders import OrderStatus, Side
from itirp.errors import InvalidArgument, NotFound, PermissionDenied
from itirp.events import decode_payload
from itirp.v1 import events_pb2

from .harness import RISK, Harness, actor, open_harness, types_of

TRADER1 = actor()
TRADER2 = actor("u-trader2", "trader2")


@pytest.fixture
def h() -> Harness:
    return open_harness("internal")


def rest(h: Harness, *, symbol: str = "AAPL", user_id: str = "u-trader1", username: str = "trader1") -> str:
    order, _ = h.submit(
        symbol=symbol, price="300.00" if symbol == "MSFT" else "150.00", user_id=user_id, username=username
    )
    assert order.status is OrderStatus.WORKING
    return order.order_id


def test_one_append_records_the_request_then_each_cancel_caused_by_it(h: Harness) -> None:
    a, b = rest(h), rest(h, symbol="MSFT")

    cancelled, pending, committed = h.core.orders.cancel_all(
        CancelAll(actor=RISK, scope=FIRM, reason="end of day"), h.now_us
    )

    assert types_of(committed) == ["MASS_CANCEL_REQUESTED", "ORDER_CANCELLED", "ORDER_CANCELLED"]
    assert committed is not None
    first, *cancels = committed.events
    request = decode_payload(first.event_type, first.schema_version, first.payload)
    assert isinstance(request, events_pb2.MassCancelRequested)
    assert (request.orders, request.trigger, request.username, request.reason) == (
        2,
        "cancel_all",
        "risk1",
        "end of day",
    )
    assert [e.order_id for e in cancels] == [a, b]
    assert {e.causation_id for e in cancels} == {first.event_id}
    assert [o.order_id for o in cancelled] == [a, b]
    assert pending == []
    assert {h.core.state.orders[o].status for o in (a, b)} == {OrderStatus.CANCELLED}
    assert h.core.queries.metrics().working_exposure == 0
    assert not h.core.matching.books["AAPL"].best_bid()


def test_scopes_and_filters_choose_the_orders(h: Harness) -> None:
    mine_aapl, mine_msft = rest(h), rest(h, symbol="MSFT")
    theirs = rest(h, user_id="u-trader2", username="trader2")

    def cancel(**fields: object) -> list[str]:
        cancelled, _, _ = h.core.orders.cancel_all(CancelAll(actor=RISK, **fields), h.now_us)  # type: ignore[arg-type]
        return [o.order_id for o in cancelled]

    assert cancel(scope=Scope(Level.TRADER, "trader1"), symbol="MSFT") == [mine_msft]
    assert cancel(scope=Scope(Level.DESK, "EQ")) == []
    assert cancel(scope=Scope(Level.INSTRUMENT, "AAPL"), user_id="u-trader2") == [theirs]
    assert cancel(scope=Scope(Level.ACCOUNT, "HOUSE")) == [mine_aapl]


def test_nothing_open_in_scope_records_nothing(h: Harness) -> None:
    rest(h)
    before = len(h.events())

    result = h.core.orders.cancel_all(CancelAll(actor=RISK, scope=Scope(Level.INSTRUMENT, "MSFT")), h.now_us)

    assert result == ([], [], None)
    assert len(h.events()) == before


def test_an_order_at_an_external_venue_becomes_pending_cancel_and_a_pending_one_is_left_alone() -> None:
    h = open_harness()
    approved, _ = h.submit()
    sent, _ = h.submit(price="149.00")
    h.core.execution.begin_attempt(sent.order_id, 1, "sim", h.now_us)

    cancelled, pending, committed = h.core.orders.cancel_all(CancelAll(actor=RISK), h.now_us)

    assert types_of(committed) == ["MASS_CANCEL_REQUESTED", "ORDER_CANCELLED", "ORDER_CANCEL_REQUESTED"]
    assert [o.order_id for o in cancelled] == [approved.order_id]
    assert [o.order_id for o in pending] == [sent.order_id]
    assert h.core.orders.cancel_all(CancelAll(actor=RISK), h.now_us) == ([], [], None)


def test_a_trader_asks_for_their_own_orders_and_accounts_they_are_entitled_to(h: Harness) -> None:
    state = h.core.state
    own = requested_cancel(state, TRADER1, None)
    assert (own.scope, own.user_id) == (Scope(Level.TRADER, "trader1"), "u-trader1")
    assert requested_cancel(state, TRADER1, Scope(Level.ACCOUNT, "HOUSE")).user_id == "u-trader1"
    for scope in (Scope(Level.TRADER, "trader2"), Scope(Level.INSTRUMENT, "AAPL"), FIRM):
        with pytest.raises(PermissionDenied):
            requested_cancel(state, TRADER1, scope)
    with pytest.raises(NotFound):
        requested_cancel(state, TRADER1, Scope(Level.ACCOUNT, "NOPE"))
    h.core.accounts.upsert_desk(UpsertDesk(actor=RISK, desk_id="EQ", name="Equities", reason="t"), h.now_us)
    account = UpsertAccount(actor=RISK, account_id="EQ-1", desk_id="EQ", name="One", kind=None, reason="t")
    h.core.accounts.upsert_account(account, h.now_us)
    with pytest.raises(PermissionDenied, match="not entitled"):
        requested_cancel(state, TRADER1, Scope(Level.ACCOUNT, "EQ-1"))
    entitle = EntitleTrader(
        actor=RISK, user_id="u-trader1", username="trader1", accounts=("EQ-1",), default_account="", reason="t"
    )
    h.core.accounts.entitle(entitle, h.now_us)
    assert requested_cancel(state, TRADER1, Scope(Level.ACCOUNT, "EQ-1")).scope == Scope(Level.ACCOUNT, "EQ-1")


def test_a_risk_manager_asks_for_any_scope_that_exists(h: Harness) -> None:
    state = h.core.state
    assert requested_cancel(state, RISK, None).scope == FIRM
    assert requested_cancel(state, RISK, Scope(Level.TRADER, "trader2")).user_id == ""
    with pytest.raises(NotFound):
        requested_cancel(state, RISK, Scope(Level.DESK, "NOPE"))
    with pytest.raises(NotFound):
        requested_cancel(state, RISK, Scope(Level.INSTRUMENT, "NOPE"))
    assert actor(role=Role.ADMIN).viewer.sees_all


def test_a_cut_session_cancels_its_working_orders_in_the_append_that_closes_it(h: Harness) -> None:
    session_id, opened = h.core.sessions.open(OpenSession(actor=TRADER1, cancel_on_disconnect=True), h.now_us)
    assert types_of(opened) == ["SESSION_OPENED"]
    entered, _ = h.core.orders.submit(
        SubmitOrder(actor=TRADER1, symbol="AAPL", side=Side.BUY, quantity=10, price="150.00", session_id=session_id),
        h.now_us,
    )
    outside = rest(h)

    cancelled, _, committed = h.core.sessions.close(
        CloseSession(actor=TRADER1, session_id=session_id, clean=False, reason="gone", cancel_working=True), h.now_us
    )

    assert types_of(committed) == ["MASS_CANCEL_REQUESTED", "ORDER_CANCELLED", "SESSION_CLOSED"]
    assert [o.order_id for o in cancelled] == [entered.order_id]
    assert h.core.state.orders[outside].status is OrderStatus.WORKING
    closed = committed.events[-1]
    payload = decode_payload(closed.event_type, closed.schema_version, closed.payload)
    assert isinstance(payload, events_pb2.SessionClosed)
    assert (payload.clean, payload.orders_cancelled) == (False, 1)


def test_a_clean_close_cancels_nothing_and_heartbeats_are_bounded(h: Harness) -> None:
    session_id, _ = h.core.sessions.open(OpenSession(actor=TRADER1, cancel_on_disconnect=True), h.now_us)
    rest(h)
    _, _, committed = h.core.sessions.close(
        CloseSession(actor=TRADER1, session_id=session_id, clean=True, cancel_working=True), h.now_us
    )
    assert types_of(committed) == ["SESSION_CLOSED"]
    with pytest.raises(InvalidArgument):
        h.core.sessions.open(OpenSession(actor=TRADER1, heartbeat_seconds=61), h.now_us)
    assert TRADER2.user_id == "u-trader2"
