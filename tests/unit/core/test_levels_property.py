"""Property: across random orders on several accounts, desks and traders (internal venue, so
orders rest, match and fill), no approval ever leaves any of the order's levels beyond a limit.

After each approved order, every figure of each of its four levels is recomputed from nothing -
the orders in the state, their fills and the marks - and compared with that level's limits. The
engines' running totals are not used: only the limits they hold.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from itirp.core.accounts import EntitleTrader, UpsertAccount, UpsertDesk
from itirp.core.commands import CancelOrder, RecordMark, SubmitOrder, UpdateRiskLimits
from itirp.domain.accounts import FIRM, Level, Scope, levels_of
from itirp.domain.instruments import Mark
from itirp.domain.orders import Order, OrderStatus, Side
from tests.unit.core.harness import RISK, Harness, actor, open_harness

SYMBOLS = ("AAPL", "MSFT", "TSLA")
#: trader -> the accounts they may book to
TRADERS = {"t1": ("A1", "A2"), "t2": ("A2", "A3"), "t3": ("A3",)}
DESKS = {"A1": "D1", "A2": "D1", "A3": "D2"}
LEVELS = (
    FIRM,
    Scope(Level.DESK, "D1"),
    Scope(Level.DESK, "D2"),
    *(Scope(Level.ACCOUNT, a) for a in DESKS),
    *(Scope(Level.TRADER, t) for t in TRADERS),
)
LIMITS = ("max_position_size", "max_daily_volume", "max_net_exposure", "max_gross_exposure", "credit_limit")
LIVE = {
    OrderStatus.APPROVED,
    OrderStatus.EXECUTING,
    OrderStatus.WORKING,
    OrderStatus.PARTIALLY_FILLED,
    OrderStatus.PENDING_CANCEL,
    OrderStatus.UNKNOWN,
}
ZERO = Decimal(0)

amounts = st.integers(3_000, 200_000).map(str)
level_limits = st.fixed_dictionaries({}, optional={name: amounts for name in LIMITS})
submits = st.tuples(
    st.just("submit"),
    st.sampled_from(sorted(TRADERS)),
    st.integers(0, 1),
    st.sampled_from(SYMBOLS),
    st.sampled_from((Side.BUY, Side.SELL)),
    st.integers(1, 60),
    st.sampled_from(("98", "99", "100", "101", "102")),
)
cancels = st.tuples(st.just("cancel"), st.integers(0, 1_000))
marks = st.tuples(st.just("mark"), st.sampled_from(SYMBOLS), st.sampled_from(("95", "100", "105")))


def floor(h: Harness, limits: dict[Scope, dict[str, str]]) -> None:
    admin = RISK
    for desk in ("D1", "D2"):
        h.core.accounts.upsert_desk(UpsertDesk(actor=admin, desk_id=desk, name=desk, reason="t"), h.now_us)
    for account, desk in DESKS.items():
        command = UpsertAccount(actor=admin, account_id=account, desk_id=desk, name=account, kind=None, reason="t")
        h.core.accounts.upsert_account(command, h.now_us)
    for trader, accounts in TRADERS.items():
        command = EntitleTrader(
            actor=admin, user_id=f"u-{trader}", username=trader, accounts=accounts, default_account="", reason="t"
        )
        h.core.accounts.entitle(command, h.now_us)
    for symbol in SYMBOLS:
        mark(h, symbol, "100")
    for scope, amounts_ in limits.items():
        if amounts_:
            h.core.controls.update_limits(
                UpdateRiskLimits(actor=admin, amounts=amounts_, reason="t", scope=scope), h.now_us
            )


def mark(h: Harness, symbol: str, price: str) -> None:
    h.core.reference.record_mark(
        RecordMark(mark=Mark(symbol=symbol, price=Decimal(price), priced_us=h.now_us)), h.now_us
    )


def figures(h: Harness, scope: Scope) -> dict[str, dict[str, Decimal] | Decimal]:
    """Every figure of one level, recomputed from the orders, their fills and the marks."""
    state = h.core.state
    held: dict[str, int] = dict.fromkeys(SYMBOLS, 0)
    buys: dict[str, int] = dict.fromkeys(SYMBOLS, 0)
    sells: dict[str, int] = dict.fromkeys(SYMBOLS, 0)
    volume = ZERO
    for order in state.order_list:
        if not scope.covers(order.desk, order.account, order.username, order.symbol):
            continue
        for fill in order.fills:
            held[order.symbol] += order.side.sign * fill.quantity
            volume += fill.quantity * fill.price
        if order.status in LIVE:
            left = order.quantity - order.filled_quantity
            assert order.reserved_price is not None
            volume += left * order.reserved_price
            (buys if order.side is Side.BUY else sells)[order.symbol] += left
    prices = {s: state.marks[s].price for s in SYMBOLS}
    longs = {s: held[s] + buys[s] for s in SYMBOLS}
    shorts = {s: held[s] - sells[s] for s in SYMBOLS}
    high = sum((longs[s] * prices[s] for s in SYMBOLS), ZERO)
    low = sum((shorts[s] * prices[s] for s in SYMBOLS), ZERO)
    return {
        "max_position_size": {s: max(abs(longs[s]), abs(shorts[s])) * prices[s] for s in SYMBOLS},
        "max_daily_volume": volume,
        "max_net_exposure": max(abs(high), abs(low)),
        "max_gross_exposure": sum((max(abs(longs[s]), abs(shorts[s])) * prices[s] for s in SYMBOLS), ZERO),
        "credit_limit": sum(((max(longs[s], 0) + max(-shorts[s], 0)) * prices[s] for s in SYMBOLS), ZERO),
    }


def assert_within(h: Harness, order: Order) -> None:
    for scope in levels_of(order.desk, order.account, order.username):
        engine = h.core.state.risk.known(scope)
        assert engine is not None
        found = figures(h, scope)
        for name in LIMITS:
            limit = getattr(engine.limits, name)
            figure = found[name]
            value = figure[order.symbol] if isinstance(figure, dict) else figure  # the symbol it touched
            assert value <= limit, (str(scope), name, value, limit)


@settings(max_examples=150, deadline=None, database=None)
@given(
    limits=st.fixed_dictionaries({scope: level_limits for scope in LEVELS}),
    operations=st.lists(st.one_of(submits, submits, submits, cancels, marks), min_size=5, max_size=30),
)
def test_no_approval_takes_any_level_of_the_order_beyond_a_limit(
    limits: dict[Scope, dict[str, str]], operations: list[tuple]
) -> None:
    # Arrange
    h = open_harness("internal")
    floor(h, limits)
    approved = 0

    for operation in operations:
        h.advance(1_000)
        if operation[0] == "submit":
            # Act
            _, trader, pick, symbol, side, quantity, price = operation
            accounts = TRADERS[trader]
            command = SubmitOrder(
                actor=actor(f"u-{trader}", trader),
                symbol=symbol,
                side=side,
                quantity=quantity,
                price=price,
                account=accounts[pick % len(accounts)],
            )
            order, _ = h.core.orders.submit(command, h.now_us)

            # Assert
            if order.status is not OrderStatus.REJECTED:
                approved += 1
                assert_within(h, order)
        elif operation[0] == "cancel":
            live = [o for o in h.core.state.order_list if o.status in LIVE]
            if live:
                target = live[operation[1] % len(live)]
                h.core.orders.cancel(CancelOrder(actor=RISK, order_id=target.order_id), h.now_us)
        else:
            mark(h, operation[1], operation[2])
