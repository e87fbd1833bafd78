"""Properties of the order book over random order flows, and agreement with a slow reference.

Random flows of submits (every order type, time in force and STP mode, three users, prices on a
small grid so orders meet), cancels, amends and end-of-day expiries. After every operation:

* the book is not crossed (best bid < best ask);
* quantity is conserved, per order: submitted (amends included) = filled + cancelled + resting,
  where "cancelled" covers cancels, expiries, STP, IOC/MARKET remainders and killed FOKs;
* priority: the orders an incoming order touched (filled or STP-cancelled) are exactly the first
  ones of the opposite side in price-then-time order, fills at their own price, all but the last
  used up, and an order left with quantity (and not stopped by STP) took all crossing liquidity;
* each level is FIFO: arrival order, where an amend that loses priority counts as an arrival;
* depth aggregates equal the sums of the resting orders; `len` and `order()` agree with them;
* replaying the same operations into a fresh book gives equal results and an identical snapshot.

Then the same flows against `Reference`, a list of orders matched the obvious way (sort
everything that crosses, walk it), comparing every result and snapshot: once with a user per
order (STP can never fire) and once with three users (every STP mode in play).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from itirp.domain.book import (
    CANCEL_BOTH,
    CANCEL_INCOMING,
    CANCEL_RESTING,
    CANCELLED,
    FILLED,
    KILLED,
    RESTING,
    InvalidOrder,
    OrderBook,
    UnknownOrder,
)

# As in test_risk_properties: keep Hypothesis' cache out of the checkout.
if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "itirp-hypothesis")

TICK = Decimal("0.01")
USERS = ["ann", "ben", "cat"]
TIFS = ["GTC", "GTC", "DAY", "IOC", "FOK"]
STPS = [CANCEL_RESTING, CANCEL_INCOMING, CANCEL_BOTH]
prices = st.integers(9_996, 10_004).map(lambda ticks: Decimal(ticks) * TICK)  # 99.96 .. 100.04

submits = st.tuples(
    st.just("submit"),
    st.sampled_from(USERS),
    st.sampled_from(["BUY", "SELL"]),
    st.integers(1, 20),
    st.one_of(prices, prices, prices, st.none()),  # None: a MARKET order
    st.sampled_from(TIFS),
    st.sampled_from(STPS),
)
cancels = st.tuples(st.just("cancel"), st.integers(0, 1_000))
amends = st.tuples(
    st.just("amend"), st.integers(0, 1_000), st.one_of(st.none(), st.integers(1, 25)), st.one_of(st.none(), prices)
)
expiries = st.tuples(st.just("expire"))
flows = st.lists(st.one_of(submits, submits, submits, submits, cancels, amends, expiries), max_size=70)
SETTINGS = settings(max_examples=150, deadline=None)


def apply(book: OrderBook, op: tuple, ids: list[str], user_per_order: bool = False) -> object:
    """Run one generated operation; its result, or the exception type for a refused amend."""
    kind = op[0]
    if kind == "submit":
        _, user, side, quantity, price, tif, stp = op
        order_id = f"o{len(ids)}"
        ids.append(order_id)
        if user_per_order:
            user = f"u-{order_id}"
        order_type = "MARKET" if price is None else "LIMIT"
        return book.submit(order_id, user, side, quantity, price, order_type=order_type, time_in_force=tif, stp=stp)
    if kind == "cancel":
        return book.cancel(ids[op[1] % len(ids)]) if ids else None
    if kind == "amend":
        if not ids:
            return None
        try:
            return book.amend(ids[op[1] % len(ids)], quantity=op[2], price=op[3])
        except (UnknownOrder, InvalidOrder) as refused:
            return type(refused)
    return book.expire_day()


# --- the properties ---


@dataclass
class Ledger:
    """Per order: what was submitted and where it went, from the results alone."""

    submitted: dict[str, int] = field(default_factory=dict)
    filled: dict[str, int] = field(default_factory=dict)
    cancelled: dict[str, int] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    arrival: dict[str, int] = field(default_factory=dict)  # when it last joined the back of a level
    clock: int = 0

    def add(self, bucket: dict[str, int], order_id: str, quantity: int) -> None:
        bucket[order_id] = bucket.get(order_id, 0) + quantity


def queue_of(book: OrderBook, side: str) -> list[tuple[Decimal, str, int]]:
    """A side as one list in priority order: (price, order id, remaining)."""
    bids, asks = book.snapshot()
    return [(price, order_id, left) for price, orders in (bids if side == "BUY" else asks) for order_id, left in orders]


def check_priority(result, before_opposite: list, limit: Decimal | None, side: str) -> None:
    crossing = [
        entry
        for entry in before_opposite
        if limit is None or (entry[0] <= limit if side == "BUY" else entry[0] >= limit)
    ]
    fills = result.fills
    stp_ids = [c.order_id for c in result.self_trade_cancels]
    touched = {f.maker_order_id for f in fills} | set(stp_ids)
    assert len(touched) == len(fills) + len(stp_ids), "a maker touched twice"
    head = crossing[: len(touched)]
    assert {order_id for _, order_id, _ in head} == touched, "skipped a better or earlier order"
    expected_makers = [order_id for _, order_id, _ in head if order_id not in stp_ids]
    assert [f.maker_order_id for f in fills] == expected_makers
    by_id = {order_id: (price, left) for price, order_id, left in head}
    for fill in fills:
        price, left = by_id[fill.maker_order_id]
        assert fill.price == price, "a fill away from the maker's price"
        if fill.maker_order_id != head[-1][1]:
            assert fill.quantity == left, "an order behind was reached before this one was used up"
        assert 0 < fill.quantity <= left
    unfilled = result.resting_quantity + result.cancelled_quantity
    if result.reason != "SELF_TRADE" and result.status in (RESTING, CANCELLED) and unfilled:
        assert len(touched) == len(crossing), "left crossing liquidity behind"


def check_book(book: OrderBook, ledger: Ledger) -> None:
    bid, ask = book.best_bid(), book.best_ask()
    if bid is not None and ask is not None:
        assert bid < ask, f"crossed: {bid} >= {ask}"
    bids, asks = book.snapshot()
    depth_bids, depth_asks = book.depth(1_000)
    for levels, depth, better in ((bids, depth_bids, lambda a, b: a > b), (asks, depth_asks, lambda a, b: a < b)):
        assert [(price, sum(left for _, left in orders)) for price, orders in levels] == depth
        assert all(quantity > 0 for _, quantity in depth)
        assert all(better(a[0], b[0]) for a, b in pairwise(depth)), "depth not best first"
        for _, orders in levels:
            arrivals = [ledger.arrival[order_id] for order_id, _ in orders]
            assert arrivals == sorted(arrivals), "a level lost its FIFO order"
    assert (bids[0][0] if bids else None) == bid
    assert (asks[0][0] if asks else None) == ask
    resting = {order_id: left for levels in (bids, asks) for _, orders in levels for order_id, left in orders}
    assert len(book) == len(resting)
    for order_id, left in resting.items():
        assert book.order(order_id).remaining_quantity == left
    for order_id, submitted in ledger.submitted.items():
        accounted = ledger.filled.get(order_id, 0) + ledger.cancelled.get(order_id, 0) + resting.get(order_id, 0)
        assert accounted == submitted, f"{order_id}: submitted {submitted}, accounted {accounted}"


def record(ledger: Ledger, result, order_id: str, entered: bool) -> None:
    """Book a submit/amend result: fills (both sides), STP cancels, the incoming order's fate."""
    for fill in result.fills:
        ledger.add(ledger.filled, fill.taker_order_id, fill.quantity)
        ledger.add(ledger.filled, fill.maker_order_id, fill.quantity)
        assert ledger.users[fill.taker_order_id] != ledger.users[fill.maker_order_id], "a self-trade"
    for cancel in result.self_trade_cancels:
        ledger.add(ledger.cancelled, cancel.order_id, cancel.quantity)
    ledger.add(ledger.cancelled, order_id, result.cancelled_quantity)
    assert result.filled_quantity == sum(f.quantity for f in result.fills)
    if result.status == KILLED:
        assert result.fills == []
        assert result.self_trade_cancels == []
        assert result.level_changes == []
    if entered and result.status == RESTING:
        ledger.clock += 1
        ledger.arrival[order_id] = ledger.clock


@SETTINGS
@given(flows)
def test_invariants_hold_after_every_operation(operations: list[tuple]) -> None:
    book = OrderBook("PROP", tick_size=TICK)
    ledger = Ledger()
    ids: list[str] = []
    results = []
    for op in operations:
        kind = op[0]
        if kind == "submit":
            _, user, side, quantity, price, _, _ = op
            order_id = f"o{len(ids)}"
            ledger.users[order_id] = user
            ledger.submitted[order_id] = quantity
            opposite = queue_of(book, "SELL" if side == "BUY" else "BUY")
            result = apply(book, op, ids)
            check_priority(result, opposite, price, side)
            record(ledger, result, order_id, entered=True)
        elif kind == "amend" and ids:
            order_id = ids[op[1] % len(ids)]
            view = book.order(order_id)
            before = book.snapshot()
            opposite = queue_of(book, "SELL" if view and view.side == "BUY" else "BUY")
            result = apply(book, op, ids)
            if isinstance(result, type):  # refused: unknown order or nothing to amend
                assert book.snapshot() == before
                assert result is UnknownOrder if view is None else op[2] is None and op[3] is None
            else:
                new_quantity = view.remaining_quantity if op[2] is None else op[2]
                ledger.submitted[order_id] += new_quantity - view.remaining_quantity
                if op[3] is not None and op[3] != view.price:
                    check_priority(result, opposite, op[3], view.side)
                else:
                    assert result.fills == []
                    assert result.status == RESTING
                    assert result.priority_kept == (new_quantity <= view.remaining_quantity)
                record(ledger, result, order_id, entered=not result.priority_kept)
        elif kind == "cancel":
            result = apply(book, op, ids)
            if result is not None:
                ledger.add(ledger.cancelled, result.order_id, result.quantity)
        elif kind == "expire":
            lefts = {order_id: left for _, order_id, left in queue_of(book, "BUY") + queue_of(book, "SELL")}
            result = apply(book, op, ids)
            for order_id in result:
                ledger.add(ledger.cancelled, order_id, lefts[order_id])
            assert all(book.order(o) is None or book.order(o).time_in_force != "DAY" for o in ids)
        else:
            result = apply(book, op, ids)
        results.append(result)
        check_book(book, ledger)

    replayed = OrderBook("PROP", tick_size=TICK)
    replay_ids: list[str] = []
    assert [apply(replayed, op, replay_ids) for op in operations] == results
    assert replayed.snapshot() == book.snapshot()
    assert [replayed.order(o) for o in ids] == [book.order(o) for o in ids]


# --- against a slow reference ---


@dataclass
class RefOrder:
    order_id: str
    user: str
    side: str
    price: Decimal
    left: int
    tif: str
    stp: str
    seq: int
    day_seq: int


@dataclass
class Reference:
    """The obvious book: one list; to match, sort what crosses by (price, arrival) and walk it."""

    orders: list[RefOrder] = field(default_factory=list)
    clock: int = 0

    def _priority(self, order: RefOrder) -> tuple:
        return (order.price if order.side == "SELL" else -order.price, order.seq)

    def _match(self, order_id, user, side, quantity, price, tif, stp):
        def crosses(o: RefOrder) -> bool:
            return o.side != side and (price is None or (o.price <= price if side == "BUY" else o.price >= price))

        walk = sorted((o for o in self.orders if crosses(o)), key=self._priority)
        if tif == "FOK":
            available = 0
            for o in walk:
                if o.user == user:
                    if stp == CANCEL_RESTING:
                        continue
                    break
                available += o.left
            if available < quantity:
                return (KILLED, "FOK", 0, 0, quantity, [], [])
        left, fills, stp_ids, stopped = quantity, [], [], False
        for o in walk:
            if not left:
                break
            if o.user == user:
                if stp == CANCEL_INCOMING:
                    stopped = True
                    break
                self.orders.remove(o)
                stp_ids.append(o.order_id)
                if stp == CANCEL_BOTH:
                    stopped = True
                    break
                continue
            traded = min(left, o.left)
            fills.append((o.order_id, o.price, traded))
            o.left -= traded
            left -= traded
            if not o.left:
                self.orders.remove(o)
        filled = quantity - left
        if not left:
            return (FILLED, "", filled, 0, 0, fills, stp_ids)
        if stopped:
            return (CANCELLED, "SELF_TRADE", filled, 0, left, fills, stp_ids)
        if price is None:
            return (CANCELLED, "MARKET", filled, 0, left, fills, stp_ids)
        if tif in ("IOC", "FOK"):
            return (CANCELLED, "IOC", filled, 0, left, fills, stp_ids)
        self.clock += 1
        self.orders.append(RefOrder(order_id, user, side, price, left, tif, stp, self.clock, self.clock))
        return (RESTING, "", filled, left, 0, fills, stp_ids)

    def find(self, order_id: str) -> RefOrder | None:
        return next((o for o in self.orders if o.order_id == order_id), None)

    def submit(self, order_id, user, side, quantity, price, tif, stp):
        return self._match(order_id, user, side, quantity, price, tif, stp)

    def cancel(self, order_id):
        order = self.find(order_id)
        if order is None:
            return None
        self.orders.remove(order)
        return order.left

    def amend(self, order_id, quantity, price):
        order = self.find(order_id)
        if order is None:
            return UnknownOrder
        if quantity is None and price is None:
            return InvalidOrder
        quantity = order.left if quantity is None else quantity
        if price is None or price == order.price:
            if quantity > order.left:
                self.clock += 1
                order.seq = self.clock
            order.left = quantity
            return (RESTING, "", 0, quantity, 0, [], [])
        self.orders.remove(order)
        return self._match(order_id, order.user, order.side, quantity, price, order.tif, order.stp)

    def expire(self):
        day = sorted((o for o in self.orders if o.tif == "DAY"), key=lambda o: o.day_seq)
        for o in day:
            self.orders.remove(o)
        return [o.order_id for o in day]

    def snapshot(self):
        sides = []
        for side in ("BUY", "SELL"):
            levels: dict[Decimal, list] = {}
            for o in sorted((o for o in self.orders if o.side == side), key=self._priority):
                levels.setdefault(o.price, []).append((o.order_id, o.left))
            sides.append(tuple((price, tuple(orders)) for price, orders in levels.items()))
        return tuple(sides)


def summary(result) -> tuple:
    """A book result in the reference's shape."""
    return (
        result.status,
        result.reason,
        result.filled_quantity,
        result.resting_quantity,
        result.cancelled_quantity,
        [(f.maker_order_id, f.price, f.quantity) for f in result.fills],
        [c.order_id for c in result.self_trade_cancels],
    )


def compare_with_reference(operations: list[tuple], user_per_order: bool) -> None:
    book = OrderBook("REF", tick_size=TICK)
    reference = Reference()
    ids: list[str] = []
    for op in operations:
        kind = op[0]
        if kind == "submit":
            _, user, side, quantity, price, tif, stp = op
            order_id = f"o{len(ids)}"
            if user_per_order:
                user = f"u-{order_id}"
            expected = reference.submit(order_id, user, side, quantity, price, tif, stp)
            got = summary(apply(book, op, ids, user_per_order))
            assert got == expected
        elif kind == "cancel":
            if not ids:
                continue
            expected = reference.cancel(ids[op[1] % len(ids)])
            got = apply(book, op, ids)
            assert (None if got is None else got.quantity) == expected
        elif kind == "amend":
            if not ids:
                continue
            expected = reference.amend(ids[op[1] % len(ids)], op[2], op[3])
            got = apply(book, op, ids)
            assert (got if isinstance(got, type) else summary(got)) == expected
        else:
            assert apply(book, op, ids) == reference.expire()
        assert book.snapshot() == reference.snapshot()


@SETTINGS
@given(flows)
def test_same_fills_as_the_reference_without_self_trades(operations: list[tuple]) -> None:
    compare_with_reference(operations, user_per_order=True)


@SETTINGS
@given(flows)
def test_same_fills_as_the_reference_with_self_trade_prevention(operations: list[tuple]) -> None:
    compare_with_reference(operations, user_per_order=False)


def test_a_long_seeded_flow_agrees_with_the_reference() -> None:
    """One long flow (deep levels, compaction of cancelled entries, level sweeps), deterministic."""
    import random

    rng = random.Random(7)
    operations: list[tuple] = []
    for _ in range(4_000):
        roll = rng.random()
        if roll < 0.55:
            price = None if rng.random() < 0.03 else Decimal(rng.randint(9_990, 10_010)) * TICK
            side, quantity = rng.choice(["BUY", "SELL"]), rng.randint(1, 30)
            operations.append(("submit", rng.choice(USERS), side, quantity, price, rng.choice(TIFS), rng.choice(STPS)))
        elif roll < 0.85:
            operations.append(("cancel", rng.randrange(1_000_000)))
        elif roll < 0.98:
            operations.append(("amend", rng.randrange(1_000_000), rng.choice([None, rng.randint(1, 30)]), None))
        else:
            operations.append(("expire",))
    compare_with_reference(operations, user_per_order=False)
