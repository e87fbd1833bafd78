"""The internal venue replays: a fresh core folding the stored log rebuilds the live books, orders
and risk exactly.

The live path runs each book operation once, in the command, and hands its result to the fold;
a replay has no command and runs the operation again when it folds ORDER_ACCEPTED or
ORDER_AMENDED. The two agree only if the book is deterministic and the fills, cancellations and
expiries recorded as events are exactly what the operation did. So: random command sequences
(LIMIT and MARKET orders of every time in force and self-trade prevention mode, from three users
over two symbols, on a small price grid so they cross; cancels and amendments of random orders;
day rolls; the kill switch), with invariants checked after every command (no crossed book,
quantities that add up, trades with two matching sides, reservations equal to what rests), a
follower core folding the stored log as it grows, and a fresh replay at the end.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from itirp.core.protos import SIDE_PROTO
from itirp.core.recorder import Committed
from itirp.core.sequencer import Sequencer
from itirp.domain.book import LevelChange
from itirp.domain.orders import (
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from itirp.errors import FailedPrecondition, InvalidArgument
from itirp.events import decode_payload
from itirp.store import StoredEvent

from .harness import DAY, SECOND, Harness, actor, open_harness

if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:  # keep ./.hypothesis out of the checkout
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "itirp-hypothesis")

SYMBOLS = ["AAPL", "MSFT"]
USERS = ["u-1", "u-2", "u-3"]
PRICES = ["99.98", "99.99", "100.00", "100.01", "100.02"]
ORDER_TYPES = [OrderType.LIMIT, OrderType.LIMIT, OrderType.LIMIT, OrderType.MARKET]
#: Resting orders more often than not, so later orders find a book to cross.
TIFS = [TimeInForce.GTC] * 3 + [TimeInForce.DAY] * 2 + [TimeInForce.IOC, TimeInForce.FOK]
STPS = list(SelfTradePrevention)
BIG = 20_000  # x 100 = 2,000,000: above the default position limit, so rejected
ADVANCES = [SECOND, 3600 * SECOND, 6 * 3600 * SECOND]  # the last one crosses midnight now and then

LIVE = (OrderStatus.WORKING, OrderStatus.PARTIALLY_FILLED)
#: The internal venue's events; a long run must record every one of them.
VENUE_EVENT_TYPES = {
    "ORDER_CREATED", "RISK_CHECK_STARTED", "RISK_CHECK_PASSED", "RISK_CHECK_FAILED", "ORDER_ACCEPTED",
    "ORDER_FILLED", "ORDER_CANCELLED", "ORDER_AMENDED", "ORDER_EXPIRED", "DAILY_VOLUME_RESET",
}  # fmt: skip

Command = tuple

pick = st.integers(0, 10_000)
commands = st.one_of(
    st.tuples(
        st.just("submit"),
        st.sampled_from(USERS),
        st.sampled_from(SYMBOLS),
        st.sampled_from(["BUY", "SELL"]),
        st.one_of(st.integers(1, 150), st.integers(1, 150), st.just(BIG)),
        st.sampled_from(PRICES),
        st.sampled_from(ORDER_TYPES),
        st.sampled_from(TIFS),
        st.sampled_from(STPS),
    ),
    st.tuples(st.just("cancel"), pick),
    st.tuples(st.just("amend"), pick, st.integers(0, 200), st.one_of(st.none(), st.sampled_from(PRICES))),
    st.tuples(st.just("advance"), st.sampled_from(ADVANCES)),
    st.tuples(st.just("roll_day")),
    st.tuples(st.just("kill"), st.sampled_from([False, False, False, True])),
)


def random_command(rng: random.Random) -> Command:
    """The same command shapes from a seeded `random.Random`, for long deterministic sessions."""
    kind = rng.choices(["submit", "cancel", "amend", "advance", "roll_day", "kill"], weights=[14, 2, 3, 2, 1, 1])[0]
    if kind == "submit":
        return (
            kind,
            rng.choice(USERS),
            rng.choice(SYMBOLS),
            rng.choice(["BUY", "SELL"]),
            rng.randint(1, 150) if rng.random() < 0.97 else BIG,
            rng.choice(PRICES),
            rng.choice(ORDER_TYPES),
            rng.choice(TIFS),
            rng.choice(STPS),
        )
    if kind == "cancel":
        return (kind, rng.randrange(10_000))
    if kind == "amend":
        return (kind, rng.randrange(10_000), rng.randint(0, 200), rng.choice([None, *PRICES]))
    if kind == "advance":
        return (kind, rng.choice(ADVANCES))
    if kind == "kill":
        return (kind, rng.random() < 0.15)
    return (kind,)


def payload(event: StoredEvent) -> Message:
    return decode_payload(event.event_type, event.schema_version, event.payload)


# ---------------------------------------------------------------------------------------------
# A shadow of every order's quantities, kept from the events alone
# ---------------------------------------------------------------------------------------------


class Shadow:
    """Quantities per order from the events; checks each event against what came before it."""

    def __init__(self) -> None:
        self.quantity: dict[str, int] = {}
        self.filled: dict[str, int] = {}
        self.closed: dict[str, int] = {}  # cancelled or expired
        self.limit: dict[str, Decimal | None] = {}
        self.side: dict[str, int] = {}
        self.symbol: dict[str, str] = {}

    def feed(self, events: list[StoredEvent]) -> None:
        trades: dict[str, list[tuple[StoredEvent, Message]]] = defaultdict(list)
        for event in events:
            p = payload(event)
            order_id, kind = event.order_id, event.event_type
            if kind == "ORDER_CREATED":
                self.quantity[order_id], self.filled[order_id] = p.quantity, 0  # type: ignore[attr-defined]
                self.limit[order_id] = Decimal(p.price) if p.price else None  # type: ignore[attr-defined]
                self.side[order_id] = 1 if p.side == SIDE_PROTO[Side.BUY] else -1  # type: ignore[attr-defined]
                self.symbol[order_id] = p.symbol  # type: ignore[attr-defined]
            elif kind == "ORDER_AMENDED":
                assert p.open_quantity == p.quantity - self.filled[order_id] > 0  # type: ignore[attr-defined]
                self.quantity[order_id] = p.quantity  # type: ignore[attr-defined]
                self.limit[order_id] = Decimal(p.price)  # type: ignore[attr-defined]
            elif kind == "ORDER_FILLED":
                self.filled[order_id] += p.quantity  # type: ignore[attr-defined]
                assert p.quantity > 0  # type: ignore[attr-defined]
                assert p.remaining_quantity == self.quantity[order_id] - self.filled[order_id] >= 0  # type: ignore[attr-defined]
                trades[p.trade_id].append((event, p))  # type: ignore[attr-defined]
            elif kind in ("ORDER_CANCELLED", "ORDER_EXPIRED"):
                assert p.quantity == self.quantity[order_id] - self.filled[order_id] > 0  # type: ignore[attr-defined]
                self.closed[order_id] = p.quantity  # type: ignore[attr-defined]
        for trade_id, legs in trades.items():
            self._check_trade(trade_id, legs)

    def _check_trade(self, trade_id: str, legs: list[tuple[StoredEvent, Message]]) -> None:
        """Two legs in the same command: one taker, one maker, same size and price, opposite
        sides, each naming the other; at the maker's limit, within the taker's."""
        assert len(legs) == 2, f"trade {trade_id} has {len(legs)} legs"
        (e_taker, taker), (e_maker, maker) = legs
        assert (taker.aggressor, maker.aggressor) == (True, False)  # type: ignore[attr-defined]
        assert (taker.quantity, taker.price) == (maker.quantity, maker.price)  # type: ignore[attr-defined]
        assert (taker.contra_order_id, maker.contra_order_id) == (e_maker.order_id, e_taker.order_id)  # type: ignore[attr-defined]
        assert self.side[e_taker.order_id] == -self.side[e_maker.order_id]
        assert self.symbol[e_taker.order_id] == self.symbol[e_maker.order_id] == e_taker.symbol
        price = Decimal(taker.price)  # type: ignore[attr-defined]
        assert price == self.limit[e_maker.order_id]
        limit = self.limit[e_taker.order_id]
        if limit is not None:  # a limit order never trades through its limit
            assert (price - limit) * self.side[e_taker.order_id] <= 0


# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------


class Driver:
    def __init__(self, h: Harness) -> None:
        self.h = h
        self.core = h.core
        self.shadow = Shadow()
        self.n = 0

    def play(self, command: Command) -> Committed | None:
        self.n += 1
        if command[0] in ("submit", "amend"):
            # A submit or amend first rolls a due day (their own scenario tests cover that); done
            # here, as the server's timer would, so that a refusal below really records nothing.
            self.core.orders.roll_day(self.h.now_us)
        return getattr(self, f"_{command[0]}")(*command[1:])  # type: ignore[no-any-return]

    def _unchanged(self) -> tuple:
        core = self.core
        return (
            core.queries.last_applied,
            {s: b.snapshot() for s, b in core.matching.books.items()},
            core.queries.metrics(),
            [(o.status, o.quantity, o.filled_quantity, o.price) for o in core.state.order_list],
        )

    def _submit(
        self, user: str, symbol: str, side: str, quantity: int, price: str, order_type: OrderType,
        tif: TimeInForce, stp: SelfTradePrevention,
    ) -> Committed | None:  # fmt: skip
        market = order_type is OrderType.MARKET
        try:
            order, committed = self.h.submit(
                user_id=user, username=user, symbol=symbol, side=Side(side), quantity=quantity,
                price="" if market else price, order_type=order_type, time_in_force=tif, stp=stp,
            )  # fmt: skip
        except FailedPrecondition:
            # only a MARKET order with nothing to trade against is refused, before anything is recorded:
            # the opposite side is empty, or holds only the user's own orders (CANCEL_RESTING would
            # cancel them), or begins with one (CANCEL_INCOMING/CANCEL_BOTH would stop there)
            assert market
            book = self.core.matching.books.get(symbol)
            bids, asks = book.snapshot() if book is not None else ((), ())
            queue = [oid for _, level in (asks if side == "BUY" else bids) for oid, _ in level]
            owners = [self.core.state.orders[oid].user_id for oid in queue]
            if stp is SelfTradePrevention.CANCEL_RESTING:
                assert all(owner == user for owner in owners)
            else:
                assert not owners or owners[0] == user
            return None
        assert order.status in (*LIVE, OrderStatus.EXECUTED, OrderStatus.CANCELLED, OrderStatus.REJECTED)
        if order.status is OrderStatus.REJECTED:
            assert order.order_id not in self.core.matching.books.get(symbol, ())
        if tif in (TimeInForce.IOC, TimeInForce.FOK) or market:
            assert order.status not in LIVE  # never rests
        if tif is TimeInForce.FOK and order.status is OrderStatus.CANCELLED:
            assert order.filled_quantity == 0  # all or nothing
        return committed

    def _cancel(self, k: int) -> Committed | None:
        orders = self.core.state.order_list
        if not orders:
            return None
        order = orders[k % len(orders)]
        if order.status in LIVE:
            _, committed = self.h.cancel(order.order_id, reason=f"r{self.n}")
            assert order.status is OrderStatus.CANCELLED
            assert order.order_id not in self.core.matching.books[order.symbol]
            return committed
        before = self._unchanged()
        try:
            self.h.cancel(order.order_id, reason=f"r{self.n}")
        except FailedPrecondition:
            assert self._unchanged() == before
            return None
        raise AssertionError(f"cancel of a {order.status.value} order was accepted")

    def _amend(self, k: int, quantity: int, price: str | None) -> Committed | None:
        live = [o for o in self.core.state.order_list if o.status in LIVE]
        if not live:
            return None
        order = live[k % len(live)]
        before = self._unchanged()
        old_price, old_open = order.price, order.remaining_quantity
        try:
            owner = actor(order.user_id, order.user_id, correlation_id=f"a{self.n}")
            _, priority_kept, committed = self.h.amend(order.order_id, quantity=quantity, price=price or "", by=owner)
        except (InvalidArgument, FailedPrecondition):
            assert self._unchanged() == before  # refused: nothing recorded, nothing moved
            return None
        (amended,) = [e for e in committed.events if e.event_type == "ORDER_AMENDED"]
        new_open = payload(amended).open_quantity  # type: ignore[attr-defined]
        same_price = price is None or Decimal(price) == old_price
        assert priority_kept == (same_price and new_open < old_open)  # only a smaller order keeps its place
        return committed

    def _advance(self, micros: int) -> None:
        self.h.advance(micros)

    def _roll_day(self) -> Committed | None:
        self.h.advance(DAY)
        committed = self.core.orders.roll_day(self.h.now_us)
        for symbol_book in self.core.matching.books.values():
            assert symbol_book.day_orders() == []  # every DAY order expired
        return committed

    def _kill(self, enabled: bool) -> Committed | None:
        return self.h.set_kill_switch(enabled, reason=f"k{self.n}")


# ---------------------------------------------------------------------------------------------
# Invariants and the comparison
# ---------------------------------------------------------------------------------------------


def assert_invariants(core: Sequencer, shadow: Shadow) -> None:
    orders, order_list = core.state.orders, core.state.order_list
    resting: dict[str, int] = {}
    exposure = Decimal(0)
    for symbol, book in core.matching.books.items():
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is None or ask is None or bid < ask, f"{symbol} book crossed: {bid} >= {ask}"
        for side in book.snapshot():
            for _, queue in side:
                for order_id, open_quantity in queue:
                    assert open_quantity > 0
                    resting[order_id] = open_quantity
                    exposure += open_quantity * orders[order_id].reserved_price  # type: ignore[operator]
    # the books hold exactly the live orders, each with what is left of it
    assert {o.order_id for o in order_list if o.status in LIVE} == set(resting)
    for order in order_list:
        oid = order.order_id
        assert (order.quantity, order.filled_quantity) == (shadow.quantity[oid], shadow.filled[oid])
        assert order.filled_quantity == sum(f.quantity for f in order.fills)
        if order.fills:
            notional = sum((f.quantity * f.price for f in order.fills), Decimal(0))
            assert order.average_fill_price == notional / order.filled_quantity
        status = order.status
        if status in LIVE:
            assert order.filled_quantity + order.remaining_quantity == order.quantity
            assert order.remaining_quantity == resting[oid]
            assert (status is OrderStatus.PARTIALLY_FILLED) == (order.filled_quantity > 0)
        elif status is OrderStatus.EXECUTED:
            assert order.filled_quantity == order.quantity
        elif status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            assert order.filled_quantity + shadow.closed[oid] == order.quantity
        else:
            assert status is OrderStatus.REJECTED, f"{oid} left {status.value} on the internal venue"
            assert order.filled_quantity == 0
        if status.terminal:
            assert order.remaining_quantity == 0
    # the reservations are exactly what rests
    assert core.queries.metrics().working_exposure == exposure


def assert_same_state(live_core: Sequencer, fresh_core: Sequencer) -> None:
    live, fresh = live_core.state, fresh_core.state
    assert fresh.last_applied == live.last_applied
    assert fresh.matching.books.keys() == live.matching.books.keys()
    for symbol, book in live.matching.books.items():
        assert fresh.matching.books[symbol].snapshot() == book.snapshot(), symbol
        assert fresh.matching.books[symbol].day_orders() == book.day_orders(), symbol
    assert fresh.order_list == live.order_list  # status, filled, fills, prices, messages, ...
    assert [o.remaining_quantity for o in fresh.order_list] == [o.remaining_quantity for o in live.order_list]
    assert {k: n for k, n in fresh.status_counts.items() if n} == {k: n for k, n in live.status_counts.items() if n}
    assert fresh.risk.metrics() == live.risk.metrics()
    assert fresh.risk.positions == live.risk.positions
    assert fresh.risk.positions_view() == live.risk.positions_view()
    assert fresh.realized_pnl == live.realized_pnl
    assert fresh.trading_day == live.trading_day
    for symbol in SYMBOLS:
        for side in ("BUY", "SELL"):
            probe = {"symbol": symbol, "side": side, "quantity": 100, "price": Decimal("100")}
            assert fresh.risk.check(**probe) == live.risk.check(**probe)  # type: ignore[arg-type]


def recorder(core: Sequencer) -> list[tuple[int, int, str, list[LevelChange]]]:
    calls: list[tuple[int, int, str, list[LevelChange]]] = []
    core.matching.on_book_change = lambda seq, ts, symbol, changes: calls.append((seq, ts, symbol, list(changes)))
    return calls


def run_and_replay(script: list[Command]) -> set[str]:
    """Play `script` checking invariants and a follower after each command, then replay the
    whole log into a fresh core and compare; returns the event types recorded."""
    h = open_harness("internal")
    driver = Driver(h)
    live_calls = recorder(h.core)
    follower = h.fresh_core()
    follower_calls = recorder(follower)
    for command in script:
        driver.play(command)
        # everything staged so far, a day roll before a refused command included
        new_events = h.events()[follower.queries.last_applied :]
        driver.shadow.feed(new_events)
        assert_invariants(h.core, driver.shadow)
        for event in new_events:
            follower.apply(event)
        assert_same_state(h.core, follower)
    assert follower_calls == live_calls

    stored = h.events()
    assert [e.sequence for e in stored] == list(range(1, h.core.queries.last_applied + 1))
    fresh = h.fresh_core()
    fresh_calls = recorder(fresh)
    for event in stored:
        fresh.apply(event)

    assert_same_state(h.core, fresh)
    assert fresh_calls == live_calls
    assert_invariants(fresh, driver.shadow)
    return {e.event_type for e in stored}


# ---------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=st.lists(commands, max_size=60))
def test_replaying_the_log_rebuilds_the_live_books_orders_and_risk(script: list[Command]) -> None:
    run_and_replay(script)


def test_long_seeded_sessions_replay_exactly_and_reach_every_internal_venue_event() -> None:
    # Arrange / Act / Assert: each session checks its invariants and the follower as it goes
    seen: set[str] = set()
    for seed in range(4):
        rng = random.Random(seed)
        seen |= run_and_replay([random_command(rng) for _ in range(250)])

    # Assert: the driver reaches every kind of event, so the comparisons mean something
    assert seen >= VENUE_EVENT_TYPES, f"never recorded: {sorted(VENUE_EVENT_TYPES - seen)}"


def test_an_empty_internal_log_replays_to_an_empty_core() -> None:
    assert run_and_replay([]) == set()
