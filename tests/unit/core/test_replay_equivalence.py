"""Replay equivalence: the state a core builds live equals the fold of the events it stored.

The live path applies each command's events as it mints them; a restart folds the stored log
through the same `apply`. If the two ever disagreed, a restart would silently change orders,
positions, limits or the breaker. So: drive a core through a random sequence of commands
(submits that pass and fail, duplicates, cancels allowed, pending and refused, execution attempts
that fill whole or in part, rest, fail, retry, get rejected, go UNKNOWN, get cancelled at the
venue or found missing there, interleaved across orders so the breaker opens, probes and closes;
limit updates, the kill switch, clock jumps and day rolls), wait until every event is staged,
fold the stored log into a fresh core, and compare everything.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from itirp.core.execution import AT_VENUE
from itirp.core.recorder import Committed
from itirp.core.sequencer import Sequencer
from itirp.domain.orders import OrderStatus, Side, Trigger
from itirp.domain.venue import ExecutionReport, Fill, VenueOrderState
from itirp.errors import AlreadyExists, FailedPrecondition
from itirp.events import EVENT_TYPES

from .harness import DAY, SECOND, Harness, open_harness

if "HYPOTHESIS_STORAGE_DIRECTORY" not in os.environ:  # keep ./.hypothesis out of the checkout
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "itirp-hypothesis")

SYMBOLS = ["AAPL", "MSFT", "TSLA", "BRK.B"]
PRICES = ["0.5", "10", "150.25", "999.9999", "2500"]
USERS = ["u-1", "u-2"]
LIMIT_FIELDS = ["max_position_size", "max_daily_volume", "max_net_exposure", "max_gross_exposure"]
AMOUNTS = ["100000", "1000000", "5000000", "15000000", "50000000"]
OUTCOMES = [
    "fill",
    "fill",
    "partial",
    "rest",
    "cancelled",
    "transient",
    "transient",
    "transient",
    "transient",
    "transient",
    "permanent",
    "reject",
    "no_record",
    "unreachable",
]
FILL_PRICE_FACTORS = ["1", "1.1", "0.9"]
ADVANCES = [1, SECOND, 11 * SECOND, 3600 * SECOND, DAY]
MAX_ATTEMPTS = 3

#: Every event type the trading core records (the others are authentication events).
TRADING_EVENT_TYPES = {
    "ORDER_CREATED", "RISK_CHECK_STARTED", "RISK_CHECK_PASSED", "RISK_CHECK_FAILED",
    "EXECUTION_STARTED", "EXECUTION_RETRIED", "EXECUTION_FAILED", "ORDER_ACCEPTED", "ORDER_FILLED",
    "ORDER_CANCEL_REQUESTED", "ORDER_STATUS_UNKNOWN", "ORDER_CANCELLED", "CIRCUIT_BREAKER_OPENED",
    "CIRCUIT_BREAKER_HALF_OPENED",
    "CIRCUIT_BREAKER_CLOSED", "RISK_LIMITS_UPDATED", "KILL_SWITCH_ACTIVATED",
    "KILL_SWITCH_DEACTIVATED", "DAILY_VOLUME_RESET",
}  # fmt: skip

Command = tuple  # ("submit", ...), ("cancel", k), ...


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------

pick = st.integers(0, 10_000)
commands = st.one_of(
    st.tuples(
        st.just("submit"),
        st.sampled_from(USERS),
        st.sampled_from(SYMBOLS),
        st.sampled_from(["BUY", "SELL"]),
        st.one_of(st.integers(1, 500), st.integers(1_000, 20_000)),
        st.sampled_from(PRICES),
        st.booleans(),
    ),
    st.tuples(st.just("duplicate"), pick),
    st.tuples(st.just("cancel"), pick),
    st.tuples(st.just("start"), pick),
    st.tuples(st.just("start"), pick),
    st.tuples(st.just("outcome"), pick, st.sampled_from(OUTCOMES), st.sampled_from(FILL_PRICE_FACTORS)),
    st.tuples(st.just("outcome"), pick, st.sampled_from(OUTCOMES), st.sampled_from(FILL_PRICE_FACTORS)),
    st.tuples(st.just("limits"), st.sampled_from(LIMIT_FIELDS), st.sampled_from(AMOUNTS)),
    st.tuples(st.just("kill"), st.booleans()),
    st.tuples(st.just("advance"), st.sampled_from(ADVANCES)),
    st.tuples(st.just("roll_day")),
)


def random_command(rng: random.Random) -> Command:
    """The same command shapes, from a seeded `random.Random` (for long deterministic runs)."""
    kind = rng.choices(
        ["submit", "duplicate", "cancel", "start", "outcome", "limits", "kill", "advance", "roll_day"],
        weights=[6, 1, 2, 4, 4, 1, 1, 2, 1],
    )[0]
    if kind == "submit":
        quantity = rng.randint(1, 500) if rng.random() < 0.9 else rng.randint(1_000, 20_000)
        return (
            kind,
            rng.choice(USERS),
            rng.choice(SYMBOLS),
            rng.choice(["BUY", "SELL"]),
            quantity,
            rng.choice(PRICES),
            rng.random() < 0.5,
        )
    if kind in ("duplicate", "cancel", "start"):
        return (kind, rng.randrange(10_000))
    if kind == "outcome":
        return (kind, rng.randrange(10_000), rng.choice(OUTCOMES), rng.choice(FILL_PRICE_FACTORS))
    if kind == "limits":
        return (kind, rng.choice(LIMIT_FIELDS), rng.choice(AMOUNTS))
    if kind == "kill":
        return (kind, rng.random() < 0.4)
    if kind == "advance":
        return (kind, rng.choice(ADVANCES))
    return (kind,)


# ---------------------------------------------------------------------------------------------
# The driver: plays commands against a live core the way the services and the executor do
# ---------------------------------------------------------------------------------------------


class Driver:
    def __init__(self, h: Harness) -> None:
        self.h = h
        self.core = h.core
        self.committed = 0  # commands that recorded something
        self.attempts: dict[str, int] = {}  # order -> last attempt started
        self.in_flight: list[str] = []  # orders with an attempt at the venue
        self.n = 0

    def _ok(self, committed: Committed | None) -> None:
        if committed is not None:
            assert committed.events
            self.committed += 1

    def play(self, command: Command) -> None:
        self.n += 1
        getattr(self, f"_{command[0]}")(*command[1:])

    def _submit(self, user: str, symbol: str, side: str, quantity: int, price: str, with_id: bool) -> None:
        order, committed = self.h.submit(
            user_id=user,
            username=user.replace("-", ""),
            symbol=symbol,
            side=Side(side),
            quantity=quantity,
            price=price,
            client_order_id=f"cid-{self.n}" if with_id else "",
        )
        assert order.status in (OrderStatus.APPROVED, OrderStatus.REJECTED)
        self._ok(committed)

    def _duplicate(self, k: int) -> None:
        used = sorted(self.core.state.client_order_ids.items())
        if not used:
            return
        (user, cid), order_id = used[k % len(used)]
        head = self.core.queries.last_applied
        with pytest.raises(AlreadyExists, match=order_id):
            self.h.submit(user_id=user, client_order_id=cid)
        assert self.core.queries.last_applied == head

    def _cancel(self, k: int) -> None:
        orders = self.core.state.order_list
        if not orders:
            return
        order = orders[k % len(orders)]
        if order.venue and order.can(Trigger.ORDER_CANCEL_REQUESTED):
            _, committed = self.h.cancel(order.order_id, reason=f"r{self.n}")
            assert order.status is OrderStatus.PENDING_CANCEL
            self._ok(committed)
        elif order.status is OrderStatus.PENDING_CANCEL:
            _, repeated = self.h.cancel(order.order_id, reason=f"r{self.n}")
            assert repeated is None
        elif order.can(Trigger.ORDER_CANCELLED):
            _, committed = self.h.cancel(order.order_id, reason=f"r{self.n}")
            assert order.status is OrderStatus.CANCELLED
            self._ok(committed)
        else:
            status, head = order.status, self.core.queries.last_applied
            with pytest.raises(FailedPrecondition):
                self.h.cancel(order.order_id, reason=f"r{self.n}")
            assert (order.status, self.core.queries.last_applied) == (status, head)

    def _start(self, k: int) -> None:
        ready = [
            o.order_id
            for o in self.core.state.order_list
            if o.status is OrderStatus.APPROVED
            or (o.status is OrderStatus.EXECUTING and o.order_id not in self.in_flight)
        ]
        if not ready:
            return
        order_id = ready[k % len(ready)]
        attempt = self.attempts.get(order_id, 0) + 1
        go, committed = self.core.execution.begin_attempt(order_id, attempt, "sim", self.h.now_us)
        self._ok(committed)
        if go:
            self.attempts[order_id] = attempt
            self.in_flight.append(order_id)
        else:
            assert self.core.state.orders[order_id].status in (OrderStatus.FAILED, OrderStatus.UNKNOWN)

    def _report(self, order_id: str, state: VenueOrderState, new: int, factor: str, reason: str = "") -> None:
        """The venue's whole report of the order: its fills so far, `new` more filled."""
        order = self.core.state.orders[order_id]
        assert order.price is not None
        fills = [Fill(f.quantity, f.price, f.trade_id, f.aggressor) for f in order.fills]
        if new:
            fills.append(Fill(new, order.price * Decimal(factor), f"x-{self.n}", self.n % 2 == 0))
        report = ExecutionReport(order_id, state, tuple(fills), reason)
        self._ok(self.core.execution.report(order_id, report, "sim", self.h.now_us, answered=self.n % 3 != 0))

    def _outcome(self, k: int, outcome: str, factor: str) -> None:
        at_venue = [o.order_id for o in self.core.state.order_list if o.status in AT_VENUE]
        if not at_venue:
            return
        order_id = at_venue[k % len(at_venue)]
        order = self.core.state.orders[order_id]
        steps = self.core.execution
        attempt, now = self.attempts.get(order_id, 1), self.h.now_us
        sent = order_id in self.in_flight
        if sent:
            self.in_flight.remove(order_id)
        remaining = order.quantity - order.filled_quantity
        if outcome == "fill":
            self._report(order_id, VenueOrderState.FILLED, remaining, factor)
        elif outcome == "partial":
            self._report(order_id, VenueOrderState.WORKING, remaining // 2, factor)
        elif outcome == "rest":
            self._report(order_id, VenueOrderState.WORKING, 0, factor)
        elif outcome == "cancelled":
            self._report(order_id, VenueOrderState.CANCELLED, 0, factor, reason="cancelled on request")
        elif outcome == "reject":
            self._report(order_id, VenueOrderState.REJECTED, 0, factor, reason="symbol halted")
        elif outcome == "transient" and (sent or order.status is OrderStatus.PENDING_CANCEL):
            _, committed = steps.attempt_failed(
                order_id, attempt, "connection reset", max_attempts=MAX_ATTEMPTS, retry_delay_ms=100, now_us=now
            )
            self._ok(committed)
        elif outcome == "permanent" and sent:
            self._ok(steps.rejected_by_venue(order_id, attempt, "symbol halted", now))
        elif outcome == "no_record":
            self._ok(steps.no_record(order_id, "sim", now))
        elif outcome == "unreachable":
            self._ok(steps.unreachable(order_id, "status query failed", now))

    def _limits(self, name: str, amount: str) -> None:
        self._ok(self.h.update_limits("adjust", **{name: amount}))

    def _kill(self, enabled: bool) -> None:
        self._ok(self.h.set_kill_switch(enabled, reason=f"k{self.n}"))

    def _advance(self, micros: int) -> None:
        self.h.advance(micros)

    def _roll_day(self) -> None:
        self._ok(self.core.orders.roll_day(self.h.now_us))


# ---------------------------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------------------------


def nonzero(counts: Counter[OrderStatus]) -> dict[OrderStatus, int]:
    return {status: n for status, n in counts.items() if n}


def assert_same_state(live_core: Sequencer, fresh_core: Sequencer) -> None:
    live, fresh = live_core.state, fresh_core.state
    assert fresh.last_applied == live.last_applied
    # orders: every field, in creation order, and every index over them
    assert fresh.order_list == live.order_list
    assert fresh.orders == live.orders
    assert {u: [o.order_id for o in os] for u, os in fresh.orders_by_user.items()} == {
        u: [o.order_id for o in os] for u, os in live.orders_by_user.items()
    }
    assert fresh.client_order_ids == live.client_order_ids
    assert nonzero(fresh.status_counts) == nonzero(live.status_counts)
    assert nonzero(live.status_counts) == Counter(o.status for o in live.order_list)
    # risk: figures, positions, limits, kill switch, and what the next order would be told
    assert fresh.risk.metrics() == live.risk.metrics()
    assert fresh.risk.positions_view() == live.risk.positions_view()
    assert fresh.risk.limits == live.risk.limits
    assert fresh.realized_pnl == live.realized_pnl
    for symbol in [*SYMBOLS, "NEW"]:
        for side in ("BUY", "SELL"):
            probe = {"symbol": symbol, "side": side, "quantity": 100, "price": Decimal("100")}
            assert fresh.risk.check(**probe) == live.risk.check(**probe)  # type: ignore[arg-type]
    assert (fresh.limits_updated_us, fresh.limits_updated_by) == (live.limits_updated_us, live.limits_updated_by)
    assert (fresh.kill_switch_reason, fresh.kill_switch_by) == (live.kill_switch_reason, live.kill_switch_by)
    assert fresh.trading_day == live.trading_day
    # the breaker
    fb, lb = fresh.breaker, live.breaker
    assert (fb.state, fb.consecutive_failures, fb.open_until_us, fb.probe_in_flight) == (
        lb.state,
        lb.consecutive_failures,
        lb.open_until_us,
        lb.probe_in_flight,
    )


def run_and_replay(script: list[Command]) -> set[str]:
    """Play `script`, replay the log into a fresh core, compare; returns the event types seen.

    A follower core also folds the log after every command and is compared with the live core
    each time, so a difference that a later event would paper over (a message, a deadline that a
    later close resets) is still caught at the step where it appears.
    """
    h = open_harness()
    driver = Driver(h)
    follower = h.fresh_core()
    for command in script:
        driver.play(command)
        for event in h.events()[follower.queries.last_applied :]:
            follower.apply(event)
        assert_same_state(h.core, follower)
    stored = h.events()
    assert [e.sequence for e in stored] == list(range(1, h.core.queries.last_applied + 1))

    fresh = h.replayed()

    assert_same_state(h.core, fresh)
    return {e.event_type for e in stored}


# ---------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, database=None)
@given(script=st.lists(commands, max_size=80))
def test_folding_the_stored_events_rebuilds_exactly_the_live_state(script: list[Command]) -> None:
    run_and_replay(script)


def test_long_seeded_sessions_replay_to_the_live_state_and_reach_every_trading_event() -> None:
    # Arrange / Act / Assert: each session compares live and replayed state as it goes
    seen: set[str] = set()
    for seed in range(8):
        rng = random.Random(seed)
        seen |= run_and_replay([random_command(rng) for _ in range(400)])

    # Assert: the driver really reaches every kind of event, so the comparison means something
    assert set(EVENT_TYPES) >= TRADING_EVENT_TYPES
    assert seen >= TRADING_EVENT_TYPES, f"never recorded: {sorted(TRADING_EVENT_TYPES - seen)}"


def test_an_empty_log_replays_to_an_empty_core() -> None:
    assert run_and_replay([]) == set()
